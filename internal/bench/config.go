// Package bench is Coffer's S3 load generator. It drives an S3-compatible
// endpoint with PUT, GET, HEAD, LIST and DELETE traffic (or a weighted mix)
// at a fixed concurrency and reports throughput and latency percentiles.
//
// Every performance figure the project publishes is measured with it, so it
// is built to stay out of the way of the server under test: one tuned
// net/http transport, SigV4 signing without an SDK client stack, request
// bodies served from a single pre-generated buffer, and per-worker latency
// histograms that are only merged once the run is over.
package bench

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config describes one benchmark run. Zero values get the defaults noted
// on each field.
type Config struct {
	Endpoint     string // e.g. https://127.0.0.1:9000 (scheme required, no path)
	Region       string // default us-east-1
	AccessKey    string
	SecretKey    string
	SessionToken string
	CAFile       string // PEM bundle to trust instead of the system roots
	Insecure     bool   // skip TLS verification; explicit opt-in only

	// Bucket is created if it does not exist. A bucket created by the run is
	// removed at the end unless Keep is set; a pre-existing bucket is never
	// removed, only the objects the run wrote. Default: a random
	// "coffer-bench-xxxxxxxx" name.
	Bucket string
	Keep   bool

	Op  string // put | get | head | list | delete | mixed (default put)
	Mix string // for mixed, e.g. "get=60,put=30,delete=5,list=5" (that is the default)

	ObjectSize  int64 // bytes per object; 0 means empty objects
	Objects     int   // key space size (default 1000)
	Concurrency int   // parallel workers (default 16)

	// The run stops after Duration or after Count operations, whichever
	// comes first. At least one must be set.
	Duration time.Duration
	Count    int

	// PayloadMode is "unsigned" (x-amz-content-sha256: UNSIGNED-PAYLOAD) or
	// "signed" (hex SHA-256 of the body, computed once per body up front).
	// Default: unsigned over https, signed over plain http.
	PayloadMode string

	Prefix string // prepended to every key
}

// Operation names accepted in Config.Op and Config.Mix.
const (
	OpPut    = "put"
	OpGet    = "get"
	OpHead   = "head"
	OpList   = "list"
	OpDelete = "delete"
	OpMixed  = "mixed"
)

// Payload modes accepted in Config.PayloadMode.
const (
	PayloadUnsigned = "unsigned"
	PayloadSigned   = "signed"
)

// DefaultMix is used when Op is mixed and Mix is empty.
const DefaultMix = "get=60,put=30,delete=5,list=5"

const (
	defaultRegion      = "us-east-1"
	defaultObjects     = 1000
	defaultConcurrency = 16
	// maxObjectSize is S3's single-PUT limit; the whole body is held in memory.
	maxObjectSize = 5 << 30
	// maxObjects keeps the doubled mixed-mode key space within keyDigits.
	maxObjects = 1 << 30
	// keyDigits is fixed rather than derived from Objects so that runs with
	// different settings (e.g. a kept put run followed by a get run) agree
	// on key names.
	keyDigits = 10
)

type opKind uint8

const (
	opPut opKind = iota
	opGet
	opHead
	opList
	opDelete
	numOps
)

var opNames = [numOps]string{OpPut, OpGet, OpHead, OpList, OpDelete}

func (k opKind) String() string { return opNames[k] }

func parseOp(s string) (opKind, bool) {
	for i, n := range opNames {
		if n == s {
			return opKind(i), true
		}
	}
	return 0, false
}

// mixEntry is one slot of the cumulative weight table used to pick the next
// operation in mixed mode.
type mixEntry struct {
	op   opKind
	upTo int // exclusive upper bound of this op's slice of [0, total)
}

