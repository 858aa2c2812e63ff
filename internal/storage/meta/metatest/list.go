package metatest

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// objPage is a ListObjects result reduced to what listing tests compare.
type objPage struct {
	Keys           []string
	CommonPrefixes []string
	IsTruncated    bool
	NextMarker     string
}

func objPageOf(t *testing.T, r meta.ListResult) objPage {
	t.Helper()
	p := objPage{Keys: []string{}, CommonPrefixes: r.CommonPrefixes, IsTruncated: r.IsTruncated, NextMarker: r.NextMarker}
	for _, v := range r.Objects {
		if !v.IsLatest || v.DeleteMarker {
			t.Errorf("ListObjects returned %q %s with IsLatest %v DeleteMarker %v", v.Key, v.VersionID, v.IsLatest, v.DeleteMarker)
		}
		p.Keys = append(p.Keys, v.Key)
	}
	return p
}

// verPage is a ListVersions result reduced likewise.
type verPage struct {
	Versions            []ver
	CommonPrefixes      []string
	IsTruncated         bool
	NextMarker          string
	NextVersionIDMarker string
}

func verPageOf(r meta.ListResult) verPage {
	return verPage{summarize(r.Objects), r.CommonPrefixes, r.IsTruncated, r.NextMarker, r.NextVersionIDMarker}
}

// rollUp returns the common prefix key belongs to under o, or "".
func rollUp(key, prefix, delimiter string) string {
	if delimiter == "" || !strings.HasPrefix(key, prefix) {
		return ""
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return ""
	}
	return key[:len(prefix)+i+len(delimiter)]
}

// modelObjects is the reference ListObjects over the sorted live keys.
func modelObjects(live []string, o meta.ListOptions) objPage {
	p := objPage{Keys: []string{}}
	if o.MaxKeys <= 0 {
		return p
	}
	n, last, lastCP := 0, "", ""
	for _, k := range live {
		if !strings.HasPrefix(k, o.Prefix) || (o.Marker != "" && k <= o.Marker) {
			continue
		}
		cp := rollUp(k, o.Prefix, o.Delimiter)
		// A common prefix at or before the marker holds the marker: it
		// was returned on an earlier page.
		if cp != "" && (cp == lastCP || (o.Marker != "" && cp <= o.Marker)) {
			continue
		}
		if n == o.MaxKeys {
			p.IsTruncated = true
			p.NextMarker = last
			break
		}
		n++
		if cp != "" {
			p.CommonPrefixes = append(p.CommonPrefixes, cp)
			last, lastCP = cp, cp
		} else {
			p.Keys = append(p.Keys, k)
			last = k
		}
	}
	return p
}

// modelVersions is the reference ListVersions over all versions in
// listing order.
func modelVersions(all []ver, o meta.ListOptions) verPage {
	p := verPage{Versions: []ver{}}
	if o.MaxKeys <= 0 {
		return p
	}
	skipping := false // within the marker key, before VersionIDMarker
	if o.Marker != "" && o.VersionIDMarker != "" {
		skipping = slices.ContainsFunc(all, func(v ver) bool { return v.Key == o.Marker && v.VersionID == o.VersionIDMarker })
	}
	n, lastCP := 0, ""
	var last ver
	for _, v := range all {
		k := v.Key
		if !strings.HasPrefix(k, o.Prefix) {
			continue
		}
		if o.Marker != "" {
			if o.VersionIDMarker == "" {
				if k <= o.Marker {
					continue
				}
			} else if k < o.Marker {
				continue
			} else if k == o.Marker && skipping {
				skipping = v.VersionID != o.VersionIDMarker
				continue
			}
		}
		cp := rollUp(k, o.Prefix, o.Delimiter)
		if cp != "" && (cp == lastCP || (o.Marker != "" && cp <= o.Marker)) {
			continue
		}
		if n == o.MaxKeys {
			p.IsTruncated = true
			p.NextMarker, p.NextVersionIDMarker = last.Key, last.VersionID
			break
		}
		n++
		if cp != "" {
			p.CommonPrefixes = append(p.CommonPrefixes, cp)
			last, lastCP = ver{Key: cp}, cp
		} else {
			p.Versions = append(p.Versions, v)
			last = v
		}
	}
	return p
}

