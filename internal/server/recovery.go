package server

// Offline root recovery: what an operator does with shell access to the
// data directory after losing an account root's access key or MFA device.
// AWS recovers a root through e-mail and phone; Coffer's equivalent is
// holding the data directory while no server runs (OpenDataDir refuses
// otherwise), so the recovery needs no credentials of its own. It touches
// only the root's IAM entities, never buckets, objects or Object Lock
// settings, and every run leaves an audit event.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/coffer-io/coffer/internal/fsutil"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Operations recorded by the recovery commands.
const (
	OpRotateRootAccessKey = "RotateRootAccessKey"
	OpResetRootMFADevice  = "ResetRootMFADevice"
)

// ErrNoRootMFA reports that ResetRootMFA found no MFA device enabled for
// the root.
var ErrNoRootMFA = errors.New("the account root has no MFA device enabled")

// Recovery performs offline root recovery on an opened data directory.
type Recovery struct {
	Stores *Stores
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

func (rc *Recovery) now() time.Time {
	if rc.Now != nil {
		return rc.Now().UTC()
	}
	return time.Now().UTC()
}

func (rc *Recovery) iam() *iam.Service {
	return &iam.Service{Store: rc.Stores.Meta.IAM(), Validate: validatePolicy, Now: rc.Now}
}

// account resolves an account by name or 12-digit id; "" is the default
// account.
func (rc *Recovery) account(ctx context.Context, ref string) (*meta.Account, error) {
	if ref == "" {
		ref = DefaultAccountName
	}
	a, err := rc.Stores.Meta.GetAccountByName(ctx, ref)
	if errors.Is(err, meta.ErrNotFound) {
		// Names and ids do not overlap in practice (a name may be all
		// digits, but then the name wins, as it was tried first).
		a, err = rc.Stores.Meta.GetAccount(ctx, ref)
	}
	if errors.Is(err, meta.ErrNotFound) {
		return nil, fmt.Errorf("no account named or numbered %q", ref)
	}
	return a, err
}

// RotateRootKey gives the root of account (name or id, "" for the
// default account) a new access key and deletes all its other keys. For
// the default account it also rewrites DIR/credentials, before the old
// keys go, so that a crash midway never leaves the file naming a key
// that no longer exists while the new one is unknown. Re-running after a
// crash finishes the job.
func (rc *Recovery) RotateRootKey(ctx context.Context, account string) (acct *meta.Account, key *iam.AccessKey, err error) {
	defer func() { err = rc.audit(OpRotateRootAccessKey, acct, key, err) }()
	acct, err = rc.account(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	svc := rc.iam()
	old, err := rootKeys(ctx, svc, acct.ID)
	if err != nil {
		return acct, nil, err
	}
	// Make room under the per-principal key quota (AWS's is 2): the
	// oldest keys go first; they are deleted below anyway.
	max := iam.DefaultQuotas.AccessKeys
	for len(old) >= max {
		if err := svc.DeleteAccessKey(ctx, acct.ID, "", old[0].AccessKeyID); err != nil {
			return acct, nil, err
		}
		old = old[1:]
	}
	key, err = svc.CreateAccessKey(ctx, acct.ID, "")
	if err != nil {
		return acct, nil, err
	}
	if acct.Name == DefaultAccountName {
		mk := &meta.AccessKey{ID: key.AccessKeyID, Secret: key.SecretAccessKey}
		path := filepath.Join(rc.Stores.Dir, "credentials")
		if err := fsutil.WriteFileAtomic(path, []byte(CredentialsSection("default", mk)), 0o600); err != nil {
			return acct, key, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	for _, k := range old {
		if err := svc.DeleteAccessKey(ctx, acct.ID, "", k.AccessKeyID); err != nil {
			return acct, key, err
		}
	}
	return acct, key, nil
}

// rootKeys lists the root's keys, oldest first.
func rootKeys(ctx context.Context, svc *iam.Service, account string) ([]*iam.AccessKey, error) {
	var out []*iam.AccessKey
	opts := iam.ListOptions{}
	for {
		p, err := svc.ListAccessKeys(ctx, account, "", opts)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if !p.IsTruncated {
			return out, nil
		}
		opts.Marker = p.Marker
	}
}

// ResetRootMFA deactivates and deletes the MFA device(s) enabled for the
// root of account (name or id, "" for the default account), so that a
// new one can be enrolled. It returns the serial numbers removed.
func (rc *Recovery) ResetRootMFA(ctx context.Context, account string) (acct *meta.Account, serials []string, err error) {
	defer func() { err = rc.audit(OpResetRootMFADevice, acct, nil, err) }()
	acct, err = rc.account(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	svc := rc.iam()
	p, err := svc.ListMFADevices(ctx, acct.ID, iam.RootUserName, iam.ListOptions{MaxItems: iam.MaxMaxItems})
	if err != nil {
		return acct, nil, err
	}
	for _, d := range p.Items {
		serial := d.SerialNumber(acct.ID)
		if err := svc.DeactivateMFADevice(ctx, acct.ID, iam.RootUserName, serial); err != nil {
			return acct, serials, err
		}
		// The device's seed may be what was lost (or stolen): delete it
		// rather than leave it to be re-enabled.
		if err := svc.DeleteVirtualMFADevice(ctx, acct.ID, serial); err != nil {
			return acct, serials, err
		}
		serials = append(serials, serial)
	}
	if len(serials) == 0 {
		return acct, nil, fmt.Errorf("account %s: %w", acct.Name, ErrNoRootMFA)
	}
	return acct, serials, nil
}

// audit appends the recovery's event to DIR/audit/audit.log and returns
// opErr, or the audit failure when the operation itself succeeded: an
// unrecorded recovery must not look like a clean one.
func (rc *Recovery) audit(op string, acct *meta.Account, key *iam.AccessKey, opErr error) error {
	var id [8]byte
	_, _ = rand.Read(id[:])
	e := &audit.Event{
		Time: rc.now(), RequestID: strings.ToUpper(hex.EncodeToString(id[:])),
		Service: "admin", Operation: op, PrincipalType: "Operator",
		SourceIP: "local", Outcome: audit.OutcomeSuccess,
	}
	if acct != nil {
		e.AccountID = acct.ID
		e.Resource = "arn:aws:iam::" + acct.ID + ":root"
	}
	if key != nil && opErr == nil {
		e.AccessKeyID = key.AccessKeyID
	}
	if opErr != nil {
		e.Outcome = audit.OutcomeFailed
		e.ErrorCode = errorCode(opErr)
	}
	return recordOperatorEvent(rc.Stores.Dir, e, opErr)
}

// recordOperatorEvent appends an offline operator command's event to
// DIR/audit/audit.log and returns opErr, or the audit failure when the
// operation itself succeeded: an unrecorded operation must not look like
// a clean one.
func recordOperatorEvent(dir string, e *audit.Event, opErr error) error {
	sink, err := audit.OpenFile(filepath.Join(dir, "audit", "audit.log"), time.Second)
	if err == nil {
		err = sink.Record(context.Background(), e)
		if cerr := sink.Close(); err == nil {
			err = cerr
		}
	}
	if opErr != nil {
		return opErr
	}
	if err != nil {
		return fmt.Errorf("recording the audit event: %w", err)
	}
	return nil
}

// errorCode names a failure for the audit log: the IAM error code when
// there is one.
func errorCode(err error) string {
	var ie *iam.Error
	if errors.As(err, &ie) {
		return ie.Kind.Error()
	}
	if errors.Is(err, ErrNoRootMFA) {
		return "NoSuchEntity"
	}
	return "InternalError"
}
