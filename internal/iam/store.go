package iam

import "context"

// Store keeps IAM records, partitioned by account. Implementations must
// pass the conformance suite in iam/iamtest.
//
// The Service runs each operation's reads, checks and writes in one
// transaction, so a Store must make Update transactions serializable with
// respect to each other (bbolt's single writer does; a SQL backend would
// lock the account's rows or use SERIALIZABLE).
type Store interface {
	// Update runs fn in a read-write transaction on account's records and
	// commits if fn returns nil; on an error nothing fn wrote is kept and
	// the error is returned as is. fn may be called more than once for one
	// Update (backends retry transactions to group commits), so it must
	// have no effects outside tx other than setting variables it resets on
	// each call.
	Update(ctx context.Context, account string, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction (a consistent snapshot);
	// writes through its tx fail.
	View(ctx context.Context, account string, fn func(tx Tx) error) error
}

// Tx is a transaction on one account's records.
//
// Users, groups, roles and policies are keyed by their name compared
// case-insensitively (IAM names are unique that way); lookups by any
// casing find the record, and Put replaces a record of the same name in
// any casing. The lists return records ordered by lower-cased name.
// Missing records are ErrNotFound. Records returned are the caller's to
// modify; records passed are not retained.
type Tx interface {
	User(name string) (*User, error)
	Users() ([]*User, error)
	PutUser(u *User) error
	DeleteUser(name string) error

	Group(name string) (*Group, error)
	Groups() ([]*Group, error)
	PutGroup(g *Group) error
	DeleteGroup(name string) error

	Role(name string) (*Role, error)
	Roles() ([]*Role, error)
	PutRole(r *Role) error
	DeleteRole(name string) error

	Policy(name string) (*Policy, error)
	Policies() ([]*Policy, error)
	PutPolicy(p *Policy) error
	DeletePolicy(name string) error

	// Count returns the number of records of a kind in the account.
	Count(kind Kind) (int, error)

	// Access keys are keyed by id. They must be kept where request
	// authentication finds them (the meta store's access-key records,
	// with this account and the key's UserName), in the same transaction.
	// AccessKey returns a key of this account including its secret;
	// keys of other accounts are ErrNotFound. AccessKeys returns the keys
	// of one user, or of the account root for userName "", in any order.
	// PutAccessKey creates or replaces a key (SecretAccessKey required);
	// an id used by another account's key is refused.
	AccessKey(id string) (*AccessKey, error)
	AccessKeys(userName string) ([]*AccessKey, error)
	PutAccessKey(k *AccessKey) error
	DeleteAccessKey(id string) error
}
