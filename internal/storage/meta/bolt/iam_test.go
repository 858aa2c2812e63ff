package bolt

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/iam/iamtest"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// openIAM returns a store whose database has the suite's accounts.
func openIAM(t *testing.T) *Store {
	t.Helper()
	s, _ := openTemp(t)
	for _, id := range []string{iamtest.Account, iamtest.OtherAccount} {
		if err := s.CreateAccount(t.Context(), &meta.Account{ID: id, Name: "acct-" + id, CreatedAt: time.Now()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestIAMConformance(t *testing.T) {
	iamtest.Run(t, func(t *testing.T) iam.Store { return openIAM(t).IAM() })
}

// IAM access keys are the keys SigV4 authentication reads: creating,
// deactivating, renaming the owner and deleting show through meta.Store.
func TestIAMKeysAreAuthenticationKeys(t *testing.T) {
	s := openIAM(t)
	ctx := t.Context()
	svc := &iam.Service{Store: s.IAM()}
	acct := iamtest.Account
	if _, err := svc.CreateUser(ctx, acct, iam.CreateUserInput{UserName: "alice"}); err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAccessKey(ctx, acct, "alice")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := s.GetAccessKey(ctx, k.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if mk.Secret != k.SecretAccessKey || mk.AccountID != acct || mk.UserName != "alice" || mk.Status != "Active" || !mk.CreatedAt.Equal(k.CreateDate) {
		t.Errorf("meta record %+v does not match the IAM key %+v", mk, k)
	}

	if err := svc.UpdateAccessKey(ctx, acct, "alice", k.AccessKeyID, iam.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if err := svc.UpdateUser(ctx, acct, "alice", "alicia", ""); err != nil {
		t.Fatal(err)
	}
	if mk, err = s.GetAccessKey(ctx, k.AccessKeyID); err != nil || mk.Status != "Inactive" || mk.UserName != "alicia" {
		t.Errorf("after deactivation and rename: %+v, %v", mk, err)
	}

	if err := svc.DeleteAccessKey(ctx, acct, "alicia", k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccessKey(ctx, k.AccessKeyID); !errors.Is(err, meta.ErrAccessKeyNotFound) {
		t.Errorf("deleted key still authenticates: %v", err)
	}
}

// The root's key made with the account (outside IAM) is listed and
// managed as the root's, and counts against the root's two keys.
func TestIAMRootKeys(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	acct := iamtest.Account
	root := &meta.AccessKey{ID: "AKIAROOTROOTROOTROOT", Secret: "s", Status: "Active", CreatedAt: time.Unix(1700000000, 0).UTC()}
	if err := s.CreateAccount(ctx, &meta.Account{ID: acct, Name: "a"}, root); err != nil {
		t.Fatal(err)
	}
	svc := &iam.Service{Store: s.IAM()}
	keys, err := svc.ListAccessKeys(ctx, acct, "", iam.ListOptions{})
	if err != nil || len(keys.Items) != 1 || keys.Items[0].AccessKeyID != root.ID {
		t.Fatalf("root keys: %+v, %v", keys.Items, err)
	}
	if _, err := svc.CreateAccessKey(ctx, acct, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAccessKey(ctx, acct, ""); !errors.Is(err, iam.ErrLimitExceeded) {
		t.Errorf("third root key: %v, want LimitExceeded", err)
	}
	if err := svc.RecordAccessKeyUse(ctx, acct, root.ID, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	k, err := svc.GetAccessKeyLastUsed(ctx, acct, root.ID)
	if err != nil || k.LastUsed == nil || k.LastUsed.ServiceName != "s3" {
		t.Errorf("root key last used: %+v, %v", k, err)
	}
	// Recording the use must not have changed what authentication reads.
	if mk, err := s.GetAccessKey(ctx, root.ID); err != nil || mk.Secret != "s" || mk.UserName != "" {
		t.Errorf("root key after recording its use: %+v, %v", mk, err)
	}
}

// IAM writes are durable and a database without IAM buckets (made before
// IAM existed) reads as empty.
func TestIAMReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.CreateAccount(ctx, &meta.Account{ID: iamtest.Account, Name: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	svc := &iam.Service{Store: s.IAM()}
	if page, err := svc.ListUsers(ctx, iamtest.Account, iam.ListOptions{}); err != nil || len(page.Items) != 0 {
		t.Fatalf("fresh database: %+v, %v", page, err)
	}
	if _, err := svc.CreateUser(ctx, iamtest.Account, iam.CreateUserInput{UserName: "alice", Path: "/p/"}); err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAccessKey(ctx, iamtest.Account, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc = &iam.Service{Store: s.IAM()}
	u, err := svc.GetUser(ctx, iamtest.Account, "ALICE")
	if err != nil || u.Path != "/p/" {
		t.Fatalf("after reopen: %+v, %v", u, err)
	}
	keys, err := svc.ListAccessKeys(ctx, iamtest.Account, "alice", iam.ListOptions{})
	if err != nil || len(keys.Items) != 1 || keys.Items[0].AccessKeyID != k.AccessKeyID {
		t.Fatalf("keys after reopen: %+v, %v", keys.Items, err)
	}
}

// A key id can only be written for an account that exists, since
// authentication resolves the key's account.
func TestIAMKeyNeedsAccount(t *testing.T) {
	s, _ := openTemp(t)
	err := s.IAM().Update(t.Context(), "999999999999", func(tx iam.Tx) error {
		return tx.PutAccessKey(&iam.AccessKey{AccessKeyID: "AKIANOACCOUNTNOACCT1", SecretAccessKey: "x", Status: "Active"})
	})
	if !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("key for a missing account: %v, want ErrNotFound", err)
	}
}
