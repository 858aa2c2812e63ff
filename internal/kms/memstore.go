package kms

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// MemStore is an in-memory Store, for tests and single-process servers
// that do not need keys to survive a restart. Update transactions run one
// at a time on a copy of the account's maps, swapped in on commit, which
// makes them serializable and rollback trivial.
type MemStore struct {
	mu       sync.RWMutex
	accounts map[string]*memAccount
}

type memAccount struct {
	keys    map[string]*KeyRecord
	aliases map[string]*Alias
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{accounts: map[string]*memAccount{}} }

func (s *MemStore) Update(ctx context.Context, account string, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.accounts[account]
	// Shallow map copies suffice: records are never mutated in place, only
	// replaced, because Put stores clones.
	next := &memAccount{keys: map[string]*KeyRecord{}, aliases: map[string]*Alias{}}
	if cur != nil {
		next.keys = maps.Clone(cur.keys)
		next.aliases = maps.Clone(cur.aliases)
	}
	if err := fn(&memTx{a: next}); err != nil {
		return err
	}
	if len(next.keys) == 0 && len(next.aliases) == 0 {
		delete(s.accounts, account)
	} else {
		s.accounts[account] = next
	}
	return nil
}

func (s *MemStore) View(ctx context.Context, account string, fn func(tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a := s.accounts[account]
	if a == nil {
		a = &memAccount{}
	}
	return fn(&memTx{a: a, readOnly: true})
}

func (s *MemStore) Accounts(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Sorted(maps.Keys(s.accounts)), nil
}

type memTx struct {
	a        *memAccount
	readOnly bool
}

func (t *memTx) Key(id string) (*KeyRecord, error) {
	r, ok := t.a.keys[id]
	if !ok {
		return nil, ErrNotFound
	}
	return r.Clone(), nil
}

func (t *memTx) Keys() ([]*KeyRecord, error) {
	out := make([]*KeyRecord, 0, len(t.a.keys))
	for _, id := range slices.Sorted(maps.Keys(t.a.keys)) {
		out = append(out, t.a.keys[id].Clone())
	}
	return out, nil
}

func (t *memTx) PutKey(r *KeyRecord) error {
	if t.readOnly {
		return ErrReadOnly
	}
	t.a.keys[r.Key.ID] = r.Clone()
	return nil
}

func (t *memTx) DeleteKey(id string) error {
	if t.readOnly {
		return ErrReadOnly
	}
	if _, ok := t.a.keys[id]; !ok {
		return ErrNotFound
	}
	delete(t.a.keys, id)
	return nil
}

func (t *memTx) Alias(name string) (*Alias, error) {
	a, ok := t.a.aliases[name]
	if !ok {
		return nil, ErrNotFound
	}
	c := *a
	return &c, nil
}

func (t *memTx) Aliases() ([]*Alias, error) {
	out := make([]*Alias, 0, len(t.a.aliases))
	for _, n := range slices.Sorted(maps.Keys(t.a.aliases)) {
		c := *t.a.aliases[n]
		out = append(out, &c)
	}
	return out, nil
}

func (t *memTx) PutAlias(a *Alias) error {
	if t.readOnly {
		return ErrReadOnly
	}
	c := *a
	t.a.aliases[a.Name] = &c
	return nil
}

func (t *memTx) DeleteAlias(name string) error {
	if t.readOnly {
		return ErrReadOnly
	}
	if _, ok := t.a.aliases[name]; !ok {
		return ErrNotFound
	}
	delete(t.a.aliases, name)
	return nil
}