func testListObjects(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "list"
	mkBucket(t, s, b, meta.VersioningEnabled)
	for _, k := range []string{"a", "a/1", "a/2", "b", "c/x", "c/y/z", "d"} {
		put(t, s, b, k)
	}
	put(t, s, b, "a/1")
	a1, _ := put(t, s, b, "a/1")
	// Deleted keys, some alone under a prefix, must not show, nor their
	// prefixes.
	for _, k := range []string{"c/deleted", "e/x", "f"} {
		put(t, s, b, k)
		del(t, s, b, k, "")
	}

	type o = meta.ListOptions
	cases := []struct {
		name string
		opts meta.ListOptions
		want objPage
	}{
		{"all", o{MaxKeys: 1000}, objPage{Keys: []string{"a", "a/1", "a/2", "b", "c/x", "c/y/z", "d"}}},
		{"delimiter", o{Delimiter: "/", MaxKeys: 1000}, objPage{Keys: []string{"a", "b", "d"}, CommonPrefixes: []string{"a/", "c/"}}},
		{"prefixes count toward max", o{Delimiter: "/", MaxKeys: 2}, objPage{Keys: []string{"a"}, CommonPrefixes: []string{"a/"}, IsTruncated: true, NextMarker: "a/"}},
		{"truncated on a key", o{Delimiter: "/", MaxKeys: 3}, objPage{Keys: []string{"a", "b"}, CommonPrefixes: []string{"a/"}, IsTruncated: true, NextMarker: "b"}},
		{"marker is a prefix", o{Delimiter: "/", Marker: "a/", MaxKeys: 2}, objPage{Keys: []string{"b"}, CommonPrefixes: []string{"c/"}, IsTruncated: true, NextMarker: "c/"}},
		{"last page", o{Delimiter: "/", Marker: "c/", MaxKeys: 2}, objPage{Keys: []string{"d"}}},
		{"marker inside a prefix", o{Delimiter: "/", Marker: "a/1", MaxKeys: 1000}, objPage{Keys: []string{"b", "d"}, CommonPrefixes: []string{"c/"}}},
		{"marker before a prefix", o{Delimiter: "/", Marker: "a", MaxKeys: 1000}, objPage{Keys: []string{"b", "d"}, CommonPrefixes: []string{"a/", "c/"}}},
		{"prefix and delimiter", o{Prefix: "c/", Delimiter: "/", MaxKeys: 1000}, objPage{Keys: []string{"c/x"}, CommonPrefixes: []string{"c/y/"}}},
		{"deeper prefix", o{Prefix: "c/y/", Delimiter: "/", MaxKeys: 1000}, objPage{Keys: []string{"c/y/z"}}},
		{"prefix not ending at the delimiter", o{Prefix: "a", Delimiter: "/", MaxKeys: 1000}, objPage{Keys: []string{"a"}, CommonPrefixes: []string{"a/"}}},
		{"max 0", o{MaxKeys: 0}, objPage{Keys: []string{}}},
		{"max 0 with delimiter", o{Delimiter: "/", MaxKeys: 0}, objPage{Keys: []string{}}},
		{"exactly max", o{MaxKeys: 7}, objPage{Keys: []string{"a", "a/1", "a/2", "b", "c/x", "c/y/z", "d"}}},
		{"one short", o{MaxKeys: 6}, objPage{Keys: []string{"a", "a/1", "a/2", "b", "c/x", "c/y/z"}, IsTruncated: true, NextMarker: "c/y/z"}},
		{"marker is the last key", o{Marker: "d", MaxKeys: 1000}, objPage{Keys: []string{}}},
		{"marker past the end", o{Marker: "zzz", MaxKeys: 1000}, objPage{Keys: []string{}}},
		{"marker before the prefix", o{Prefix: "a/", Marker: "0", MaxKeys: 1000}, objPage{Keys: []string{"a/1", "a/2"}}},
		{"marker after the prefix", o{Prefix: "a/", Marker: "b", MaxKeys: 1000}, objPage{Keys: []string{}}},
		{"marker not a key", o{Marker: "a/15", MaxKeys: 1000}, objPage{Keys: []string{"a/2", "b", "c/x", "c/y/z", "d"}}},
		{"no match", o{Prefix: "x", MaxKeys: 1000}, objPage{Keys: []string{}}},
		{"prefix of deleted keys only", o{Prefix: "e", Delimiter: "/", MaxKeys: 1000}, objPage{Keys: []string{}}},
		{"delimiter ending a key", o{Prefix: "a", Delimiter: "1", MaxKeys: 1000}, objPage{Keys: []string{"a", "a/2"}, CommonPrefixes: []string{"a/1"}}},
		{"long delimiter", o{Delimiter: "/y/", MaxKeys: 1000}, objPage{Keys: []string{"a", "a/1", "a/2", "b", "c/x", "d"}, CommonPrefixes: []string{"c/y/"}}},
	}
	for _, tc := range cases {
		res, err := s.ListObjects(ctx, b, tc.opts)
		must(t, err)
		diff(t, tc.name, tc.want, objPageOf(t, res))
	}

	// Listed objects are the whole latest versions.
	res, err := s.ListObjects(ctx, b, meta.ListOptions{Prefix: "a/1", MaxKeys: 10})
	must(t, err)
	diff(t, "listed object", []*meta.ObjectVersion{a1}, res.Objects)
}

