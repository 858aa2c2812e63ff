package policy

import (
	"strings"
	"unicode/utf8"
)

// A pattern is a compiled policy string: an action name, one field of a
// resource ARN, or a condition value. It is a sequence of literal text,
// wildcards (only where the element interprets them) and policy variables
// (only in 2012-10-17 documents, and only where AWS substitutes them).
//
// Substituted variable values are matched literally: a "*" inside a user
// name or an s3:prefix never acts as a wildcard. That is what the ${*},
// ${?} and ${$} escapes imply (the policy author's text is the only place
// wildcards come from), and it keeps a request-controlled value from
// widening a grant.

type tokKind uint8

const (
	tLit   tokKind = iota // literal text
	tStar                 // * : any run of characters, possibly empty
	tQuest                // ? : exactly one character
	tVar                  // ${key} or ${key, 'default'}
)

type token struct {
	kind tokKind
	lit  string   // tLit
	v    *varSpec // tVar
}

// varSpec is a policy variable: the context key it reads and its default.
type varSpec struct {
	key    condKey
	def    string
	hasDef bool
}

// Pattern fast paths, chosen at compile time so that the common shapes
// ("s3:GetObject", "s3:Get*", "*", "*Object*") match without the general
// loop.
const (
	pmGeneral  uint8 = iota
	pmExact          // one literal
	pmPrefix         // literal followed by *
	pmAny            // * alone
	pmSuffix         // * followed by a literal
	pmContains       // a literal between two stars
)

type pattern struct {
	toks    []token
	mode    uint8
	lit     string // the literal of pmExact, pmPrefix, pmSuffix, pmContains
	suffix  string // pmGeneral without variables: literal text the input must end with
	hasVars bool
	hasWild bool
	fold    bool // compiled for case-insensitive matching: literals are lower-case
}

// compilePattern compiles s. wild makes * and ? wildcards; vars makes ${…}
// a policy variable (otherwise it is literal text, as in 2008-10-17
// documents).
func compilePattern(s string, wild, vars bool) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.toks = append(p.toks, token{kind: tLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if vars && c == '$' && i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end >= 0 {
				inner := s[i+2 : i+2+end]
				i += 2 + end + 1
				switch inner {
				case "*", "?", "$":
					lit.WriteString(inner)
					continue
				}
				flush()
				p.toks = append(p.toks, parseVariable(inner))
				p.hasVars = true
				continue
			}
		}
		if wild && c == '*' {
			flush()
			if n := len(p.toks); n == 0 || p.toks[n-1].kind != tStar {
				p.toks = append(p.toks, token{kind: tStar})
			}
			p.hasWild = true
			i++
			continue
		}
		if wild && c == '?' {
			flush()
			p.toks = append(p.toks, token{kind: tQuest})
			p.hasWild = true
			i++
			continue
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	switch {
	case p.hasVars:
		p.mode = pmGeneral
	case len(p.toks) == 0:
		p.mode, p.lit = pmExact, ""
	case len(p.toks) == 1 && p.toks[0].kind == tLit:
		p.mode, p.lit = pmExact, p.toks[0].lit
	case len(p.toks) == 1 && p.toks[0].kind == tStar:
		p.mode = pmAny
	case len(p.toks) == 2 && p.toks[0].kind == tLit && p.toks[1].kind == tStar:
		p.mode, p.lit = pmPrefix, p.toks[0].lit
	case len(p.toks) == 2 && p.toks[0].kind == tStar && p.toks[1].kind == tLit:
		p.mode, p.lit = pmSuffix, p.toks[1].lit
	case len(p.toks) == 3 && p.toks[0].kind == tStar && p.toks[1].kind == tLit && p.toks[2].kind == tStar:
		p.mode, p.lit = pmContains, p.toks[1].lit
	default:
		if last := p.toks[len(p.toks)-1]; last.kind == tLit {
			p.suffix = last.lit
		}
	}
	return p
}

// parseVariable parses the inside of ${…}: a context key, optionally
// followed by a comma and a single-quoted default ("aws:username, 'x'").
func parseVariable(inner string) token {
	v := &varSpec{}
	key := inner
	if c := strings.IndexByte(inner, ','); c >= 0 {
		rest := strings.TrimSpace(inner[c+1:])
		if len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' {
			key = inner[:c]
			v.def, v.hasDef = rest[1:len(rest)-1], true
		}
	}
	v.key = newCondKey(strings.TrimSpace(key))
	return token{kind: tVar, v: v}
}

// compileFold compiles a case-insensitive pattern (action names): literals
// are stored lower-case so that matching folds only the input.
func compileFold(s string) pattern {
	p := compilePattern(strings.ToLower(s), true, false)
	p.fold = true
	return p
}

// text returns the pattern's text when it is a plain literal (no
// wildcards, no variables).
func (p *pattern) text() (string, bool) {
	if p.mode == pmExact {
		return p.lit, true
	}
	return "", false
}

