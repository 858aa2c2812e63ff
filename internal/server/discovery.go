package server

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/alerts"
	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/discovery"
	// Parquet objects are read by a reader that registers itself.
	_ "github.com/coffer-io/coffer/internal/discovery/parquetrec"
	"github.com/coffer-io/coffer/internal/macie"
	"github.com/coffer-io/coffer/internal/macie/boltstore"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// DiscoveryOptions are the sensitive data discovery settings.
type DiscoveryOptions struct {
	// Parallel is how many objects a job scans at once (default 2).
	Parallel int
	// JobPoll is how often due scheduled jobs are looked for (default 1m).
	JobPoll time.Duration
	// AutoInterval is the pause between automated discovery passes
	// (default 1h); AutoRate bounds the objects one pass scans per
	// account (default 1000).
	AutoInterval time.Duration
	AutoRate     int
}

// discoveryPart is Macie: its records, API and job runner.
type discoveryPart struct {
	svc    *macie.Service
	runner *macie.Runner
	events chan string
	cancel context.CancelFunc
	done   <-chan struct{}
}

// openDiscovery opens Macie's records (DIR/discovery.db) and the
// service that serves them.
func openDiscovery(dir, region string, now func() time.Time, log *slog.Logger) (*discoveryPart, error) {
	st, err := boltstore.Open(filepath.Join(dir, "discovery.db"))
	if err != nil {
		return nil, err
	}
	svc := &macie.Service{Store: st, Region: region, Now: now, Logger: log, Managed: managedIdentifiers}
	return &discoveryPart{svc: svc, events: make(chan string, 256)}, nil
}

func managedIdentifiers() []macie.ManagedIdentifier {
	var out []macie.ManagedIdentifier
	for _, m := range discovery.ManagedIdentifiers() {
		out = append(out, macie.ManagedIdentifier{Category: string(m.Category), ID: m.ID})
	}
	return out
}

// API is the REST-JSON front door.
func (d *discoveryPart) API() s3api.RESTService { return d.svc.API() }

// start runs the job runner and the re-evaluation of buckets whose
// access changed; findings go to the trail and the webhook through al.
func (d *discoveryPart) start(o DiscoveryOptions, m meta.Store, objs *objects.Service, al *alerts.Dispatcher, log *slog.Logger) {
	d.runner = &macie.Runner{Svc: d.svc, Objects: objectSource{m, objs}, Parallel: o.Parallel, Poll: o.JobPoll, Log: log,
		AutoInterval: o.AutoInterval, AutoRate: o.AutoRate,
		Access: func(ctx context.Context, b *meta.Bucket) macie.BucketAccess { return bucketAccess(ctx, m, b) },
		Publish: func(f *macie.Finding) {
			a := alerts.Alert{Type: "MacieFinding", Account: f.AccountID, Current: f.Severity.Description,
				Detail: f.Type + ": " + f.Title + " (finding " + f.ID + ")"}
			if b := f.ResourcesAffected.S3Bucket; b != nil {
				a.Resource, a.ResourceType = b.Name, "AWS::S3::Bucket"
			}
			al.Send(a)
		}}
	d.svc.Jobs = d.runner
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	runDone := d.runner.Start(ctx)
	done := make(chan struct{})
	d.done = done
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				<-runDone
				return
			case b := <-d.events:
				if err := d.runner.BucketChanged(ctx, b); err != nil && ctx.Err() == nil {
					log.Error("discovery: re-evaluating bucket", "bucket", b, "err", err)
				}
			}
		}
	}()
}

func (d *discoveryPart) close() {
	if d.cancel != nil {
		d.cancel()
		<-d.done
	}
	d.svc.Store.Close()
}

// Record implements audit.Sink: a bucket whose policy, ACL, Block
// Public Access or encryption changed is re-evaluated (its policy
// findings, and the severity of the sensitive data found in it).
func (d *discoveryPart) Record(_ context.Context, e *audit.Event) error {
	if e.Outcome != audit.OutcomeSuccess || e.Service != "s3" || e.Bucket == "" || e.Key != "" {
		return nil
	}
	switch e.Operation {
	case "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutPublicAccessBlock", "DeletePublicAccessBlock",
		"PutBucketEncryption", "DeleteBucketEncryption", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls":
	default:
		return nil
	}
	select {
	case d.events <- e.Bucket:
	default:
		// Full: the next job run re-evaluates the bucket anyway.
	}
	return nil
}