// Keys for the model tests, chosen so prefixes and delimiters meet in
// many ways, including multi-byte characters.
var (
	modelLive = []string{
		"a", "a/", "a//", "a/b", "a/b/c", "a/b/d", "a/bc", "a/c", "a0", "ab",
		"b/", "b/b/b", "b/x", "ba", "é", "é/x", "éé", "z", "z/é/ü", "日本/語", "😀",
	}
	modelDeleted = []string{"a/b/e", "b/y", "zz", "q/q"}
	modelMarkers = []string{"", "a/b/", "a/b/c/", "b", "c", "é/", "~", "q", "q/q"}
)

func testListObjectsModel(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "model"
	mkBucket(t, s, b, meta.VersioningEnabled)
	for i, k := range modelLive {
		put(t, s, b, k)
		if i%3 == 0 {
			put(t, s, b, k)
		}
	}
	for _, k := range modelDeleted {
		put(t, s, b, k)
		del(t, s, b, k, "")
	}
	live := slices.Clone(modelLive)
	sort.Strings(live)
	diff(t, "all keys", live, allKeys(t, s, b))

	list := func(o meta.ListOptions) {
		t.Helper()
		res, err := s.ListObjects(ctx, b, o)
		must(t, err)
		diff(t, fmt.Sprintf("ListObjects(%+v)", o), modelObjects(live, o), objPageOf(t, res))
	}
	for _, prefix := range []string{"", "a", "a/", "a/b", "b", "é", "z", "q"} {
		for _, delim := range []string{"", "/", "b", "/b/", "é"} {
			// Walk every page, as a client would.
			for _, max := range []int{1, 2, 3, 1000} {
				o := meta.ListOptions{Prefix: prefix, Delimiter: delim, MaxKeys: max}
				for range len(live) + 2 {
					list(o)
					want := modelObjects(live, o)
					if !want.IsTruncated {
						break
					}
					o.Marker = want.NextMarker
				}
			}
			// Start anywhere.
			for _, m := range append(slices.Clone(live), modelMarkers...) {
				list(meta.ListOptions{Prefix: prefix, Delimiter: delim, Marker: m, MaxKeys: 4})
			}
		}
	}
}

func testListObjectsOrder(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "order"
	mkBucket(t, s, b, meta.VersioningUnset)
	// UTF-8 byte order, which is code point order, not any collation.
	want := []string{"Z", "a", "a\u0301", "a\u0301\u0301", "~", "\x7f", "é", "ÿ", "日本", "😀"}
	for _, i := range []int{7, 3, 9, 0, 5, 1, 8, 2, 6, 4} {
		put(t, s, b, want[i])
	}
	diff(t, "order", want, allKeys(t, s, b))
	res, err := s.ListObjects(ctx, b, meta.ListOptions{Marker: "é", MaxKeys: 2})
	must(t, err)
	diff(t, "page after é", objPage{Keys: []string{"ÿ", "日本"}, IsTruncated: true, NextMarker: "日本"}, objPageOf(t, res))
	res, err = s.ListObjects(ctx, b, meta.ListOptions{Prefix: "a\u0301", MaxKeys: 10})
	must(t, err)
	diff(t, "prefix ending in a combining mark", objPage{Keys: []string{"a\u0301", "a\u0301\u0301"}}, objPageOf(t, res))
	res, err = s.ListObjects(ctx, b, meta.ListOptions{Delimiter: "\u0301", MaxKeys: 10})
	must(t, err)
	diff(t, "multi-byte delimiter", objPage{
		Keys:           []string{"Z", "a", "~", "\x7f", "é", "ÿ", "日本", "😀"},
		CommonPrefixes: []string{"a\u0301"},
	}, objPageOf(t, res))
}