// match reports whether s matches p. Patterns compiled with compileFold
// match ASCII-case-insensitively (action names). Variables are resolved
// through e; a variable without a value (and without a default) makes the
// pattern match nothing, which is AWS's "no equal or like value".
func (p *pattern) match(s string, e *evalCtx) bool {
	switch p.mode {
	case pmExact:
		return len(s) == len(p.lit) && eqLit(s, p.lit, p.fold)
	case pmPrefix:
		return len(s) >= len(p.lit) && eqLit(s[:len(p.lit)], p.lit, p.fold)
	case pmAny:
		return true
	case pmSuffix:
		return len(s) >= len(p.lit) && eqLit(s[len(s)-len(p.lit):], p.lit, p.fold)
	case pmContains:
		return indexLit(s, p.lit, p.fold) >= 0
	}
	if len(s) < len(p.suffix) || !eqLit(s[len(s)-len(p.suffix):], p.suffix, p.fold) {
		return false
	}
	return globMatch(p.toks, s, p.fold, e)
}

// eqLit compares s with a literal of the same length; with fold the
// literal is lower-case and s is folded byte by byte (ASCII).
func eqLit(s, lit string, fold bool) bool {
	if !fold {
		return s == lit
	}
	for i := 0; i < len(lit); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false
		}
	}
	return true
}

// indexLit finds lit in s (folding s when fold is set), or -1.
func indexLit(s, lit string, fold bool) int {
	if !fold {
		return strings.Index(s, lit)
	}
	for i := 0; i+len(lit) <= len(s); i++ {
		if eqLit(s[i:i+len(lit)], lit, true) {
			return i
		}
	}
	return -1
}

// globMatch is the classic wildcard matcher with a single backtrack point:
// on a mismatch it returns to the most recent star and lets it absorb one
// more character. That is complete because every other token matches a
// fixed amount of text, so an earlier star never needs to be revisited once
// a later one has been passed. A star followed by literal text jumps
// straight to the literal's next occurrence. Worst case
// O(len(toks)·len(s)).
func globMatch(toks []token, s string, fold bool, e *evalCtx) bool {
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tStar:
				starTi = ti
				ti++
				if ti == len(toks) {
					return true // a trailing star takes the rest
				}
				if next := &toks[ti]; next.kind == tLit {
					i := indexLit(s[si:], next.lit, fold)
					if i < 0 {
						return false // no later start can find it either
					}
					si += i
				}
				starSi = si
				continue
			case tQuest:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tLit:
				if len(s)-si >= len(t.lit) && eqLit(s[si:si+len(t.lit)], t.lit, fold) {
					si += len(t.lit)
					ti++
					continue
				}
			case tVar:
				v, ok := e.variable(t.v)
				if !ok {
					return false
				}
				// Variable values are matched exactly, also under fold
				// (variables never occur in folded patterns).
				if len(s)-si >= len(v) && s[si:si+len(v)] == v {
					si += len(v)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		ti, si = starTi, starSi+n
	}
}

// substitute returns p's text with variables replaced, for the rare
// comparisons that need the whole string (case-insensitive equality, ARN
// values whose variables may contain colons). ok is false when a variable
// has no value.
func (p *pattern) substitute(e *evalCtx) (string, bool) {
	if !p.hasVars {
		if s, ok := p.text(); ok {
			return s, true
		}
	}
	var b strings.Builder
	for i := range p.toks {
		t := &p.toks[i]
		switch t.kind {
		case tLit:
			b.WriteString(t.lit)
		case tStar:
			b.WriteByte('*')
		case tQuest:
			b.WriteByte('?')
		case tVar:
			v, ok := e.variable(t.v)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		}
	}
	return b.String(), true
}

// couldMatch reports whether s (whole) or some string starting with s
// (!whole) matches p, counting variables as able to produce anything. It
// decides whether a bucket-policy resource can refer to a given bucket.
func (p *pattern) couldMatch(s string, whole bool) bool {
	// An NFA over (token, offset inside a literal) positions: literal
	// tokens are consumed character by character; a star or a variable
	// may absorb any character or be skipped.
	type pos struct{ ti, off int }
	cur := map[pos]bool{{0, 0}: true}
	expand := func(m map[pos]bool) {
		for changed := true; changed; {
			changed = false
			for q := range m {
				if q.ti < len(p.toks) && q.off == 0 && (p.toks[q.ti].kind == tStar || p.toks[q.ti].kind == tVar) {
					n := pos{q.ti + 1, 0}
					if !m[n] {
						m[n] = true
						changed = true
					}
				}
			}
		}
	}
	expand(cur)
	for _, c := range s {
		next := map[pos]bool{}
		for q := range cur {
			if q.ti >= len(p.toks) {
				continue
			}
			t := &p.toks[q.ti]
			switch t.kind {
			case tStar, tVar:
				next[q] = true // absorbs c, stays
			case tQuest:
				next[pos{q.ti + 1, 0}] = true
			case tLit:
				r, size := utf8.DecodeRuneInString(t.lit[q.off:])
				if r == c {
					if q.off+size == len(t.lit) {
						next[pos{q.ti + 1, 0}] = true
					} else {
						next[pos{q.ti, q.off + size}] = true
					}
				}
			}
		}
		expand(next)
		if len(next) == 0 {
			return false
		}
		cur = next
	}
	if !whole {
		return true
	}
	return cur[pos{len(p.toks), 0}]
}
