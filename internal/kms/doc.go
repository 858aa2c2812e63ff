// Package kms is Coffer's built-in key management service: the core of an
// AWS KMS-compatible service for symmetric keys, without the HTTP layer.
//
// A Service keeps, per account, KMS keys (metadata plus one or more
// versions of 32-byte AES key material) and aliases in a Store. Key
// material never reaches the Store in clear: it is sealed by a Sealer that
// holds the server's root key, and is bound (as AAD) to its account, key
// ID and version so a Store cannot swap material between keys.
//
// Operations follow AWS KMS: the same identifiers (key ID, key ARN, alias
// name, alias ARN), the same key states (Enabled, Disabled,
// PendingDeletion) and the same error codes, returned as *Error. Key
// policies are validated with the policy engine's strict parser and stored
// with keys, but not evaluated here: the Config.Authorize hook sees the
// resolved key (with the policy in force), the operation, the encryption
// context and the alias used of every operation before it has any effect.
//
// # Ciphertext blob format (version 1)
//
// Encrypt, GenerateDataKey and ReEncrypt return blobs laid out as
//
//	offset  size  field
//	0       1     format version, 0x01
//	1       1     length A of the account ID (1..255)
//	2       A     account ID (ASCII)
//	2+A     1     length K of the key ID (1..255)
//	3+A     K     key ID (ASCII, e.g. a UUID)
//	3+A+K   4     key material version, uint32 big-endian (first is 1)
//	7+A+K   12    random AES-GCM nonce
//	19+A+K  n+16  AES-256-GCM(material, nonce, plaintext, AAD) = ciphertext ‖ tag
//
// where AAD = header (bytes 0 .. 7+A+K, i.e. everything before the nonce)
// ‖ canonical(encryption context). The blob therefore names the key and
// material version (Decrypt needs no KeyId, and rotated keys keep
// decrypting old blobs), and any change to the header, nonce, ciphertext
// or context fails authentication, reported as InvalidCiphertextException.
//
// canonical(ctx) is uint32 BE count, then for each pair in byte-wise
// ascending key order: uint32 BE len(key) ‖ key ‖ uint32 BE len(value) ‖
// value. Length prefixes make the encoding injective ({"a":"bc"} and
// {"ab":"c"} differ), and a nil and an empty context are the same, as in
// AWS. A 4096-byte plaintext with a UUID key and 12-digit account gives a
// 4179-byte blob (55-byte header, 12-byte nonce, 16-byte tag), within AWS's 6144-byte CiphertextBlob limit.
package kms
