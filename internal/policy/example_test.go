package policy_test

import (
	"errors"
	"fmt"

	"github.com/coffer-io/coffer/internal/policy"
)

func Example() {
	bucketPolicy, err := policy.Parse([]byte(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
	     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos/public/*"},
	    {"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
	     "Resource": ["arn:aws:s3:::photos", "arn:aws:s3:::photos/*"],
	     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
	  ]
	}`), policy.Resource)
	if err != nil {
		panic(err)
	}
	in := &policy.Input{Resource: bucketPolicy}
	req := &policy.Request{
		Principal:       policy.Principal{Type: policy.Anonymous},
		Action:          "s3:GetObject",
		Resource:        "arn:aws:s3:::photos/public/cat.jpg",
		ResourceAccount: "111122223333",
		Context:         map[string][]string{"aws:SecureTransport": {"true"}},
	}
	d := policy.Evaluate(in, req)
	fmt.Println(d.Allowed, d.Reason, d.Statement)

	req.Context["aws:SecureTransport"] = []string{"false"}
	d = policy.Evaluate(in, req)
	fmt.Println(d.Allowed, d.Reason, d.Statement)

	fmt.Println("public:", bucketPolicy.IsPublic())
	// Output:
	// true AllowedByResource PublicRead
	// false ExplicitDeny TLSOnly
	// public: true
}

func ExampleParse() {
	_, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"*"}}`), policy.Identity)
	var pe *policy.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Code, "-", pe.Message)
	}
	// Output:
	// MalformedPolicyDocument - Policy document should not specify a principal.
}
