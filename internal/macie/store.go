// Package macie is Coffer's Amazon Macie: per-account sessions, custom
// data identifiers, allow lists, classification jobs, per-object-version
// scan results and findings, and the REST-JSON front door (credential
// scope service "macie2") that serves them. The detection itself is
// internal/discovery's; this package keeps its configuration and results.
package macie

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned for a record that does not exist.
var ErrNotFound = errors.New("macie: not found")

// Kind names a collection of per-account records.
type Kind string

// The record kinds a Store keeps.
const (
	KindSession    Kind = "session"
	KindIdentifier Kind = "identifier"
	KindAllowList  Kind = "allowlist"
	KindJob        Kind = "job"
	KindFinding    Kind = "finding"
	// KindScan holds per-object-version scan results, keyed by
	// ScanKey, so that an unchanged version is not scanned again.
	KindScan Kind = "scan"
)

// Store keeps Macie's per-account records as JSON documents. It is small
// on purpose: the service owns the shapes, the store owns durability.
type Store interface {
	// Put creates or replaces a record.
	Put(ctx context.Context, account string, kind Kind, id string, doc []byte) error
	// Get returns a record or ErrNotFound.
	Get(ctx context.Context, account string, kind Kind, id string) ([]byte, error)
	// Delete removes a record; deleting nothing is not an error.
	Delete(ctx context.Context, account string, kind Kind, id string) error
	// List calls fn for the account's records of a kind whose id starts
	// with prefix, in id order, until fn returns false.
	List(ctx context.Context, account string, kind Kind, prefix string, fn func(id string, doc []byte) bool) error
	Close() error
}

// ScanKey is the id of an object version's scan result.
func ScanKey(bucket, key, versionID string) string {
	return bucket + "\x00" + key + "\x00" + versionID
}

func getJSON[T any](ctx context.Context, s Store, account string, kind Kind, id string) (*T, error) {
	b, err := s.Get(ctx, account, kind, id)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

func putJSON(ctx context.Context, s Store, account string, kind Kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Put(ctx, account, kind, id, b)
}

func listJSON[T any](ctx context.Context, s Store, account string, kind Kind) ([]*T, error) {
	var out []*T
	var derr error
	err := s.List(ctx, account, kind, "", func(_ string, b []byte) bool {
		v := new(T)
		if derr = json.Unmarshal(b, v); derr != nil {
			return false
		}
		out = append(out, v)
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// timestamp is Macie's ISO 8601 time with milliseconds, in UTC.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
