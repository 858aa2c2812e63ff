package trail

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Validation walks a trail's digest chain from the newest digest back,
// checking each digest's signature, location and link to its
// predecessor, and each log file's SHA-256 against its digest. It reports
// deleted, modified and moved files as the AWS CLI's validate-logs does,
// and, beyond it, digests outside the chain and log files that no digest
// names (inserted files).

// ErrNotFound is what a Source returns for a missing object.
var ErrNotFound = errors.New("trail: not found")

// Source reads a trail's files: a bucket through S3, or a local copy.
type Source interface {
	// List returns every object under prefix in bucket, in any order.
	List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error)
	// Get returns an object's bytes and user metadata (ErrNotFound).
	Get(ctx context.Context, bucket, key string) ([]byte, map[string]string, error)
}

// ObjectInfo is a listed object.
type ObjectInfo struct {
	Key      string
	Modified time.Time
}

// ValidateInput names the trail and the time range to validate.
type ValidateInput struct {
	Account, Region, TrailName string
	Bucket, Prefix             string
	Start, End                 time.Time
	// Keys are the public keys by fingerprint (ListPublicKeys).
	Keys map[string][]byte
}

// Finding is the verdict on one file.
type Finding struct {
	Kind   string // "Digest file" or "Log file"
	Bucket string
	Key    string
	Valid  bool
	Reason string // why it is invalid
}

func (f Finding) String() string {
	status := "valid"
	if !f.Valid {
		status = "INVALID: " + f.Reason
	}
	return f.Kind + "\ts3://" + f.Bucket + "/" + f.Key + "\t" + status
}

// Report is the result of a validation.
type Report struct {
	Findings                  []Finding
	DigestsValid, DigestsSeen int
	LogsValid, LogsSeen       int
}

// OK reports whether every file validated.
func (r *Report) OK() bool {
	return r.DigestsValid == r.DigestsSeen && r.LogsValid == r.LogsSeen
}

