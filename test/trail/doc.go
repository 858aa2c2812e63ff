// Package trail tests the CloudTrail trail end to end against the real
// coffer binary: record contents and secrets, the CloudTrail API driven by
// the aws CLI, delivery, digest validation (Coffer's and the AWS CLI's
// validators) after tampering, and crash recovery of delivery.
//
//	go test ./test/trail/
package trail