// objectSource is the object layer as the runner reads it.
type objectSource struct {
	m    meta.Store
	objs *objects.Service
}

func (s objectSource) GetBucket(ctx context.Context, name string) (*meta.Bucket, error) {
	return s.m.GetBucket(ctx, name)
}

func (s objectSource) ListObjects(ctx context.Context, bucket string, o meta.ListOptions) (meta.ListResult, error) {
	return s.m.ListObjects(ctx, bucket, o)
}

func (s objectSource) GetObject(ctx context.Context, bucket, key, versionID string) (*meta.ObjectVersion, error) {
	v, err := s.m.GetObject(ctx, bucket, key, versionID)
	if err == nil && v.Bucket == "" {
		v.Bucket = bucket
	}
	return v, err
}

// Open reads a version's plaintext: the server decrypts SSE-S3 and
// SSE-KMS data itself (as Macie's service role does).
func (s objectSource) Open(ctx context.Context, v *meta.ObjectVersion) (io.ReadCloser, error) {
	r, err := s.objs.Open(ctx, v)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(r, 0, r.Size()), r}, nil
}

func (s objectSource) ListBuckets(ctx context.Context, owner string) ([]*meta.Bucket, error) {
	return s.m.ListBuckets(ctx, owner)
}

func (s objectSource) ListAccounts(ctx context.Context) ([]string, error) {
	as, err := s.m.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out, nil
}

var (
	readActions  = []string{"s3:GetObject", "s3:ListBucket", "s3:GetObjectVersion"}
	writeActions = []string{"s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"}
)

// bucketAccess is a bucket's posture from the access-control model: the
// policy and ACL as Block Public Access (bucket and account) leave them.
func bucketAccess(ctx context.Context, m meta.Store, b *meta.Bucket) macie.BucketAccess {
	st := s3api.BucketStateOf(b)
	acc := macie.BucketAccess{EncryptionType: st.Encryption.Algorithm, EncryptionKey: st.Encryption.KMSMasterKeyID, CreatedAt: b.CreatedAt}
	if acc.EncryptionType == "" {
		acc.EncryptionType = "AES256"
	}
	owner := ""
	if a, err := m.GetAccount(ctx, b.Owner); err == nil {
		owner, acc.OwnerCanonicalID, acc.OwnerDisplayName = a.CanonicalID, a.CanonicalID, a.Name
	}
	pab := s3api.PublicAccessBlockState{}
	if p := st.PublicAccessBlock; p != nil {
		pab = *p
	}
	if set, err := m.GetAccountSettings(ctx, b.Owner); err == nil {
		if p := s3api.AccountPublicAccessBlockOf(set); p != nil {
			pab.BlockPublicAcls = pab.BlockPublicAcls || p.BlockPublicAcls
			pab.IgnorePublicAcls = pab.IgnorePublicAcls || p.IgnorePublicAcls
			pab.BlockPublicPolicy = pab.BlockPublicPolicy || p.BlockPublicPolicy
			pab.RestrictPublicBuckets = pab.RestrictPublicBuckets || p.RestrictPublicBuckets
		}
	}
	acc.BlockPublicAccess = pab.BlockPublicAcls && pab.IgnorePublicAcls && pab.BlockPublicPolicy && pab.RestrictPublicBuckets
	if len(st.Policy) > 0 {
		if pol, err := policy.Parse(st.Policy, policy.Resource); err == nil {
			for _, a := range append(append([]string{}, readActions...), writeActions...) {
				if pol.IsPublic() && !pab.RestrictPublicBuckets && pol.PublicAllows(a) {
					acc.Public = true
				}
				if pol.CrossAccountAllows(b.Owner, a) && !pol.IsPublic() {
					acc.Shared = true
				}
			}
		}
	}
	for _, g := range st.ACL {
		switch {
		case g.URI == s3api.GroupAllUsers || g.URI == s3api.GroupAuthenticated:
			if !pab.IgnorePublicAcls {
				acc.Public = true
			}
		case g.ID != "" && g.ID != owner && !strings.HasPrefix(g.URI, "http"):
			acc.Shared = true
		}
	}
	return acc
}

// Close implements audit.Sink; the part itself stops in close, after
// the server stopped sending events.
func (d *discoveryPart) Close() error { return nil }
