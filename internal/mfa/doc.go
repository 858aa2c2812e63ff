// Package mfa implements virtual MFA devices the way AWS IAM has them, for
// IAM (CreateVirtualMFADevice, EnableMFADevice, ResyncMFADevice), STS
// (SerialNumber + TokenCode) and S3 MFA Delete (the x-amz-mfa header).
//
// The package is pure: no HTTP, no storage, no clock of its own. Callers pass
// the current time and persist the Device state themselves.
//
// # Seeds, URIs and QR codes
//
// NewSecret makes a seed, Base32 renders it as CreateVirtualMFADevice's
// Base32StringSeed, URI builds the otpauth:// URI that the QRCodePNG encodes
// and QRCodePNG draws it. On the IAM wire both Base32StringSeed and QRCodePNG
// are blobs, so the XML carries base64 of the ASCII base32 string and base64
// of the PNG; that encoding is the API layer's job, not this package's.
//
// # Codes
//
// Codes are RFC 6238 TOTP with the defaults an otpauth URI without
// algorithm/digits/period parameters implies: HMAC-SHA1, 6 digits, 30-second
// steps counted from the Unix epoch. Code computes one; HOTP is the RFC 4226
// building block.
//
// # Verification and replay
//
// A Device is plain data: the seed, when it was enabled, the last time step
// accepted and a learned clock drift. Enable, Verify and Resync never mutate
// their receiver; they return the new state. The caller must store it with a
// compare-and-swap on LastStep (write only if the stored LastStep is still the
// one it read): two requests carrying the same code can otherwise both pass
// their check before either writes, and the one-time code would be used twice.
//
// Windows, in 30-second steps, relative to the server's step plus Drift:
//
//   - Verify: -1, 0, +1 (VerifyWindow), i.e. up to 30 s of skew either way
//     plus however long the user took to type the code.
//   - Enable: AuthenticationCode2 must be in the Verify window and
//     AuthenticationCode1 must be the step just before it.
//   - Resync: as Enable, but AuthenticationCode2 may be up to ResyncWindow
//     steps (10 minutes) away from the server's clock; the offset found
//     becomes the new Drift.
//
// Every accepted code must belong to a step after LastStep, so a code cannot
// be used twice and a code older than one already used is refused. AWS does
// not publish its windows; these are the conventional RFC 6238 choices.
//
// # Errors
//
// Bad codes are *Error values carrying AWS's error code and message
// (InvalidAuthenticationCode, "Authentication code for device is not valid.",
// HTTP 403 in IAM). ErrMalformedCode and ErrCodeReused wrap
// ErrInvalidAuthenticationCode, so errors.Is(err,
// ErrInvalidAuthenticationCode) is true for all of them while logs can still
// tell them apart. STS and S3 use their own wording for the same failures
// (STS: AccessDenied "MultiFactorAuthentication failed with invalid MFA one
// time pass code."), which their layers supply.
package mfa