// parseMix parses "op=weight,..." into a cumulative table and its total.
func parseMix(s string) ([]mixEntry, int, error) {
	var (
		table []mixEntry
		total int
		seen  [numOps]bool
	)
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, weight, ok := strings.Cut(part, "=")
		if !ok {
			return nil, 0, fmt.Errorf("mix entry %q: want op=weight", part)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		op, ok := parseOp(name)
		if !ok {
			return nil, 0, fmt.Errorf("mix entry %q: unknown op %q", part, name)
		}
		if seen[op] {
			return nil, 0, fmt.Errorf("mix: op %q listed twice", name)
		}
		seen[op] = true
		w, err := strconv.Atoi(strings.TrimSpace(weight))
		if err != nil || w < 0 {
			return nil, 0, fmt.Errorf("mix entry %q: weight must be a non-negative integer", part)
		}
		if w == 0 {
			continue
		}
		total += w
		table = append(table, mixEntry{op: op, upTo: total})
	}
	if total == 0 {
		return nil, 0, errors.New("mix: weights must add up to more than zero")
	}
	return table, total, nil
}

// settings is a validated Config with defaults applied and derived values.
type settings struct {
	Config
	scheme, host string
	mixed        bool
	op           opKind // when !mixed
	mix          []mixEntry
	mixTotal     int
	signed       bool
	usesOp       [numOps]bool
}

// normalize validates c and fills in defaults.
func (c Config) normalize() (*settings, error) {
	s := &settings{Config: c}

	u, err := url.Parse(strings.TrimSpace(c.Endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want http(s)://host[:port]", c.Endpoint)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("endpoint %q: must not carry a path, query or user info", c.Endpoint)
	}
	s.scheme, s.host = u.Scheme, u.Host

	if s.Region == "" {
		s.Region = defaultRegion
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		return nil, errors.New("access key and secret key are required")
	}

	s.Op = strings.ToLower(strings.TrimSpace(s.Op))
	if s.Op == "" {
		s.Op = OpPut
		if s.Mix != "" {
			s.Op = OpMixed
		}
	}
	if s.Op == OpMixed {
		s.mixed = true
		if strings.TrimSpace(s.Mix) == "" {
			s.Mix = DefaultMix
		}
		if s.mix, s.mixTotal, err = parseMix(s.Mix); err != nil {
			return nil, err
		}
		for _, e := range s.mix {
			s.usesOp[e.op] = true
		}
	} else {
		op, ok := parseOp(s.Op)
		if !ok {
			return nil, fmt.Errorf("op %q: want put, get, head, list, delete or mixed", s.Op)
		}
		if s.Mix != "" {
			return nil, fmt.Errorf("mix is only valid with op %q", OpMixed)
		}
		s.op = op
		s.usesOp[op] = true
	}

	switch {
	case s.ObjectSize < 0:
		return nil, errors.New("object size must not be negative")
	case s.ObjectSize > maxObjectSize:
		return nil, fmt.Errorf("object size %d exceeds the 5 GiB single-PUT limit", s.ObjectSize)
	case s.Objects < 0 || s.Objects > maxObjects:
		return nil, fmt.Errorf("objects must be between 1 and %d", maxObjects)
	case s.Concurrency < 0:
		return nil, errors.New("concurrency must not be negative")
	case s.Duration < 0 || s.Count < 0:
		return nil, errors.New("duration and count must not be negative")
	case s.Duration == 0 && s.Count == 0:
		return nil, errors.New("set a duration, a count, or both, to bound the run")
	}
	if s.Objects == 0 {
		s.Objects = defaultObjects
	}
	if s.Concurrency == 0 {
		s.Concurrency = defaultConcurrency
	}

	s.PayloadMode = strings.ToLower(strings.TrimSpace(s.PayloadMode))
	switch s.PayloadMode {
	case "":
		// UNSIGNED-PAYLOAD is only sound when TLS protects the body.
		s.PayloadMode = PayloadUnsigned
		if s.scheme == "http" {
			s.PayloadMode = PayloadSigned
		}
	case PayloadUnsigned, PayloadSigned:
	default:
		return nil, fmt.Errorf("payload mode %q: want unsigned or signed", s.PayloadMode)
	}
	s.signed = s.PayloadMode == PayloadSigned

	if s.Bucket == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		s.Bucket = "coffer-bench-" + hex.EncodeToString(b[:])
	}
	if strings.ContainsAny(s.Bucket, "/?#") {
		return nil, fmt.Errorf("bucket %q: invalid name", s.Bucket)
	}
	return s, nil
}

// needsPrepare reports whether the key space must exist before measuring.
func (s *settings) needsPrepare() bool {
	return s.mixed || s.op != opPut
}
