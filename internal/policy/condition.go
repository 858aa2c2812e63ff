package policy

import (
	"encoding/base64"
	"net/netip"
	"strings"
)

// Condition operator families and their comparisons.
type family uint8

const (
	famString family = iota + 1
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

type cmpOp uint8

const (
	cmpEquals cmpOp = iota
	cmpEqualsIgnoreCase
	cmpLike
	cmpLess
	cmpLessEquals
	cmpGreater
	cmpGreaterEquals
)

type opInfo struct {
	fam     family
	cmp     cmpOp
	negated bool // StringNotEquals, NotIpAddress, …: true on a missing key, NOR over values
}

// operators maps each base operator name (no ForAnyValue:/ForAllValues:
// prefix, no IfExists suffix) to its meaning. Names are case-sensitive, as
// AWS spells them.
var operators = map[string]opInfo{
	"StringEquals":              {famString, cmpEquals, false},
	"StringNotEquals":           {famString, cmpEquals, true},
	"StringEqualsIgnoreCase":    {famString, cmpEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {famString, cmpEqualsIgnoreCase, true},
	"StringLike":                {famString, cmpLike, false},
	"StringNotLike":             {famString, cmpLike, true},
	"NumericEquals":             {famNumeric, cmpEquals, false},
	"NumericNotEquals":          {famNumeric, cmpEquals, true},
	"NumericLessThan":           {famNumeric, cmpLess, false},
	"NumericLessThanEquals":     {famNumeric, cmpLessEquals, false},
	"NumericGreaterThan":        {famNumeric, cmpGreater, false},
	"NumericGreaterThanEquals":  {famNumeric, cmpGreaterEquals, false},
	"DateEquals":                {famDate, cmpEquals, false},
	"DateNotEquals":             {famDate, cmpEquals, true},
	"DateLessThan":              {famDate, cmpLess, false},
	"DateLessThanEquals":        {famDate, cmpLessEquals, false},
	"DateGreaterThan":           {famDate, cmpGreater, false},
	"DateGreaterThanEquals":     {famDate, cmpGreaterEquals, false},
	"Bool":                      {famBool, cmpEquals, false},
	"BinaryEquals":              {famBinary, cmpEquals, false},
	"IpAddress":                 {famIP, cmpEquals, false},
	"NotIpAddress":              {famIP, cmpEquals, true},
	"ArnEquals":                 {famARN, cmpLike, false}, // ArnEquals behaves as ArnLike [IAM-OPS]
	"ArnLike":                   {famARN, cmpLike, false},
	"ArnNotEquals":              {famARN, cmpLike, true},
	"ArnNotLike":                {famARN, cmpLike, true},
	"Null":                      {famNull, cmpEquals, false},
}

// Set qualifiers.
type qualifier uint8

const (
	qNone      qualifier = iota
	qAnyValue            // ForAnyValue:
	qAllValues           // ForAllValues:
)

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(name string) (op opInfo, q qualifier, ifExists, ok bool) {
	base := name
	switch {
	case strings.HasPrefix(base, "ForAnyValue:"):
		q, base = qAnyValue, base[len("ForAnyValue:"):]
	case strings.HasPrefix(base, "ForAllValues:"):
		q, base = qAllValues, base[len("ForAllValues:"):]
	}
	if strings.HasSuffix(base, "IfExists") {
		ifExists, base = true, base[:len(base)-len("IfExists")]
	}
	op, ok = operators[base]
	if ok && op.fam == famNull && ifExists {
		ok = false // NullIfExists would be meaningless; AWS does not define it
	}
	return op, q, ifExists, ok
}

// A condKey is a condition key name, kept as written and lower-cased (key
// names are case-insensitive), with the request facts Evaluate derives
// itself rather than trusting the caller's context for.
type condKey struct {
	name    string
	lower   string
	derived derivedKey
	tag     string // the tag key of aws:PrincipalTag/<tag>
}

type derivedKey uint8

const (
	dNone derivedKey = iota
	dUsername
	dUserID
	dPrincipalType
	dPrincipalArn
	dPrincipalAccount
	dPrincipalIsAWSService
	dPrincipalServiceName
	dResourceAccount
	dPrincipalTag
	numDerived
)

var derivedKeys = map[string]derivedKey{
	"aws:username":              dUsername,
	"aws:userid":                dUserID,
	"aws:principaltype":         dPrincipalType,
	"aws:principalarn":          dPrincipalArn,
	"aws:principalaccount":      dPrincipalAccount,
	"aws:principalisawsservice": dPrincipalIsAWSService,
	"aws:principalservicename":  dPrincipalServiceName,
	"aws:resourceaccount":       dResourceAccount,
	"s3:resourceaccount":        dResourceAccount,
}

const principalTagPrefix = "aws:principaltag/"

func newCondKey(name string) condKey {
	k := condKey{name: name, lower: strings.ToLower(name)}
	if d, ok := derivedKeys[k.lower]; ok {
		k.derived = d
	} else if strings.HasPrefix(k.lower, principalTagPrefix) {
		k.derived, k.tag = dPrincipalTag, name[len(principalTagPrefix):]
	}
	return k
}

// condValue is one policy value of a condition, compiled for its family.
type condValue struct {
	str    pattern    // famString (also the raw text for famARN with variables)
	arn    arnPattern // famARN without variables
	num    decimal    // famNumeric
	date   instant    // famDate
	b      bool       // famBool, famNull
	bin    string     // famBinary: decoded bytes
	prefix netip.Prefix
}

type condition struct {
	opName   string // as written, for diagnostics
	op       opInfo
	qual     qualifier
	ifExists bool
	key      condKey
	values   []condValue
}

// compileValue compiles one condition value (its JSON text already turned
// into a string). ok is false when the value does not have the operator's
// type.
func compileValue(op opInfo, s string, vars bool) (condValue, bool) {
	var v condValue
	switch op.fam {
	case famString:
		v.str = compilePattern(s, op.cmp == cmpLike, vars)
		return v, true
	case famARN:
		v.str = compilePattern(s, true, vars)
		if v.str.hasVars {
			return v, true // split after substitution: a value may hold colons
		}
		if s == "*" {
			v.arn.any = true
			return v, true
		}
		f, ok := splitARN(s)
		if !ok {
			return v, false
		}
		v.arn = compileARN(f, false)
		return v, true
	case famNumeric:
		d, ok := parseDecimal(s)
		v.num = d
		return v, ok
	case famDate:
		t, ok := parseDate(s)
		v.date = t
		return v, ok
	case famBool, famNull:
		b, ok := parseBool(s)
		v.b = b
		return v, ok
	case famBinary:
		raw, err := base64.StdEncoding.DecodeString(s)
		v.bin = string(raw)
		return v, err == nil
	case famIP:
		p, ok := parseCIDR(s)
		v.prefix = p
		return v, ok
	}
	return v, false
}

// eval evaluates the condition against the request.
//
// Per key (K = the request's values, P = the policy's values):
//
//	K absent:  IfExists → true; ForAnyValue → false; ForAllValues → true;
//	           otherwise positive operators false, negated ones true.
//	present:   m(k) = k matches some p under the positive operator;
//	           unqualified: positive ∃k m(k), negated ¬∃k m(k)
//	           ForAnyValue: ∃k, ForAllValues: ∀k of m(k) (or ¬m(k) if negated).
//
// An empty value list counts as absent. Null ignores the qualifiers: it
// tests presence only.
func (c *condition) eval(e *evalCtx) bool {
	cv := e.lookup(&c.key)
	vals := cv.list()
	if c.op.fam == famNull {
		for i := range c.values {
			if c.values[i].b == (len(vals) == 0) {
				return true
			}
		}
		return false
	}
	if len(vals) == 0 {
		switch {
		case c.ifExists:
			return true
		case c.qual == qAnyValue:
			return false
		case c.qual == qAllValues:
			return true
		}
		return c.op.negated
	}
	switch c.qual {
	case qAnyValue:
		for _, k := range vals {
			if c.matchOne(k, e) != c.op.negated {
				return true
			}
		}
		return false
	case qAllValues:
		for _, k := range vals {
			if c.matchOne(k, e) == c.op.negated {
				return false
			}
		}
		return true
	}
	// Unqualified on a (wrongly) multivalued key: AWS leaves it undefined;
	// treat the values as a set the positive operator must hit, and its
	// negation as "hits none".
	for _, k := range vals {
		if c.matchOne(k, e) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// matchOne reports m(k): whether the request value k matches any policy
// value under the positive form of the operator.
func (c *condition) matchOne(k string, e *evalCtx) bool {
	switch c.op.fam {
	case famString:
		for i := range c.values {
			if c.matchString(k, &c.values[i], e) {
				return true
			}
		}
	case famARN:
		f, ok := splitARN(k)
		if !ok {
			return false
		}
		head := arnHead(k)
		for i := range c.values {
			v := &c.values[i]
			if !v.str.hasVars {
				if v.arn.match(&f, head, e) {
					return true
				}
				continue
			}
			if arnTokensMatch(v.str.toks, &f, e) {
				return true
			}
		}
	case famNumeric:
		d, ok := parseDecimal(k)
		if !ok {
			return false
		}
		for i := range c.values {
			if c.op.cmp.holds(cmpDecimal(d, c.values[i].num)) {
				return true
			}
		}
	case famDate:
		t, ok := parseDate(k)
		if !ok {
			return false
		}
		for i := range c.values {
			if c.op.cmp.holds(cmpInstant(t, c.values[i].date)) {
				return true
			}
		}
	case famBool:
		b, ok := parseBool(k)
		if !ok {
			return false
		}
		for i := range c.values {
			if b == c.values[i].b {
				return true
			}
		}
	case famBinary:
		for i := range c.values {
			if k == c.values[i].bin {
				return true
			}
		}
	case famIP:
		a, ok := parseIP(k)
		if !ok {
			return false
		}
		for i := range c.values {
			p := c.values[i].prefix
			if p.Addr().Is4() == a.Is4() && p.Contains(a) {
				return true
			}
		}
	}
	return false
}

func (c *condition) matchString(k string, v *condValue, e *evalCtx) bool {
	switch c.op.cmp {
	case cmpEqualsIgnoreCase:
		if !v.str.hasVars {
			s, _ := v.str.text()
			return strings.EqualFold(k, s)
		}
		s, ok := v.str.substitute(e)
		return ok && strings.EqualFold(k, s)
	default: // Equals (literal pattern) and Like (wildcards)
		return v.str.match(k, e)
	}
}

// holds reports whether the comparison result c (-1, 0, 1 for request
// value vs policy value) satisfies the operator.
func (op cmpOp) holds(c int) bool {
	switch op {
	case cmpEquals, cmpEqualsIgnoreCase, cmpLike:
		return c == 0
	case cmpLess:
		return c < 0
	case cmpLessEquals:
		return c <= 0
	case cmpGreater:
		return c > 0
	case cmpGreaterEquals:
		return c >= 0
	}
	return false
}

// arnTokensMatch matches an ARN condition value that contains variables:
// the variables are substituted first (their values may contain colons,
// e.g. ${aws:PrincipalArn}), then the value is split into its six fields
// and each is globbed. Wildcards come only from the policy text: the value
// is rebuilt with every literal *, ? and $ escaped as ${*}, ${?}, ${$}
// before it is compiled again. This path allocates; it is taken only for
// ARN conditions with variables.
func arnTokensMatch(toks []token, f *[6]string, e *evalCtx) bool {
	var b strings.Builder
	escaped := func(s string) {
		for i := 0; i < len(s); i++ {
			switch c := s[i]; c {
			case '*', '?', '$':
				b.WriteString("${")
				b.WriteByte(c)
				b.WriteByte('}')
			default:
				b.WriteByte(c)
			}
		}
	}
	for i := range toks {
		switch t := &toks[i]; t.kind {
		case tLit:
			escaped(t.lit)
		case tStar:
			b.WriteByte('*')
		case tQuest:
			b.WriteByte('?')
		case tVar:
			v, ok := e.variable(t.v)
			if !ok {
				return false
			}
			escaped(v)
		}
	}
	s := b.String()
	if s == "*" {
		return true
	}
	pf, ok := splitARN(s)
	if !ok {
		return false
	}
	for i := 0; i < 6; i++ {
		p := compilePattern(pf[i], true, true) // only the escapes are ${…} now
		if !p.match(f[i], nil) {
			return false
		}
	}
	return true
}
