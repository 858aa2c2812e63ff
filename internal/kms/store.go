package kms

import (
	"context"
	"errors"
)

// ErrNotFound is returned by Tx lookups of missing records.
var ErrNotFound = errors.New("kms: record not found")

// ErrReadOnly is returned by writes through a View transaction.
var ErrReadOnly = errors.New("kms: read-only transaction")

// Store keeps KMS records partitioned by account. Implementations must
// pass the conformance suite in kms/kmstest.
//
// Every Service operation does its reads, checks and writes in one
// transaction of the account that owns the key, so Update transactions
// must be serializable with respect to each other; that is what keeps two
// concurrent CreateAlias calls from both succeeding.
type Store interface {
	// Update runs fn in a read-write transaction on account's records and
	// commits if fn returns nil; if fn fails nothing it wrote is kept and
	// its error is returned as is. fn may run more than once, so it must
	// have no effects outside tx other than setting variables it resets.
	Update(ctx context.Context, account string, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction (a consistent snapshot).
	View(ctx context.Context, account string, fn func(tx Tx) error) error
	// Accounts lists, in ascending order, the accounts that hold at least
	// one key or alias; background jobs (rotation, purge) walk them.
	Accounts(ctx context.Context) ([]string, error)
}

// Tx is a transaction on one account's records. Missing records are
// ErrNotFound. Records returned are the caller's to modify, and records
// passed in are not retained (implementations copy).
type Tx interface {
	Key(id string) (*KeyRecord, error)
	// Keys returns every key ordered by ID.
	Keys() ([]*KeyRecord, error)
	// PutKey creates or replaces the key r.Key.ID.
	PutKey(r *KeyRecord) error
	DeleteKey(id string) error

	// Alias names are case-sensitive, as in AWS.
	Alias(name string) (*Alias, error)
	// Aliases returns every alias ordered by name.
	Aliases() ([]*Alias, error)
	PutAlias(a *Alias) error
	DeleteAlias(name string) error
}
