// Package cse implements the object format of the Amazon S3 Encryption
// Client v2, so that objects encrypted by Coffer's client decrypt with the
// AWS clients and the other way round: AES-256-GCM content (12-byte IV,
// 128-bit tag appended), the metadata envelope (x-amz-key-v2, x-amz-iv,
// x-amz-cek-alg, x-amz-wrap-alg, x-amz-matdesc, x-amz-tag-len,
// x-amz-unencrypted-content-length) stored as user metadata or as a JSON
// instruction file, and the key wrappings kms+context, AES/GCM and
// RSA-OAEP-SHA1.
//
// Encryption and decryption stream: memory does not grow with the object.
// Because GCM authenticates only at the end of a message, decrypted data
// must go to a staging place (AtomicFile) that is discarded on failure.
//
// Legacy v1 objects (AES/CBC, x-amz-key), v3 key-committing objects
// (x-amz-3) and the legacy key wrappings are refused with ErrUnsupported.
//
// The package is pure: it talks to a KMS through the KMS interface and
// knows nothing of HTTP or storage.
package cse
