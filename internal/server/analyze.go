package server

import (
	"context"

	"github.com/coffer-io/coffer/internal/analyze"
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

// AnalyzeDataDir analyzes an offline data directory.
func AnalyzeDataDir(ctx context.Context, dir string) (*analyze.Report, error) {
	st, err := OpenDataDir(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return AnalyzeBuckets(ctx, st.Meta, "")
}
