package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/checksum"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/storage/meta"
	"github.com/coffer-io/coffer/internal/trail"
)

// TrailOptions configure the CloudTrail trail.
type TrailOptions struct {
	// BestEffort acknowledges requests before their records are on disk
	// (they follow within a second); by default a record is durable
	// before its request is answered.
	BestEffort bool
	// BestEffortReads is BestEffort for read-only requests only.
	BestEffortReads bool
	// Dir, when set, receives a copy of every delivered log and digest
	// file as DIR/BUCKET/KEY.
	Dir              string
	DeliveryInterval time.Duration // default 5m
	DigestInterval   time.Duration // default 1h
	HistoryRetention time.Duration // default 90 days
	// InsecureDisabled keeps requests out of the trail entirely (the
	// CloudTrail API still answers). It exists only to measure the
	// trail's cost.
	InsecureDisabled bool
}

// openTrail opens the journal, the signing keys and the trails of the
// data directory.
func openTrail(dir, region string, o TrailOptions, obj *objects.Service, log *slog.Logger) (*trail.Service, error) {
	j, err := trail.OpenJournal(filepath.Join(dir, "trail", "journal"), o.BestEffort)
	if err != nil {
		return nil, err
	}
	keys, err := trail.OpenKeys(filepath.Join(dir, "trail", "keys"))
	if err != nil {
		j.Close()
		return nil, err
	}
	svc, err := trail.NewService(trail.Config{
		Journal: j, Keys: keys, StatePath: filepath.Join(dir, "trail", "trails.json"), Region: region,
		LocalDir: o.Dir, Dest: &trailDest{obj: obj}, DeliveryInterval: o.DeliveryInterval,
		DigestInterval: o.DigestInterval, HistoryRetention: o.HistoryRetention, Log: log,
		// The real clock except in test builds, where tests move it to
		// put hours between digest periods.
		Now: dataClock.Now,
	})
	if err != nil {
		j.Close()
		return nil, err
	}
	return svc, nil
}

// auditSinks composes the audit sinks: the audit log and the trail.
func auditSinks(file audit.Sink, trails *trail.Service, o TrailOptions, log *slog.Logger) audit.Sink {
	if o.InsecureDisabled {
		log.Warn("!!! --insecure-disable-trail: requests leave no CloudTrail record. " +
			"This setting exists only to measure the cost of the trail; never use it for real data.")
		return file
	}
	return audit.Multi{file, &trail.Sink{J: trails.Journal(), BestEffortReads: o.BestEffortReads}}
}

// cloudTrailPrincipal is the service principal trails write as.
var cloudTrailPrincipal = policy.Principal{Type: policy.Service, ARN: "cloudtrail.amazonaws.com"}

// trailDest writes trail files into buckets through the object service,
// as the CloudTrail service principal: only a bucket whose policy lets
// cloudtrail.amazonaws.com read its ACL and put objects with
// bucket-owner-full-control under the trail's AWSLogs/ACCOUNT/ prefix
// receives them, checked at CreateTrail, StartLogging and every delivery.
type trailDest struct {
	obj *objects.Service
}

func (d *trailDest) bucket(ctx context.Context, name string) (*meta.Bucket, error) {
	b, err := d.obj.Meta().GetBucket(ctx, name)
	if errors.Is(err, meta.ErrBucketNotFound) || errors.Is(err, meta.ErrNotFound) {
		return nil, trail.ErrNoSuchBucket
	}
	return b, err
}

func (d *trailDest) CheckBucket(ctx context.Context, bucket, prefix, account, trailARN string) error {
	b, err := d.bucket(ctx, bucket)
	if err != nil {
		return err
	}
	base := "AWSLogs/" + account + "/"
	if prefix != "" {
		base = prefix + "/" + base
	}
	return admits(b, trailARN, account, []string{
		"arn:aws:s3:::" + bucket + "/" + base + "CloudTrail/x",
		"arn:aws:s3:::" + bucket + "/" + base + "CloudTrail-Digest/x",
	})
}

// admits evaluates the bucket policy for the CloudTrail principal.
func admits(b *meta.Bucket, trailARN, account string, objectARNs []string) error {
	doc := b.Configs["policy"]
	if len(doc) == 0 {
		return trail.ErrInsufficientPolicy
	}
	pol, err := policy.Parse(doc, policy.Resource)
	if err != nil {
		return trail.ErrInsufficientPolicy
	}
	cond := map[string][]string{
		"aws:sourcearn": {trailARN}, "aws:sourceaccount": {account},
		"aws:securetransport": {"true"}, "s3:x-amz-acl": {"bucket-owner-full-control"},
	}
	reqs := []policy.Request{{Action: "s3:GetBucketAcl", Resource: "arn:aws:s3:::" + b.Name}}
	for _, o := range objectARNs {
		reqs = append(reqs, policy.Request{Action: "s3:PutObject", Resource: o})
	}
	for _, r := range reqs {
		r.Principal, r.ResourceAccount, r.Context = cloudTrailPrincipal, b.Owner, cond
		if !policy.Evaluate(&policy.Input{Resource: pol}, &r).Allowed {
			return trail.ErrInsufficientPolicy
		}
	}
	return nil
}

func (d *trailDest) Put(ctx context.Context, account, trailARN, bucket, key string, body []byte, userMeta map[string]string) error {
	b, err := d.bucket(ctx, bucket)
	if err != nil {
		return err
	}
	if err := admits(b, trailARN, account, []string{"arn:aws:s3:::" + bucket + "/" + key}); err != nil {
		return err
	}
	size := int64(len(body))
	wr, err := d.obj.WriteBlob(ctx, objects.WriteInput{
		Body: bytes.NewReader(body), Size: size, MaxSize: size,
		Algorithms: []checksum.Algorithm{checksum.CRC64NVME}, AllowInline: true,
		Account: b.Owner, Bucket: b.Name, Key: key,
	})
	if err != nil {
		return fmt.Errorf("trail delivery: %w", err)
	}
	v := &meta.ObjectVersion{
		Bucket: b.Name, Key: key, Owner: b.Owner, Size: wr.Size(), ETag: wr.ETag(), LastModified: d.obj.Now(),
		Headers:  map[string]string{"Content-Type": "application/x-gzip"},
		UserMeta: userMeta,
		Checksum: meta.Checksum{Algorithm: string(checksum.CRC64NVME), Value: wr.Hasher.Checksum(checksum.CRC64NVME), Type: "FULL_OBJECT"},
	}
	v.Blobs, v.Inline = wr.Data()
	v.Encryption = wr.Encryption
	if _, err := d.obj.PutVersion(ctx, v, nil); err != nil {
		return fmt.Errorf("trail delivery: %w", err)
	}
	return nil
}