func testListVersions(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "vlist"
	mkBucket(t, s, b, meta.VersioningUnset)
	n, _ := put(t, s, b, "a")
	setVersioning(t, s, b, meta.VersioningEnabled)
	a1, _ := put(t, s, b, "a")
	a2, _ := put(t, s, b, "a")
	dm := del(t, s, b, "a", "")
	b1, _ := put(t, s, b, "b")
	c1, _ := put(t, s, b, "c/1")
	c2, _ := put(t, s, b, "c/2")
	d1, _ := put(t, s, b, "d")

	var (
		vDM = ver{"a", dm.VersionID, true, true, ""}
		vA2 = ver{"a", a2.VersionID, false, false, a2.ETag}
		vA1 = ver{"a", a1.VersionID, false, false, a1.ETag}
		vN  = ver{"a", meta.NullVersion, false, false, n.ETag}
		vB1 = ver{"b", b1.VersionID, false, true, b1.ETag}
		vC1 = ver{"c/1", c1.VersionID, false, true, c1.ETag}
		vC2 = ver{"c/2", c2.VersionID, false, true, c2.ETag}
		vD1 = ver{"d", d1.VersionID, false, true, d1.ETag}
		all = []ver{vDM, vA2, vA1, vN, vB1, vC1, vC2, vD1}
	)
	// Resuming inside a key's versions: none of them is the latest.
	notLatest := func(v ver) ver { v.IsLatest = false; return v }

	type o = meta.ListOptions
	cases := []struct {
		name string
		opts meta.ListOptions
		want verPage
	}{
		{"all", o{MaxKeys: 1000}, verPage{Versions: all}},
		{"first page", o{MaxKeys: 2}, verPage{Versions: []ver{vDM, vA2}, IsTruncated: true, NextMarker: "a", NextVersionIDMarker: a2.VersionID}},
		{"within a key", o{Marker: "a", VersionIDMarker: a2.VersionID, MaxKeys: 2}, verPage{Versions: []ver{vA1, vN}, IsTruncated: true, NextMarker: "a", NextVersionIDMarker: meta.NullVersion}},
		{"after a null version", o{Marker: "a", VersionIDMarker: meta.NullVersion, MaxKeys: 2}, verPage{Versions: []ver{vB1, vC1}, IsTruncated: true, NextMarker: "c/1", NextVersionIDMarker: c1.VersionID}},
		{"after a marker", o{Marker: "a", VersionIDMarker: dm.VersionID, MaxKeys: 1000}, verPage{Versions: []ver{notLatest(vA2), vA1, vN, vB1, vC1, vC2, vD1}}},
		{"key marker alone", o{Marker: "a", MaxKeys: 1000}, verPage{Versions: []ver{vB1, vC1, vC2, vD1}}},
		{"version gone: whole key again", o{Marker: "a", VersionIDMarker: newVID(), MaxKeys: 1000}, verPage{Versions: all}},
		{"version id marker alone is ignored", o{VersionIDMarker: a2.VersionID, MaxKeys: 1000}, verPage{Versions: all}},
		{"delimiter", o{Delimiter: "/", MaxKeys: 1000}, verPage{Versions: []ver{vDM, vA2, vA1, vN, vB1, vD1}, CommonPrefixes: []string{"c/"}}},
		{"delimiter, cut at a version", o{Delimiter: "/", MaxKeys: 5}, verPage{Versions: []ver{vDM, vA2, vA1, vN, vB1}, IsTruncated: true, NextMarker: "b", NextVersionIDMarker: b1.VersionID}},
		{"delimiter, cut at a prefix", o{Delimiter: "/", MaxKeys: 6}, verPage{Versions: []ver{vDM, vA2, vA1, vN, vB1}, CommonPrefixes: []string{"c/"}, IsTruncated: true, NextMarker: "c/"}},
		{"after a prefix", o{Delimiter: "/", Marker: "c/", MaxKeys: 1000}, verPage{Versions: []ver{vD1}}},
		{"marker inside a prefix", o{Delimiter: "/", Marker: "c/1", VersionIDMarker: c1.VersionID, MaxKeys: 1000}, verPage{Versions: []ver{vD1}}},
		{"prefix", o{Prefix: "c/", MaxKeys: 1000}, verPage{Versions: []ver{vC1, vC2}}},
		{"marker before the prefix", o{Prefix: "c/", Marker: "a", VersionIDMarker: a1.VersionID, MaxKeys: 1000}, verPage{Versions: []ver{vC1, vC2}}},
		{"max 0", o{MaxKeys: 0}, verPage{Versions: []ver{}}},
	}
	for _, tc := range cases {
		res, err := s.ListVersions(ctx, b, tc.opts)
		must(t, err)
		diff(t, tc.name, tc.want, verPageOf(res))
	}

	// Listed versions are whole records.
	res, err := s.ListVersions(ctx, b, o{Prefix: "b", MaxKeys: 10})
	must(t, err)
	diff(t, "listed version", []*meta.ObjectVersion{b1}, res.Objects)
}

