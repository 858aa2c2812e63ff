// Package cse tests Coffer's client-side encryption end to end: the real
// coffer binary serves S3 (and its KMS API), `coffer cse put|get` encrypts
// and decrypts, and the AWS SDK for Go's S3 Encryption Client
// (aws-sdk-go v1 s3crypto, the v2 format) proves that objects cross both
// ways. Run it with
//
//	go test ./test/cse/
package cse
