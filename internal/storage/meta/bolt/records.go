package bolt

import (
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
)

// accountTx reads and writes the JSON records that services keep per
// account on this database (IAM entities, KMS keys and aliases), laid out
// as root bucket / account / kind / record key. Nested buckets are created
// on first write, so existing databases need no migration. w is nil in
// read-only transactions.
type accountTx struct {
	tx      *bbolt.Tx
	w       *wtx
	root    []byte
	account []byte
	// what names the service in error messages ("IAM", "KMS").
	what string
	// readOnly and notFound are the service's own errors.
	readOnly, notFound error
	// key maps a record name to its key (IAM names are case-insensitive).
	key func(name string) []byte
}

func exactKey(name string) []byte { return []byte(name) }

// bucket returns the account's bucket of one record kind, or nil when it
// does not exist yet.
func (t *accountTx) bucket(name []byte) *bbolt.Bucket {
	root := t.tx.Bucket(t.root)
	if root == nil {
		return nil
	}
	acct := root.Bucket(t.account)
	if acct == nil {
		return nil
	}
	return acct.Bucket(name)
}

// wbucket returns the account's bucket of one record kind, creating it
// and its parents; creating is a write, so the transaction is marked dirty
// and a later error rolls it back.
func (t *accountTx) wbucket(name []byte) (*bbolt.Bucket, error) {
	if t.w == nil {
		return nil, t.readOnly
	}
	if b := t.bucket(name); b != nil {
		return b, nil
	}
	t.w.dirty = true
	root, err := t.tx.CreateBucketIfNotExists(t.root)
	if err != nil {
		return nil, err
	}
	acct, err := root.CreateBucketIfNotExists(t.account)
	if err != nil {
		return nil, err
	}
	return acct.CreateBucketIfNotExists(name)
}

func (t *accountTx) put(bucket []byte, name string, v any) error {
	if name == "" {
		return errors.New("bolt: " + t.what + " record without a name")
	}
	b, err := t.wbucket(bucket)
	if err != nil {
		return err
	}
	data, err := encode(v)
	if err != nil {
		return fmt.Errorf("bolt: encode %s record: %w", t.what, err)
	}
	return t.w.put(b, t.key(name), data)
}

func (t *accountTx) del(bucket []byte, name string) error {
	if t.w == nil {
		return t.readOnly
	}
	b := t.bucket(bucket)
	if b == nil || b.Get(t.key(name)) == nil {
		return t.notFound
	}
	return t.w.del(b, t.key(name))
}

// getRecord decodes one record, or returns the service's not-found error.
func getRecord[T any](t *accountTx, bucket []byte, name string) (*T, error) {
	b := t.bucket(bucket)
	if b == nil {
		return nil, t.notFound
	}
	data := b.Get(t.key(name))
	if data == nil {
		return nil, t.notFound
	}
	v := new(T)
	return v, decode(data, v)
}

// listRecords decodes every record of one kind, in key order.
func listRecords[T any](t *accountTx, bucket []byte) ([]*T, error) {
	b := t.bucket(bucket)
	if b == nil {
		return nil, nil
	}
	var out []*T
	err := b.ForEach(func(_, data []byte) error {
		v := new(T)
		out = append(out, v)
		return decode(data, v)
	})
	return out, err
}