// vmodel tracks the versions a test writes, newest first per key.
type vmodel map[string][]ver

func (m vmodel) add(v ver) { m[v.Key] = append([]ver{v}, m[v.Key]...) }

func (m vmodel) dropNull(key string) {
	m[key] = slices.DeleteFunc(m[key], func(v ver) bool { return v.VersionID == meta.NullVersion })
}

func (m vmodel) flat() []ver {
	all := []ver{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		for i, v := range m[k] {
			v.IsLatest = i == 0
			all = append(all, v)
		}
	}
	return all
}

func testListVersionsModel(t *testing.T, s meta.Store) {
	ctx := t.Context()
	const b = "vmodel"
	mkBucket(t, s, b, meta.VersioningUnset)
	m := vmodel{}
	putM := func(key string) {
		v, _ := put(t, s, b, key)
		if v.VersionID == meta.NullVersion {
			m.dropNull(key)
		}
		m.add(ver{Key: key, VersionID: v.VersionID, ETag: v.ETag})
	}
	delM := func(key string) {
		res := del(t, s, b, key, "")
		if res.VersionID == meta.NullVersion {
			m.dropNull(key)
		}
		m.add(ver{Key: key, VersionID: res.VersionID, DeleteMarker: true})
	}
	for _, k := range []string{"a", "a/b", "c", "x/y/z"} {
		putM(k)
	}
	setVersioning(t, s, b, meta.VersioningEnabled)
	for _, k := range []string{"a", "a", "a/b", "a/c", "b", "b/x/y", "b/x/z", "d", "é", "é/1", "é/1"} {
		putM(k)
	}
	delM("b")
	delM("e")
	setVersioning(t, s, b, meta.VersioningSuspended)
	putM("c")
	delM("a/b")
	putM("a")
	all := m.flat()
	diff(t, "all versions", all, allVersions(t, s, b))

	list := func(o meta.ListOptions) {
		t.Helper()
		res, err := s.ListVersions(ctx, b, o)
		must(t, err)
		diff(t, fmt.Sprintf("ListVersions(%+v)", o), modelVersions(all, o), verPageOf(res))
	}
	for _, prefix := range []string{"", "a", "a/", "b/x/", "é", "x"} {
		for _, delim := range []string{"", "/", "x"} {
			for _, max := range []int{1, 2, 3, 1000} {
				o := meta.ListOptions{Prefix: prefix, Delimiter: delim, MaxKeys: max}
				for range len(all) + 2 {
					list(o)
					want := modelVersions(all, o)
					if !want.IsTruncated {
						break
					}
					o.Marker, o.VersionIDMarker = want.NextMarker, want.NextVersionIDMarker
				}
			}
			for _, v := range all {
				list(meta.ListOptions{Prefix: prefix, Delimiter: delim, Marker: v.Key, VersionIDMarker: v.VersionID, MaxKeys: 3})
				list(meta.ListOptions{Prefix: prefix, Delimiter: delim, Marker: v.Key, MaxKeys: 3})
			}
		}
	}
}
