package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is the role a policy document plays. It decides which elements are
// required or forbidden and which service's error vocabulary Parse speaks.
type Kind uint8

const (
	// Identity is an inline identity-based policy (user, group or role).
	Identity Kind = iota + 1
	// Managed is a customer-managed identity-based policy. Unlike inline
	// policies it must declare Version 2012-10-17.
	Managed
	// Boundary is a permissions boundary: a managed policy used as a cap.
	Boundary
	// Session is an inline session policy passed to AssumeRole* or
	// GetFederationToken.
	Session
	// Resource is an S3 bucket policy.
	Resource
	// Trust is a role trust policy (AssumeRolePolicyDocument).
	Trust
	// KeyPolicy is a KMS key policy. Every statement names a Principal,
	// Sids may be free text (AWS's own default policy uses spaces), and
	// evaluation treats it as the key's sole authority (see Evaluate).
	KeyPolicy
)

var kindNames = [...]string{"?", "Identity", "Managed", "Boundary", "Session", "Resource", "Trust", "KeyPolicy"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// s3 reports whether documents of this kind are S3's (bucket policies);
// all others are IAM's or STS's.
func (k Kind) s3() bool { return k == Resource }

// identityLike reports whether the kind is attached to an identity (no
// Principal element).
func (k Kind) identityLike() bool {
	return k == Identity || k == Managed || k == Boundary || k == Session
}

// Policy language versions.
const (
	Version2012 = "2012-10-17" // current: policy variables are substituted
	Version2008 = "2008-10-17" // legacy: ${…} is literal text
)

// Policy is a parsed, validated policy document. It is immutable and safe
// for concurrent use; wildcards, CIDR blocks, numbers and dates are
// compiled once, here, so that evaluation only compares.
type Policy struct {
	kind    Kind
	version string
	id      string
	stmts   []statement
	public  bool
}

// Kind returns the kind the policy was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Version returns the effective policy language version (the default when
// the document has none).
func (p *Policy) Version() string { return p.version }

// ID returns the document's Id element, if any.
func (p *Policy) ID() string { return p.id }

// Len returns the number of statements.
func (p *Policy) Len() int { return len(p.stmts) }

type effect uint8

const (
	allow effect = iota
	deny
)

type statement struct {
	sid   string
	label string // Sid, or "Statement[i]" when there is none
	eff   effect

	hasPrincipal bool
	notPrincipal bool
	principals   []principalEntry

	notAction bool
	actions   []actionPattern
	// actSigs repeats the first actions' pre-check keys inline, so that
	// rejecting a statement on its action touches no other memory
	// (see actionSig).
	actSigs [4]uint64

	hasResource bool // trust policies have none: every resource matches
	notResource bool
	resources   []arnPattern

	conds []condition
}

// actionPattern is a compiled Action/NotAction entry: "*" or
// service:name with wildcards in the name. Matching is case-insensitive.
type actionPattern struct {
	// A cheap pre-check first: the service's hash and the name's first
	// letter (0 when the name starts with a wildcard) reject most
	// non-matching actions before any string is compared.
	svcHash uint32
	first   byte
	all     bool
	mode    uint8  // name.mode
	full    string // lower-case "service:name" (exact) or "service:prefix" (name*)
	service string // lower-case
	name    pattern
	litb    []byte // the literal of a *lit* or *lit name, for matching the lower-cased action bytes
}

// sig packs the pre-check into one word: service hash, first letter, and
// a bit for "*" (which matches everything).
//
// For exact names and name* prefixes it also carries the length of the
// text to compare and its last byte, so that most near misses ("s3:Get*"
// against s3:ListBucket, "s3:GetObject" against s3:GetObjectAcl) are
// rejected without a string comparison.
func (a *actionPattern) sig() uint64 {
	if a.all {
		return 1
	}
	s := uint64(a.svcHash)<<32 | uint64(a.first)<<8
	if (a.mode == pmExact || a.mode == pmPrefix) && len(a.full) < 256 {
		s |= uint64(len(a.full))<<24 | uint64(a.full[len(a.full)-1])<<16
		if a.mode == pmPrefix {
			s |= 2
		}
	}
	return s
}

// serviceHash hashes a lower-case service name (FNV-1a).
func serviceHash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// parser carries the document kind so that every error speaks the right
// service's vocabulary.
type parser struct {
	kind Kind
	vars bool // 2012-10-17: substitute ${…}
}

func (ps *parser) err(msg string) *Error {
	if ps.kind.s3() {
		return &Error{Code: CodeMalformedPolicy, Message: msg}
	}
	return &Error{Code: CodeMalformedPolicyDocument, Message: msg}
}

// syntax is the catch-all for a document of the wrong shape.
func (ps *parser) syntax() *Error {
	if ps.kind.s3() {
		return ps.err(msgS3Syntax)
	}
	return ps.err(msgIAMSyntax)
}

// Parse parses and validates a policy document of the given kind. The
// error, if any, is an *Error carrying the code and message AWS would
// answer with. Size limits are the caller's (see Max*Size and Size).
func Parse(doc []byte, kind Kind) (*Policy, error) {
	if kind < Identity || kind > KeyPolicy {
		return nil, fmt.Errorf("policy: unknown kind %d", kind)
	}
	ps := &parser{kind: kind}
	if kind.s3() {
		// S3 checks the first byte before anything else, leading
		// whitespace included.
		if len(doc) == 0 || doc[0] != '{' {
			return nil, ps.err(msgS3FirstByte)
		}
	} else if !validIAMText(doc) {
		return nil, ps.err(msgIAMInvalidChar)
	}
	root, err := decodeJSON(doc)
	switch {
	case err == errJSONDuplicate:
		return nil, ps.syntax()
	case err != nil && kind.s3():
		return nil, ps.err(msgS3InvalidJSON)
	case err != nil:
		return nil, ps.err(msgIAMInvalidJSON)
	}
	if root.kind != jObject {
		return nil, ps.syntax()
	}
	p := &Policy{kind: kind}
	if err := ps.document(root, p); err != nil {
		return nil, err
	}
	p.public = p.computePublic()
	return p, nil
}

// validIAMText enforces IAM's character set for policy text: TAB, LF, CR
// and U+0020–U+00FF.
func validIAMText(doc []byte) bool {
	for _, r := range string(doc) {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if r < 0x20 || r > 0xff {
			return false
		}
	}
	return true
}

func (ps *parser) document(root *jnode, p *Policy) *Error {
	var stmtNode *jnode
	for _, m := range root.members {
		switch m.name {
		case "Version":
			if m.val.kind != jString || (m.val.str != Version2012 && m.val.str != Version2008) {
				if ps.kind.s3() {
					return ps.err(msgS3Version)
				}
				return ps.syntax()
			}
			p.version = m.val.str
		case "Id":
			if m.val.kind != jString {
				return ps.syntax()
			}
			p.id = m.val.str
		case "Statement":
			stmtNode = m.val
		default:
			if ps.kind.s3() {
				return ps.err(msgS3UnknownField + m.name)
			}
			return ps.syntax()
		}
	}
	if p.version == "" {
		if ps.kind == Managed || ps.kind == Boundary {
			return ps.err(msgIAMVersion)
		}
		p.version = Version2008 // AWS's default when Version is absent
	} else if p.version != Version2012 && (ps.kind == Managed || ps.kind == Boundary) {
		return ps.err(msgIAMVersion)
	}
	ps.vars = p.version == Version2012

	if stmtNode == nil {
		if ps.kind.s3() {
			return ps.err(msgS3NoStatement)
		}
		return ps.syntax()
	}
	var elems []*jnode
	switch stmtNode.kind {
	case jObject:
		elems = []*jnode{stmtNode}
	case jArray:
		elems = stmtNode.elems
	default:
		return ps.syntax()
	}
	if len(elems) == 0 {
		if ps.kind.s3() {
			return ps.err(msgS3EmptyStatement)
		}
		return ps.syntax()
	}
	sids := make(map[string]bool)
	p.stmts = make([]statement, len(elems))
	for i, el := range elems {
		if el.kind != jObject {
			return ps.syntax()
		}
		s := &p.stmts[i]
		if err := ps.statement(el, s); err != nil {
			return err
		}
		if s.sid != "" {
			if sids[s.sid] {
				if ps.kind.s3() {
					return ps.err(msgS3DuplicateSid)
				}
				return ps.err(msgIAMDuplicateSid)
			}
			sids[s.sid] = true
			s.label = s.sid
		} else {
			s.label = "Statement[" + strconv.Itoa(i) + "]"
		}
	}
	return nil
}

var statementFields = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true,
	"Condition": true,
}

