package macie

import (
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/storage/meta"
)

// scopeNumber reads an OBJECT_SIZE (bytes) or OBJECT_LAST_MODIFIED
// (ISO 8601 time) value as a number to compare.
func scopeNumber(key, v string) (int64, error) {
	if key == "OBJECT_SIZE" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, validation("OBJECT_SIZE values are byte counts.")
		}
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0, validation("OBJECT_LAST_MODIFIED values are ISO 8601 times such as 2026-01-31T00:00:00Z.")
	}
	return t.UnixMilli(), nil
}

// inScope says whether a job's scoping selects an object version.
func inScope(s *Scoping, v *meta.ObjectVersion) bool {
	if s == nil {
		return true
	}
	if s.Includes != nil {
		for _, t := range s.Includes.And {
			if !t.matches(v) {
				return false
			}
		}
	}
	if s.Excludes != nil {
		for _, t := range s.Excludes.And {
			if t.matches(v) {
				return false
			}
		}
	}
	return true
}

func (t ScopeTerm) matches(v *meta.ObjectVersion) bool {
	if g := t.TagScopeTerm; g != nil {
		// EQ: the object has any of the pairs; NE: it has none.
		any := false
		for _, p := range g.TagValues {
			if tv, ok := v.Tags[p.Key]; ok && (p.Value == "" || tv == p.Value) {
				any = true
			}
		}
		return any == (g.Comparator == "EQ")
	}
	s := t.SimpleScopeTerm
	switch s.Key {
	case "OBJECT_KEY":
		for _, p := range s.Values {
			if strings.HasPrefix(v.Key, p) {
				return true
			}
		}
		return false
	case "OBJECT_EXTENSION":
		ext := extension(v.Key)
		found := false
		for _, e := range s.Values {
			if strings.EqualFold(strings.TrimPrefix(e, "."), ext) {
				found = true
			}
		}
		return found == (s.Comparator == "EQ")
	}
	want, _ := scopeNumber(s.Key, s.Values[0])
	got := v.Size
	if s.Key == "OBJECT_LAST_MODIFIED" {
		got = v.LastModified.UnixMilli()
	}
	switch s.Comparator {
	case "EQ":
		return got == want
	case "NE":
		return got != want
	case "GT":
		return got > want
	case "GTE":
		return got >= want
	case "LT":
		return got < want
	case "LTE":
		return got <= want
	}
	return false
}
