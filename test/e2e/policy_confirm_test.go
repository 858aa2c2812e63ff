package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestConfirmRemoveSelfBucketAccess stores, with the confirmation header,
// a policy denying everyone the bucket-policy actions: the account's IAM
// users are then locked out of the policy, but the bucket owner's root
// keeps managing it, as AWS guarantees.
func TestConfirmRemoveSelfBucketAccess(t *testing.T) {
	s := newSuite(t)
	ctx := t.Context()
	b := s.mkBucket(t, "confirm-self")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",
		"Action":["s3:GetBucketPolicy","s3:PutBucketPolicy","s3:DeleteBucketPolicy"],"Resource":"arn:aws:s3:::confirm-self"}]}`
	_, err := s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(doc), ConfirmRemoveSelfBucketAccess: aws.Bool(true)})
	mustOK(t, err)

	ak, sk := s.iamUser(t, "admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	_, err = s.client(ak, sk).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(doc), ConfirmRemoveSelfBucketAccess: aws.Bool(true)})
	wantErr(t, err, "AccessDenied", 403)

	// The root is never locked out of its bucket's policy.
	_, err = s.s3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(b)})
	mustOK(t, err)
	_, err = s.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(doc), ConfirmRemoveSelfBucketAccess: aws.Bool(false)})
	mustOK(t, err)
	_, err = s.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(b)})
	mustOK(t, err)
}