func (ps *parser) statement(n *jnode, s *statement) *Error {
	s3 := ps.kind.s3()
	// Shape first: unknown members and members of the wrong JSON type.
	for _, m := range n.members {
		if !statementFields[m.name] {
			if s3 {
				return ps.err(msgS3UnknownField + m.name)
			}
			return ps.syntax()
		}
		switch m.name {
		case "Sid", "Effect":
			if m.val.kind != jString {
				return ps.syntax()
			}
		case "Action", "NotAction", "Resource", "NotResource":
			if !isStringOrStrings(m.val) {
				return ps.syntax()
			}
		case "Condition":
			if m.val.kind != jObject {
				return ps.syntax()
			}
		}
	}
	principal, notPrincipal := n.get("Principal"), n.get("NotPrincipal")
	action, notAction := n.get("Action"), n.get("NotAction")
	resource, notResource := n.get("Resource"), n.get("NotResource")

	if sid := n.get("Sid"); sid != nil {
		s.sid = sid.str
		if !s3 && ps.kind != KeyPolicy && !alnum(s.sid) {
			return ps.err(msgIAMSidChars)
		}
	}

	eff := n.get("Effect")
	switch {
	case eff == nil && s3:
		return ps.err(msgS3MissingField + "Effect")
	case eff == nil:
		return ps.syntax()
	case eff.str == "Allow":
		s.eff = allow
	case eff.str == "Deny":
		s.eff = deny
	case s3:
		return ps.err(msgS3InvalidEffect + eff.str)
	default:
		return ps.syntax()
	}

	// Which elements this kind requires and forbids.
	switch {
	case ps.kind.identityLike():
		if principal != nil || notPrincipal != nil {
			return ps.err(msgIAMPrincipal)
		}
	case ps.kind == Trust:
		if notPrincipal != nil {
			return ps.err(msgIAMProhibited + "NotPrincipal")
		}
		if resource != nil {
			return ps.err(msgIAMProhibited + "Resource")
		}
		if notResource != nil {
			return ps.err(msgIAMProhibited + "NotResource")
		}
		if principal == nil {
			return ps.err(msgIAMNoPrincipal)
		}
	case s3:
		if principal != nil && notPrincipal != nil {
			return ps.syntax()
		}
		if principal == nil && notPrincipal == nil {
			return ps.err(msgS3MissingField + "Principal")
		}
	case ps.kind == KeyPolicy:
		if principal != nil && notPrincipal != nil {
			return ps.syntax()
		}
		if principal == nil && notPrincipal == nil {
			return ps.err(msgKMSNoPrincipal)
		}
	}
	if action != nil && notAction != nil {
		return ps.syntax()
	}
	if action == nil && notAction == nil {
		if s3 {
			return ps.err(msgS3MissingField + "Action")
		}
		return ps.err(msgIAMNoActions)
	}
	if resource != nil && notResource != nil {
		return ps.syntax()
	}
	if resource == nil && notResource == nil && ps.kind != Trust {
		if s3 {
			return ps.err(msgS3MissingField + "Resource")
		}
		return ps.err(msgIAMNoResources)
	}

	// Values, in element order.
	if principal != nil || notPrincipal != nil {
		s.hasPrincipal = true
		pn := principal
		if pn == nil {
			pn, s.notPrincipal = notPrincipal, true
		}
		if err := ps.principals(pn, s); err != nil {
			return err
		}
	}
	an := action
	if an == nil {
		an, s.notAction = notAction, true
	}
	if err := ps.actions(an, s); err != nil {
		return err
	}
	if resource != nil || notResource != nil {
		s.hasResource = true
		rn := resource
		if rn == nil {
			rn, s.notResource = notResource, true
		}
		if err := ps.resources(rn, s); err != nil {
			return err
		}
	}
	if c := n.get("Condition"); c != nil {
		if err := ps.conditions(c, s); err != nil {
			return err
		}
	}
	return nil
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isStringOrStrings(n *jnode) bool {
	if n.kind == jString {
		return true
	}
	if n.kind != jArray {
		return false
	}
	for _, e := range n.elems {
		if e.kind != jString {
			return false
		}
	}
	return true
}

// strings returns a string-or-array element's values.
func stringsOf(n *jnode) []string {
	if n.kind == jString {
		return []string{n.str}
	}
	out := make([]string, len(n.elems))
	for i, e := range n.elems {
		out[i] = e.str
	}
	return out
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (ps *parser) principals(n *jnode, s *statement) *Error {
	bad := func(key, v string) *Error {
		if ps.kind.s3() {
			return ps.err(msgS3Principal)
		}
		return ps.err(msgIAMBadPrincipal + strconv.Quote(key) + ":" + strconv.Quote(v))
	}
	if n.kind == jString {
		if n.str != "*" {
			return bad("AWS", n.str)
		}
		s.principals = []principalEntry{{kind: pStar, value: "*"}}
		return nil
	}
	if n.kind != jObject || len(n.members) == 0 {
		if ps.kind.s3() {
			return ps.err(msgS3Principal)
		}
		return ps.syntax()
	}
	for _, m := range n.members {
		if !isStringOrStrings(m.val) || m.val.kind == jArray && len(m.val.elems) == 0 {
			if ps.kind.s3() {
				return ps.err(msgS3Principal)
			}
			return ps.syntax()
		}
		for _, v := range stringsOf(m.val) {
			var e principalEntry
			ok := false
			switch m.name {
			case "AWS":
				e, ok = parseAWSPrincipal(v)
			case "Service":
				e, ok = principalEntry{kind: pService, value: v}, validServicePrincipal(v)
			case "Federated":
				e, ok = principalEntry{kind: pFederated, value: v}, v != "" && !hasWildcard(v)
			case "CanonicalUser":
				// Canonical IDs name S3 accounts; IAM has no use for them.
				e, ok = principalEntry{kind: pCanonical, value: strings.ToLower(v)}, isCanonicalID(v) && ps.kind.s3()
			}
			if !ok {
				return bad(m.name, v)
			}
			s.principals = append(s.principals, e)
		}
	}
	return nil
}

func (ps *parser) actions(n *jnode, s *statement) *Error {
	s3 := ps.kind.s3()
	vals := stringsOf(n)
	if len(vals) == 0 {
		if s3 {
			return ps.err(msgS3Action)
		}
		return ps.err(msgIAMNoActions)
	}
	for _, v := range vals {
		if v == "*" {
			if ps.kind == Trust {
				return ps.err(msgIAMTrustActions)
			}
			ap := actionPattern{all: true}
			if n := len(s.actions); n < len(s.actSigs) {
				s.actSigs[n] = ap.sig()
			}
			s.actions = append(s.actions, ap)
			continue
		}
		svc, name, ok := strings.Cut(v, ":")
		switch {
		case !ok && s3, strings.Contains(name, ":") && s3:
			return ps.err(msgS3Action)
		case !ok:
			return ps.err(msgIAMVendor)
		case strings.Contains(name, ":"):
			return ps.err(msgIAMOneColon)
		}
		if !validServiceName(svc) || strings.IndexByte(svc, '.') >= 0 {
			if s3 {
				return ps.err(msgS3Action)
			}
			return ps.err(fmt.Sprintf(msgIAMVendorInvalid, svc))
		}
		if !validActionName(name) {
			if s3 {
				return ps.err(msgS3Action)
			}
			return ps.syntax()
		}
		if s3 && !strings.EqualFold(svc, "s3") {
			return ps.err(msgS3Action) // a bucket policy speaks only of S3 actions
		}
		if ps.kind == Trust && !strings.EqualFold(svc, "sts") {
			return ps.err(msgIAMTrustActions)
		}
		ap := actionPattern{service: strings.ToLower(svc), name: compileFold(name)}
		ap.full = ap.service + ":" + ap.name.lit
		ap.svcHash, ap.mode = serviceHash(ap.service), ap.name.mode
		if ap.mode == pmSuffix || ap.mode == pmContains {
			ap.litb = []byte(ap.name.lit)
		}
		if c := name[0]; c != '*' && c != '?' {
			ap.first = lowerASCII(c)
		}
		if n := len(s.actions); n < len(s.actSigs) {
			s.actSigs[n] = ap.sig()
		}
		s.actions = append(s.actions, ap)
	}
	return nil
}

// validActionName accepts action names and their wildcards: letters,
// digits, * and ?.
func validActionName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*' || c == '?') {
			return false
		}
	}
	return true
}

