package iamapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/iam"
)

// TestSTSClient checks that aws-sdk-go-v2's STS client parses ServeSTS's
// responses and errors, through a minimal net/http adapter. (The SDK's
// IAM client is not a dependency of this module, so IAM responses are
// checked by the golden tests instead.)
func TestSTSClient(t *testing.T) {
	h := newHandler()
	u, err := h.IAM.CreateUser(context.Background(), acct, iam.CreateUserInput{UserName: "alice", Path: "/eng/"})
	if err != nil {
		t.Fatal(err)
	}
	const aliceKey = "AKIAALICEALICEALICE0"
	a := &adapter{h: h, keys: map[string]*authn.Principal{
		rootKeyID: root,
		aliceKey:  {Type: authn.TypeIAMUser, AccountID: acct, UserName: "alice", AccessKeyID: aliceKey},
	}}
	srv := httptest.NewServer(a)
	defer srv.Close()

	client := func(key string) *sts.Client {
		return sts.New(sts.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  credentials.NewStaticCredentialsProvider(key, rootSecret, ""),
			HTTPClient:   srv.Client(),
		})
	}
	ctx := t.Context()

	out, err := client(rootKeyID).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != "arn:aws:iam::111122223333:root" || aws.ToString(out.UserId) != acct || aws.ToString(out.Account) != acct {
		t.Errorf("root identity: %s %s %s", aws.ToString(out.Arn), aws.ToString(out.UserId), aws.ToString(out.Account))
	}

	out, err = client(aliceKey).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Arn) != u.ARN(acct) || aws.ToString(out.UserId) != u.UserID {
		t.Errorf("alice's identity: %s %s, want %s %s", aws.ToString(out.Arn), aws.ToString(out.UserId), u.ARN(acct), u.UserID)
	}

	// An unbuilt operation reaches the SDK as a modeled-looking API error.
	_, err = client(rootKeyID).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("session")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotImplemented" || apiErr.ErrorMessage() == "" {
		t.Errorf("GetFederationToken: %v, want a NotImplemented API error", err)
	}

	// Anonymous callers are refused with IAM's code.
	anon := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: aws.AnonymousCredentials{}})
	_, err = anon.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "MissingAuthenticationToken" {
		t.Errorf("anonymous GetCallerIdentity: %v", err)
	}
	for _, s := range a.services {
		if s != ServiceSTS && s != ServiceIAM {
			t.Errorf("request signed for service %q", s)
		}
	}
}
