package configrec

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store keeps configuration items and the small documents of the
// recorder and the rules (recorder state, rules, evaluation results).
// Implementations: MemoryStore here, boltstore for the data directory;
// storetest is the conformance suite both pass.
type Store interface {
	// PutRecord appends a record to its resource's history.
	PutRecord(ctx context.Context, r *Record) error
	// Latest returns a resource's newest record (nil, nil if none).
	Latest(ctx context.Context, k ResourceKey) (*Record, error)
	// History returns a resource's records captured within [from, to]
	// (a zero bound is open), oldest first.
	History(ctx context.Context, k ResourceKey, from, to time.Time) ([]Record, error)
	// Resources lists the recorded resources of an account and type,
	// ordered by ID.
	Resources(ctx context.Context, account, typ string) ([]ResourceKey, error)
	// PutDoc, GetDoc (nil, nil if none), DeleteDoc and ListDocs (keys
	// with prefix, ordered) keep opaque documents by kind and key.
	PutDoc(ctx context.Context, kind, key string, v []byte) error
	GetDoc(ctx context.Context, kind, key string) ([]byte, error)
	DeleteDoc(ctx context.Context, kind, key string) error
	ListDocs(ctx context.Context, kind, prefix string) ([]Doc, error)
	Close() error
}

// Doc is one stored document.
type Doc struct {
	Key   string
	Value []byte
}

// MemoryStore is a Store in memory, for tests.
type MemoryStore struct {
	mu    sync.Mutex
	items map[ResourceKey][]Record
	docs  map[string]map[string][]byte
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{items: map[ResourceKey][]Record{}, docs: map[string]map[string][]byte{}}
}

// PutRecord implements Store.
func (m *MemoryStore) PutRecord(_ context.Context, r *Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := ResourceKey{Account: r.Item.AccountID, Type: r.Item.ResourceType, ID: r.Item.ResourceID}
	m.items[k] = append(m.items[k], *r)
	return nil
}

// Latest implements Store.
func (m *MemoryStore) Latest(_ context.Context, k ResourceKey) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.items[k]
	if len(rs) == 0 {
		return nil, nil
	}
	r := rs[len(rs)-1]
	return &r, nil
}

// History implements Store.
func (m *MemoryStore) History(_ context.Context, k ResourceKey, from, to time.Time) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.items[k] {
		if InRange(r.CaptureTime, from, to) {
			out = append(out, r)
		}
	}
	return out, nil
}

// InRange reports whether t lies within [from, to], a zero bound being open.
func InRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
}

// Resources implements Store.
func (m *MemoryStore) Resources(_ context.Context, account, typ string) ([]ResourceKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ResourceKey
	for k := range m.items {
		if k.Account == account && k.Type == typ {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// PutDoc implements Store.
func (m *MemoryStore) PutDoc(_ context.Context, kind, key string, v []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.docs[kind] == nil {
		m.docs[kind] = map[string][]byte{}
	}
	m.docs[kind][key] = append([]byte(nil), v...)
	return nil
}

// GetDoc implements Store.
func (m *MemoryStore) GetDoc(_ context.Context, kind, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.docs[kind][key]
	if !ok {
		return nil, nil
	}
	return append([]byte(nil), v...), nil
}

// DeleteDoc implements Store.
func (m *MemoryStore) DeleteDoc(_ context.Context, kind, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.docs[kind], key)
	return nil
}

// ListDocs implements Store.
func (m *MemoryStore) ListDocs(_ context.Context, kind, prefix string) ([]Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Doc
	for k, v := range m.docs[kind] {
		if strings.HasPrefix(k, prefix) {
			out = append(out, Doc{k, append([]byte(nil), v...)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Close implements Store.
func (m *MemoryStore) Close() error { return nil }