func (ps *parser) resources(n *jnode, s *statement) *Error {
	s3 := ps.kind.s3()
	vals := stringsOf(n)
	if len(vals) == 0 {
		if s3 {
			return ps.err(msgS3Resource)
		}
		return ps.err(msgIAMNoResources)
	}
	for _, v := range vals {
		if v == "*" {
			s.resources = append(s.resources, arnPattern{any: true})
			continue
		}
		badARN := func() *Error {
			if s3 {
				return ps.err(msgS3Resource)
			}
			return ps.err(fmt.Sprintf(msgIAMResourceARN, v))
		}
		f, ok := splitARN(v)
		if !ok || f[1] == "" || f[5] == "" {
			return badARN()
		}
		if !validPartition(f[1]) && !hasWildcard(f[1]) {
			return badARN()
		}
		if hasWildcard(f[2]) || !validServiceName(f[2]) {
			if s3 {
				return ps.err(msgS3Resource)
			}
			return ps.err(msgIAMResourceVendor)
		}
		if s3 && f[2] != "s3" {
			return ps.err(msgS3Resource)
		}
		// Variables may stand only in the resource part of an ARN
		// [IAM-VARS]; elsewhere AWS would not substitute them.
		if ps.vars {
			for i := 0; i < 5; i++ {
				if strings.Contains(f[i], "${") {
					return badARN()
				}
			}
		}
		s.resources = append(s.resources, compileARN(f, ps.vars))
	}
	return nil
}

