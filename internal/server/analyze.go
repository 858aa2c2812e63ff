package server

import (
	"context"
	"path/filepath"
	"time"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// bucketPolicyConfig is the bucket configuration document holding the
// bucket policy (see s3api).
const bucketPolicyConfig = "policy"

// AnalyzeBuckets runs the access analysis over the buckets of one account
// ("" for every account).
func AnalyzeBuckets(ctx context.Context, m meta.Store, account string) (*analyze.Report, error) {
	bs, err := m.ListBuckets(ctx, account)
	if err != nil {
		return nil, err
	}
	in := make([]analyze.Bucket, 0, len(bs))
	for _, b := range bs {
		in = append(in, analyze.Bucket{Name: b.Name, Owner: b.Owner, Policy: b.Configs[bucketPolicyConfig]})
	}
	return analyze.Analyze(in), nil
}

// AnalyzeDataDir analyzes an offline data directory: bucket access, and
// access not used within unusedWindow.
func AnalyzeDataDir(ctx context.Context, dir string, unusedWindow time.Duration) (*analyze.Report, error) {
	st, err := OpenDataDir(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	svc := &iam.Service{Store: st.Meta.IAM(), Validate: validatePolicy}
	return analyzeAccount(ctx, st.Meta, svc, filepath.Join(dir, "audit", "audit.log"), "", unusedWindow)
}

// analyzeAccount is the whole analysis of one account ("" for all).
func analyzeAccount(ctx context.Context, m meta.Store, svc *iam.Service, auditLog, account string, unusedWindow time.Duration) (*analyze.Report, error) {
	rep, err := AnalyzeBuckets(ctx, m, account)
	if err != nil {
		return nil, err
	}
	if rep.Unused, err = AnalyzeUnused(ctx, m, svc, auditLog, account, time.Now(), unusedWindow); err != nil {
		return nil, err
	}
	rep.UnusedWindow = unusedWindow.String()
	return rep, nil
}