// Validate validates a trail's digests and logs in [Start, End].
func Validate(ctx context.Context, src Source, in ValidateInput) (*Report, error) {
	if in.End.IsZero() {
		in.End = time.Now()
	}
	digestDir := "AWSLogs/" + in.Account + "/CloudTrail-Digest/" + in.Region + "/"
	if in.Prefix != "" {
		digestDir = in.Prefix + "/" + digestDir
	}
	objs, err := src.List(ctx, in.Bucket, digestDir)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	re := regexp.MustCompile(`_CloudTrail-Digest_` + regexp.QuoteMeta(in.Region+"_"+in.TrailName+"_"+in.Region) + `_(\d{8}T\d{6}Z)\.json\.gz$`)
	lo, hi := in.Start.UTC().Format("20060102T150405Z"), in.End.UTC().Add(time.Hour).Format("20060102T150405Z")
	var digests []string
	for _, k := range keys {
		m := re.FindStringSubmatch(k)
		if m == nil || m[1] < lo || m[1] > hi {
			continue
		}
		digests = append(digests, k)
	}
	sort.Slice(digests, func(i, j int) bool { return digestDate(digests[i]) < digestDate(digests[j]) })
	rep := &Report{}
	reached := map[string]bool{}
	referenced := map[string]bool{}
	var first, last time.Time
	// Walk each chain from its newest digest back.
	for i := len(digests) - 1; i >= 0; i-- {
		key := digests[i]
		if reached[key] {
			continue
		}
		for key != "" {
			reached[key] = true
			d, reason := loadDigest(ctx, src, in, key)
			rep.DigestsSeen++
			if reason != "" {
				rep.Findings = append(rep.Findings, Finding{Kind: "Digest file", Bucket: in.Bucket, Key: key, Reason: reason})
				break
			}
			rep.DigestsValid++
			rep.Findings = append(rep.Findings, Finding{Kind: "Digest file", Bucket: in.Bucket, Key: key, Valid: true})
			if st, err := time.Parse(time.RFC3339, d.DigestStartTime); err == nil && (first.IsZero() || st.Before(first)) {
				first = st
			}
			if et, err := time.Parse(time.RFC3339, d.DigestEndTime); err == nil && et.After(last) {
				last = et
			}
			for _, l := range d.LogFiles {
				referenced[l.S3Bucket+"/"+l.S3Object] = true
				rep.LogsSeen++
				f := Finding{Kind: "Log file", Bucket: l.S3Bucket, Key: l.S3Object}
				f.Valid, f.Reason = checkLog(ctx, src, l)
				if f.Valid {
					rep.LogsValid++
				}
				rep.Findings = append(rep.Findings, f)
			}
			if d.PreviousDigestS3Object == nil {
				break
			}
			prev := *d.PreviousDigestS3Object
			if ds := digestDate(prev); ds < lo {
				break
			}
			if !contains(digests, prev) {
				rep.DigestsSeen++
				rep.Findings = append(rep.Findings, Finding{Kind: "Digest file", Bucket: in.Bucket, Key: prev, Reason: "not found"})
				break
			}
			// The link must name the predecessor as it was signed.
			pb, _, err := src.Get(ctx, in.Bucket, prev)
			if err == nil && d.PreviousDigestHashValue != nil {
				if body, err := gunzip(pb); err == nil {
					sum := sha256.Sum256(body)
					if hex.EncodeToString(sum[:]) != *d.PreviousDigestHashValue {
						reached[prev] = true
						rep.DigestsSeen++
						rep.Findings = append(rep.Findings, Finding{Kind: "Digest file", Bucket: in.Bucket, Key: prev, Reason: "hash value doesn't match"})
						break
					}
				}
			}
			key = prev
		}
	}
	// Log files that no digest names but that were there, by their
	// name's minute or their modification time, before the newest valid
	// digest closed, were put there by someone else. (Files delivered
	// after it are not digested yet.)
	if !first.IsZero() {
		logDir := strings.Replace(digestDir, "/CloudTrail-Digest/", "/CloudTrail/", 1)
		logs, err := src.List(ctx, in.Bucket, logDir)
		if err != nil {
			return nil, err
		}
		lre := regexp.MustCompile(`_CloudTrail_` + regexp.QuoteMeta(in.Region) + `_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
		from, to := first.UTC().Format("20060102T1504Z"), last.UTC().Format("20060102T1504Z")
		sort.Slice(logs, func(i, j int) bool { return logs[i].Key < logs[j].Key })
		for _, o := range logs {
			m := lre.FindStringSubmatch(o.Key)
			if m == nil || m[1] < from || m[1] > to || referenced[in.Bucket+"/"+o.Key] {
				continue
			}
			if m[1] == to && o.Modified.After(last) {
				continue
			}
			rep.LogsSeen++
			rep.Findings = append(rep.Findings, Finding{Kind: "Log file", Bucket: in.Bucket, Key: o.Key, Reason: "not named by any digest (inserted)"})
		}
	}
	return rep, nil
}

// digestDate is the timestamp part of a digest key.
func digestDate(key string) string {
	if len(key) < 24 {
		return ""
	}
	return key[len(key)-24 : len(key)-8]
}

func loadDigest(ctx context.Context, src Source, in ValidateInput, key string) (*digestDoc, string) {
	b, meta, err := src.Get(ctx, in.Bucket, key)
	if errors.Is(err, ErrNotFound) {
		return nil, "not found"
	}
	if err != nil {
		return nil, err.Error()
	}
	body, err := gunzip(b)
	if err != nil {
		return nil, "invalid format"
	}
	var d digestDoc
	var required map[string]json.RawMessage
	if json.Unmarshal(body, &d) != nil || json.Unmarshal(body, &required) != nil {
		return nil, "invalid format"
	}
	for _, k := range []string{"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object", "previousDigestSignature", "digestEndTime", "digestStartTime"} {
		if _, ok := required[k]; !ok {
			return nil, "invalid format"
		}
	}
	if meta["signature"] == "" || meta["signature-algorithm"] == "" {
		return nil, "signature verification failed"
	}
	if d.DigestS3Bucket != in.Bucket || d.DigestS3Object != key {
		return nil, "has been moved from its original location"
	}
	der, ok := in.Keys[d.DigestPublicKeyFingerprint]
	if !ok {
		return nil, "public key not found in region " + in.Region + " for fingerprint " + d.DigestPublicKeyFingerprint
	}
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	sum := sha256.Sum256(body)
	sig, err := hex.DecodeString(meta["signature"])
	toSign := d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prev
	if err != nil || Verify(der, []byte(toSign), sig) != nil {
		return nil, "signature verification failed"
	}
	return &d, ""
}

func checkLog(ctx context.Context, src Source, l DigestLog) (bool, string) {
	b, _, err := src.Get(ctx, l.S3Bucket, l.S3Object)
	if errors.Is(err, ErrNotFound) {
		return false, "not found"
	}
	if err != nil {
		return false, err.Error()
	}
	body, err := gunzip(b)
	if err != nil {
		return false, "invalid format"
	}
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != l.HashValue {
		return false, "hash value doesn't match"
	}
	return true, ""
}

func gunzip(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// DirSource reads the local copies a server writes with --trail-dir
// (DIR/BUCKET/KEY, user metadata in KEY.meta).
type DirSource string

// List implements Source.
func (d DirSource) List(_ context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	root := filepath.Join(string(d), bucket)
	var out []ObjectInfo
	start := filepath.Join(root, filepath.FromSlash(prefix))
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if e.IsDir() || strings.HasSuffix(p, ".meta") || strings.HasSuffix(p, ".tmp") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: filepath.ToSlash(rel), Modified: fi.ModTime()})
		return nil
	})
	return out, err
}

// Get implements Source.
func (d DirSource) Get(_ context.Context, bucket, key string) ([]byte, map[string]string, error) {
	p := filepath.Join(string(d), bucket, filepath.FromSlash(key))
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	meta := map[string]string{}
	if mb, err := os.ReadFile(p + ".meta"); err == nil {
		if err := json.Unmarshal(mb, &meta); err != nil {
			return nil, nil, fmt.Errorf("trail: %s.meta: %w", key, err)
		}
	}
	return b, meta, nil
}
