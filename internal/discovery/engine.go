package discovery

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Engine scans objects with one configuration. It is safe for concurrent
// use: Scan keeps its state per call.
type Engine struct {
	defs   []idDef // managed (in managedTable order) then custom
	on     []bool  // managed identifier enabled
	custom []customDef
	allowW map[string]bool
	allowR []*regexp.Regexp
	lim    Limits
	max    int
	nMgd   int
}

type idDef struct {
	id       string
	cat      Category
	custom   *CustomIdentifier
	kw       []string // normalised keywords (see norm)
	kwb      [][]byte
	required bool // keyword required
}

type customDef struct {
	idx    int
	re     *regexp.Regexp
	kws    []string // lower-case keywords
	ignore []string
	dist   int
}

// ManagedIdentifiers lists every managed data identifier the engine knows,
// sorted by id, for ListManagedDataIdentifiers.
func ManagedIdentifiers() []ManagedIdentifier {
	out := make([]ManagedIdentifier, 0, len(managedTable))
	for _, d := range managedTable {
		out = append(out, ManagedIdentifier{ID: d.id, Category: d.cat})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IsManagedIdentifier reports whether id names a managed data identifier.
func IsManagedIdentifier(id string) bool {
	_, ok := managedIndex[id]
	return ok
}

// Validate checks a custom identifier as CreateCustomDataIdentifier does.
func (c CustomIdentifier) Validate() error {
	if c.Name == "" || len(c.Name) > 128 {
		return invalid("name must be 1-128 characters")
	}
	if c.Regex == "" || utf8.RuneCountInString(c.Regex) > 512 {
		return invalid("regex must be 1-512 characters")
	}
	if _, err := regexp.Compile(c.Regex); err != nil {
		return invalid("regex does not compile")
	}
	if len(c.Keywords) > 50 {
		return invalid("at most 50 keywords")
	}
	for _, k := range c.Keywords {
		if n := utf8.RuneCountInString(k); n < 3 || n > 90 {
			return invalid("keywords must be 3-90 characters")
		}
	}
	if len(c.IgnoreWords) > 10 {
		return invalid("at most 10 ignore words")
	}
	for _, k := range c.IgnoreWords {
		if n := utf8.RuneCountInString(k); n < 4 || n > 90 {
			return invalid("ignore words must be 4-90 characters")
		}
	}
	if c.MaximumMatchDistance < 0 || c.MaximumMatchDistance > 300 {
		return invalid("maximumMatchDistance must be 1-300")
	}
	return nil
}

// Validate checks an allow list's criteria as CreateAllowList does.
func (a AllowList) Validate() error {
	if a.Regex == "" && len(a.Words) == 0 {
		return invalid("an allow list needs a regex or words")
	}
	if utf8.RuneCountInString(a.Regex) > 512 {
		return invalid("regex must be at most 512 characters")
	}
	if a.Regex != "" {
		if _, err := regexp.Compile(a.Regex); err != nil {
			return invalid("regex does not compile")
		}
	}
	return nil
}

// New builds an Engine; unknown managed identifier ids and invalid custom
// identifiers or allow lists are errors wrapping ErrInvalidConfig.
func New(cfg Config) (*Engine, error) {
	e := &Engine{lim: cfg.Limits, max: cfg.MaxFindings, allowW: map[string]bool{}}
	if e.max <= 0 {
		e.max = 15
	}
	fillLimits(&e.lim)
	sel := map[string]bool{}
	for _, id := range cfg.ManagedIDs {
		if !IsManagedIdentifier(id) {
			return nil, invalid("unknown managed data identifier %q", id)
		}
		sel[id] = true
	}
	for _, d := range managedTable {
		on := false
		switch cfg.Selection {
		case "", SelectAll:
			on = true
		case SelectRecommended:
			on = d.recommended
		case SelectInclude:
			on = sel[d.id]
		case SelectExclude:
			on = !sel[d.id]
		case SelectNone:
		default:
			return nil, invalid("unknown selection %q", cfg.Selection)
		}
		kw := make([]string, len(d.kw))
		for i, k := range d.kw {
			kw[i] = norm(k)
		}
		kwb := make([][]byte, len(kw))
		for i, k := range kw {
			kwb[i] = []byte(k)
		}
		e.defs = append(e.defs, idDef{id: d.id, cat: d.cat, kw: kw, kwb: kwb, required: d.required})
		e.on = append(e.on, on)
	}
	e.nMgd = len(e.defs)
	for i := range cfg.Custom {
		c := cfg.Custom[i]
		if err := c.Validate(); err != nil {
			return nil, err
		}
		cd := customDef{idx: len(e.defs), re: regexp.MustCompile(c.Regex), ignore: c.IgnoreWords, dist: c.MaximumMatchDistance}
		if cd.dist == 0 {
			cd.dist = 50
		}
		for _, k := range c.Keywords {
			cd.kws = append(cd.kws, strings.ToLower(k))
		}
		e.defs = append(e.defs, idDef{id: c.ID, cat: CategoryCustom, custom: &cfg.Custom[i]})
		e.custom = append(e.custom, cd)
	}
	for _, a := range cfg.AllowLists {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		for _, w := range a.Words {
			if w = strings.TrimSpace(w); w != "" {
				e.allowW[w] = true
			}
		}
		if a.Regex != "" {
			e.allowR = append(e.allowR, regexp.MustCompile(a.Regex))
		}
	}
	return e, nil
}

func fillLimits(l *Limits) {
	d := DefaultLimits
	if l.MaxExpandedBytes <= 0 {
		l.MaxExpandedBytes = d.MaxExpandedBytes
	}
	if l.MaxBufferedBytes <= 0 {
		l.MaxBufferedBytes = d.MaxBufferedBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = d.MaxLineBytes
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
}

// allowed reports whether an allow list covers the matched text.
func (e *Engine) allowed(m []byte) bool {
	if len(e.allowW) > 0 && e.allowW[string(m)] {
		return true
	}
	for _, r := range e.allowR {
		if r.Match(m) {
			return true
		}
	}
	return false
}

// norm lower-cases a keyword and drops spaces, '_' and '-' so that
// "social security" also matches "social_security" and "SocialSecurity".
func norm(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '_' || c == '-':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 32)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