func (ps *parser) conditions(n *jnode, s *statement) *Error {
	s3 := ps.kind.s3()
	condSyntax := func() *Error { return ps.syntax() }
	for _, om := range n.members {
		op, q, ifExists, ok := parseOperator(om.name)
		if !ok {
			if s3 {
				return ps.err(msgS3ConditionType + om.name)
			}
			return ps.syntax()
		}
		if om.val.kind != jObject {
			return condSyntax()
		}
		for _, km := range om.val.members {
			if err := ps.conditionKey(km.name); err != nil {
				return err
			}
			var raw []*jnode
			switch km.val.kind {
			case jArray:
				raw = km.val.elems
			case jString, jNumber, jBool:
				raw = []*jnode{km.val}
			default:
				return condSyntax()
			}
			c := condition{opName: om.name, op: op, qual: q, ifExists: ifExists, key: newCondKey(km.name)}
			for _, rv := range raw {
				var text string
				switch rv.kind {
				case jString, jNumber:
					text = rv.str
				case jBool:
					text = strconv.FormatBool(rv.boolean)
				default:
					return condSyntax()
				}
				if rv.kind == jBool && op.fam != famBool && op.fam != famNull && op.fam != famString {
					return ps.badConditionValue(op)
				}
				v, ok := compileValue(op, text, ps.vars && (op.fam == famString || op.fam == famARN))
				if !ok {
					return ps.badConditionValue(op)
				}
				c.values = append(c.values, v)
			}
			s.conds = append(s.conds, c)
		}
	}
	return nil
}

func (ps *parser) badConditionValue(op opInfo) *Error {
	switch {
	case ps.kind.s3() && op.fam == famIP:
		return ps.err(msgS3ConditionIP)
	case ps.kind.s3():
		return ps.syntax()
	case op.fam == famDate:
		return ps.err(msgIAMLegacy) // IAM's date check runs in its legacy parser
	}
	return ps.syntax()
}

// conditionKey validates a condition key name: service:name, and for
// bucket policies only global (aws:) and S3 (s3:) keys.
func (ps *parser) conditionKey(k string) *Error {
	svc, name, ok := strings.Cut(k, ":")
	if ps.kind.s3() {
		if !ok || name == "" || !(strings.EqualFold(svc, "aws") || strings.EqualFold(svc, "s3")) {
			return ps.err(msgS3ConditionKey)
		}
		return nil
	}
	if !ok {
		return ps.err(msgIAMVendor)
	}
	if !validServiceName(svc) || name == "" {
		return ps.syntax()
	}
	return nil
}
