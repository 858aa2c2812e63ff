package macie

import (
	"context"
	"sort"
	"strings"
	"sync"
)

// memStore is a Store in memory for the package's own tests (the bolt
// store imports this package; its conformance suite is in storetest).
type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func openTestStore(string) (*memStore, error) { return &memStore{m: map[string][]byte{}}, nil }

func mk(account string, kind Kind, id string) string {
	return account + "\x01" + string(kind) + "\x01" + id
}

func (s *memStore) Put(_ context.Context, a string, k Kind, id string, doc []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[mk(a, k, id)] = append([]byte(nil), doc...)
	return nil
}

func (s *memStore) Get(_ context.Context, a string, k Kind, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[mk(a, k, id)]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (s *memStore) Delete(_ context.Context, a string, k Kind, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, mk(a, k, id))
	return nil
}

func (s *memStore) List(_ context.Context, a string, k Kind, prefix string, fn func(string, []byte) bool) error {
	s.mu.Lock()
	p := mk(a, k, "")
	var keys []string
	for key := range s.m {
		if strings.HasPrefix(key, p+prefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, key := range keys {
		vals[i] = s.m[key]
	}
	s.mu.Unlock()
	for i, key := range keys {
		if !fn(key[len(p):], vals[i]) {
			break
		}
	}
	return nil
}

func (s *memStore) Close() error { return nil }
