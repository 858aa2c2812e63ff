package policy

import (
	"bytes"
	"strings"
)

// Request is one authorization question: may Principal perform Action on
// Resource? One S3 call can ask several (§4.9); each is a Request.
type Request struct {
	Principal Principal
	// Action is service:Action, e.g. "s3:GetObject".
	Action string
	// Resource is the ARN acted on (arn:aws:s3:::bucket/key), or "*" for
	// account-level actions such as s3:ListAllMyBuckets.
	Resource string
	// ResourceAccount is the account that owns the resource and its
	// resource policy (the bucket owner; the role's account for
	// sts:AssumeRole). "" when there is none, e.g. a bucket not created
	// yet: the request is then decided by the requester's own policies.
	ResourceAccount string
	// ObjectOwner is the account that owns the object, when that is not
	// the bucket owner (ACLs enabled, object written by another account).
	// The bucket policy can then still deny but no longer allow; the
	// object ACL (Input.ACL) is the resource-side grant [§4.4]. "" means
	// the bucket owner owns it.
	ObjectOwner string
	// Context holds the request's condition keys (aws:SourceIp,
	// s3:prefix, …). Key names are matched case-insensitively; a key that
	// is absent, or present with no values, is "absent" to conditions.
	// Lower-case key names are looked up directly, other spellings by a
	// scan. The principal-derived keys (aws:username, aws:userid,
	// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
	// aws:PrincipalTag/*, aws:PrincipalIsAWSService,
	// aws:PrincipalServiceName) and aws:ResourceAccount/s3:ResourceAccount
	// (when ResourceAccount is set) are derived from Principal and
	// ResourceAccount; entries for them here are ignored.
	Context map[string][]string
}

// ACLGrant is what an S3 ACL grants this request, as the caller worked it
// out (this package does not read ACLs): ACLs can only allow, never deny,
// and they grant to accounts or to everyone, never to IAM identities.
type ACLGrant uint8

const (
	ACLNone     ACLGrant = iota
	ACLAccount           // a grant to the requester's account (canonical ID): like a policy naming the account
	ACLEveryone          // AllUsers, or AuthenticatedUsers for a signed request: like a policy naming "*"
)

// Input is every policy that bears on a request.
type Input struct {
	// Identity holds the requester's identity-based policies: the user's
	// inline and managed policies and those of its groups, or the role's.
	Identity []*Policy
	// Boundary is the user's or role's permissions boundary (nil: none).
	Boundary *Policy
	// Session holds the session policies of an STS session (inline and
	// managed together; nil: none). A federated-user session without one
	// has no permissions.
	Session []*Policy
	// Resource is the resource-based policy: the bucket policy, or the
	// role's trust policy for sts:AssumeRole* (nil: none). Every role has a
	// trust policy and only it can admit a caller, so sts:AssumeRole*
	// without a Trust policy here is denied.
	Resource *Policy
	// ACL is the grant the applicable ACL makes (bucket ACL for bucket
	// operations, object ACL for object operations).
	ACL ACLGrant
	// RestrictPublicBuckets is the effective Block Public Access setting:
	// when the bucket policy is public, its Allow statements count only
	// for service principals and principals of the owning account.
	RestrictPublicBuckets bool
}

// Reason says why a Decision came out as it did.
type Reason uint8

const (
	ImplicitDeny                     Reason = iota // nothing allowed the request
	ExplicitDeny                                   // a Deny statement matched
	DeniedByBoundary                               // allowed, but outside the permissions boundary
	DeniedBySession                                // allowed, but outside the session policy
	CrossAccountNeedsBoth                          // another account's resource: only one side allowed
	DeniedByKeyPolicy                              // a KMS key policy allows neither the requester nor its account
	AllowedByIdentity                              // an identity policy allowed (same account)
	AllowedByResource                              // the resource policy allowed, needing nothing else
	AllowedByACL                                   // an ACL grant allowed, needing nothing else
	AllowedCrossAccount                            // identity and resource side both allowed
	AllowedOwnerRoot                               // the owning account's root user on its own resource
	AllowedOwnerRootPolicyManagement               // the owner's root managing its bucket policy, which no Deny can stop
)

var reasonNames = [...]string{
	"ImplicitDeny", "ExplicitDeny", "DeniedByBoundary", "DeniedBySession",
	"CrossAccountNeedsBoth", "DeniedByKeyPolicy", "AllowedByIdentity", "AllowedByResource",
	"AllowedByACL", "AllowedCrossAccount", "AllowedOwnerRoot",
	"AllowedOwnerRootPolicyManagement",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(?)"
}

// Source says which policy holds the deciding statement.
type Source uint8

const (
	SourceNone Source = iota
	SourceIdentity
	SourceBoundary
	SourceSession
	SourceResource
	SourceACL
)

var sourceNames = [...]string{"None", "Identity", "Boundary", "Session", "Resource", "ACL"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "Source(?)"
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool
	Reason  Reason
	// Source and Index locate the deciding policy (Index is its position
	// in Input.Identity or Input.Session); Statement is the deciding
	// statement's Sid, or "Statement[i]" when it has none. Empty for
	// decisions no single statement made (implicit deny, owner root).
	Source    Source
	Index     int
	Statement string
}

// stmtRef remembers a matching statement.
type stmtRef struct {
	src   Source
	index int
	s     *statement
}

func (r stmtRef) found() bool { return r.s != nil }

func (r stmtRef) decision(allowed bool, why Reason) Decision {
	d := Decision{Allowed: allowed, Reason: why}
	if r.s != nil {
		d.Source, d.Index, d.Statement = r.src, r.index, r.s.label
	}
	return d
}

// Evaluate decides a request per the AWS evaluation logic (spec §4):
//
//  1. An explicit Deny in any applicable policy denies (the owner root's
//     bucket-policy management alone is exempt).
//  2. The owning account's root user is allowed on its own resources.
//  3. Same account: a resource-policy grant naming the requester itself
//     (user, role session or federated-user ARN, or "*") allows outright;
//     otherwise an identity-policy allow — or a resource-policy grant
//     naming the session's role — must also fit the permissions boundary
//     and the session policy. A grant naming only the account delegates:
//     it allows the root, everyone else needs an identity allow.
//  4. Another account's resource: the requester's side (identity ∩
//     boundary ∩ session, or its root) and the resource side (a resource
//     policy or ACL grant naming it in any way) must both allow.
//  5. Anonymous and service principals have no identity side: only a
//     resource-side grant can allow them.
//  6. A KMS key policy (Input.Resource of Kind KeyPolicy) is the key's
//     sole authority: without an Allow in it nothing is allowed, the
//     owning account's root included. A grant naming the account
//     delegates to IAM (the root needs nothing more, others an identity
//     allow within boundary and session policy); a grant naming the
//     requester allows outright, as in rule 3.
//
// Evaluate is deterministic and does not allocate for policies without
// variables in ARN conditions.
func Evaluate(in *Input, r *Request) Decision {
	if in == nil {
		in = &Input{}
	}
	var e evalCtx
	e.init(r)
	p := &r.Principal
	owner := r.ResourceAccount
	trust := in.Resource != nil && in.Resource.kind == Trust
	keyPolicy := in.Resource != nil && in.Resource.kind == KeyPolicy
	if !trust && isAssumeRole(r.Action) {
		// Every role has a trust policy and only it can let anyone in;
		// without one, fail closed rather than let identity policies
		// decide.
		return Decision{Reason: ImplicitDeny}
	}

	// The bucket owner can always delete objects in its bucket, whoever
	// owns them; otherwise a foreign-owned object is its owner's resource
	// and the bucket policy can only deny [§4.4].
	bucketAllows := true
	if r.ObjectOwner != "" && r.ObjectOwner != r.ResourceAccount && !isDeleteObject(r.Action) {
		owner, bucketAllows = r.ObjectOwner, false
	}

	if p.Type == Root && p.Account != "" && p.Account == r.ResourceAccount && isBucketPolicyAction(r.Action) {
		return Decision{Allowed: true, Reason: AllowedOwnerRootPolicyManagement}
	}

	hasIdentity := p.hasAccount()

	// Explicit denies, and the allows each policy set gives.
	var idAllow, bAllow, sAllow, resAllow stmtRef
	resKind := mNone
	if hasIdentity {
		for i, pol := range in.Identity {
			if d := e.scan(pol, SourceIdentity, i, &idAllow, nil); d.found() {
				return d.decision(false, ExplicitDeny)
			}
		}
		if in.Boundary != nil {
			if d := e.scan(in.Boundary, SourceBoundary, 0, &bAllow, nil); d.found() {
				return d.decision(false, ExplicitDeny)
			}
		}
		for i, pol := range in.Session {
			if d := e.scan(pol, SourceSession, i, &sAllow, nil); d.found() {
				return d.decision(false, ExplicitDeny)
			}
		}
	}
	if in.Resource != nil {
		allowsCount := bucketAllows
		if in.RestrictPublicBuckets && in.Resource.public && p.Type != Service && !(hasIdentity && p.Account == r.ResourceAccount) {
			allowsCount = false
		}
		var rk matchKind
		d := e.scan(in.Resource, SourceResource, 0, &resAllow, &rk)
		if d.found() {
			return d.decision(false, ExplicitDeny)
		}
		if allowsCount {
			resKind = rk
		} else {
			resAllow = stmtRef{}
		}
	}
	// ACL grants are resource-side allows.
	aclKind := mNone
	switch in.ACL {
	case ACLEveryone:
		aclKind = mDirect
	case ACLAccount:
		if hasIdentity {
			aclKind = mAccount
		}
	}
	if trust {
		aclKind = mNone
	}
	resSide, resSrc := resKind, resAllow
	if aclKind > resKind {
		resSide, resSrc = aclKind, stmtRef{src: SourceACL}
	}
	resDecision := func(why Reason) Decision {
		if resSrc.src == SourceACL {
			if why == AllowedByResource {
				why = AllowedByACL
			}
			return Decision{Allowed: true, Reason: why, Source: SourceACL}
		}
		return resSrc.decision(true, why)
	}

	if !hasIdentity {
		if resSide != mNone {
			return resDecision(AllowedByResource)
		}
		return Decision{Reason: ImplicitDeny}
	}

	// The requester's own side: its identity policies within its boundary
	// and session policy. A federated-user session has no permissions but
	// those its session policy grants.
	inBoundary := in.Boundary == nil || bAllow.found()
	inSession := sAllow.found() || len(in.Session) == 0 && p.Type != FederatedUser

	if keyPolicy && resSide == mNone {
		// No key policy statement lets the requester (or its account)
		// in: IAM policies alone give nothing on a KMS key.
		return Decision{Reason: DeniedByKeyPolicy, Source: SourceResource}
	}
	if p.Type == Root {
		if trust {
			return Decision{Reason: ImplicitDeny} // roles cannot be assumed by root users
		}
		if owner == "" || owner == p.Account {
			return Decision{Allowed: true, Reason: AllowedOwnerRoot}
		}
		if resSide != mNone {
			return resDecision(AllowedCrossAccount)
		}
		return Decision{Reason: CrossAccountNeedsBoth}
	}

	sameAccount := owner == "" || owner == p.Account
	if sameAccount {
		if resSide == mDirect {
			return resDecision(AllowedByResource)
		}
		// A trust policy must name the caller: an identity allow alone
		// never lets anyone assume a role [§4.6].
		if trust && resSide == mNone {
			return Decision{Reason: ImplicitDeny}
		}
		if !idAllow.found() && resSide != mRole {
			return Decision{Reason: ImplicitDeny}
		}
		if !inBoundary {
			return Decision{Reason: DeniedByBoundary, Source: SourceBoundary}
		}
		if !inSession {
			return Decision{Reason: DeniedBySession, Source: SourceSession}
		}
		if idAllow.found() && !trust {
			return idAllow.decision(true, AllowedByIdentity)
		}
		return resDecision(AllowedByResource)
	}

	// Another account's resource: both sides.
	switch {
	case idAllow.found() && inBoundary && inSession:
		if resSide != mNone {
			return resDecision(AllowedCrossAccount)
		}
		return Decision{Reason: CrossAccountNeedsBoth}
	case resSide == mNone && !idAllow.found():
		return Decision{Reason: ImplicitDeny}
	case idAllow.found() && !inBoundary:
		return Decision{Reason: DeniedByBoundary, Source: SourceBoundary}
	case idAllow.found() && !inSession:
		return Decision{Reason: DeniedBySession, Source: SourceSession}
	}
	return Decision{Reason: CrossAccountNeedsBoth}
}

// scan looks through one policy for a matching Deny (returned) and, into
// *allowed, the first matching Allow. For the resource policy, kind
// receives the strongest principal match among matching Allows; Allow
// statements that cannot improve on what was found are skipped.
func (e *evalCtx) scan(pol *Policy, src Source, index int, allowed *stmtRef, kind *matchKind) stmtRef {
	if pol == nil {
		return stmtRef{}
	}
	for i := range pol.stmts {
		s := &pol.stmts[i]
		if s.eff == allow {
			if kind == nil && allowed.found() || kind != nil && *kind == mDirect {
				continue
			}
			// An Allow without a principal in the resource slot is an
			// identity policy passed by mistake: it would grant everyone,
			// anonymous callers included. Fail closed.
			if kind != nil && !s.hasPrincipal {
				continue
			}
		}
		if !e.actionMatches(s) {
			continue
		}
		k := e.applies(s)
		if k == mNone {
			continue
		}
		if s.eff == deny {
			return stmtRef{src: src, index: index, s: s}
		}
		if kind != nil {
			if k > *kind {
				*kind = k
				*allowed = stmtRef{src: src, index: index, s: s}
			}
		} else if !allowed.found() {
			*allowed = stmtRef{src: src, index: index, s: s}
		}
	}
	return stmtRef{}
}

// applies reports whether statement s, whose action matches, covers the
// request, and how its principal names the requester.
func (e *evalCtx) applies(s *statement) matchKind {
	// Cheapest tests first: principals before resources, whose globs cost
	// more.
	k := s.principalMatch(e.p)
	if k == mNone || !e.resourceMatches(s) {
		return mNone
	}
	for i := range s.conds {
		if !s.conds[i].eval(e) {
			return mNone
		}
	}
	return k
}

func (e *evalCtx) actionMatches(s *statement) bool {
	hit := false
	for i := range s.actions {
		if i < len(s.actSigs) {
			sig := s.actSigs[i]
			if sig == 1 {
				hit = true
				break
			}
			if uint32(sig>>32) != e.svcHash || byte(sig>>8) != 0 && byte(sig>>8) != e.nameFirst {
				continue
			}
			if n := int(byte(sig >> 24)); n > 0 && e.actLowerOK {
				// Exact or prefix: length and last byte first.
				act := e.r.Action
				if sig&2 == 0 && len(act) != n || len(act) < n || e.actLower[n-1] != byte(sig>>16) {
					continue
				}
			}
		}
		if a := &s.actions[i]; a.all || a.match(e) {
			hit = true
			break
		}
	}
	return hit != s.notAction
}

// match matches the request's action. Exact names and name* prefixes
// (nearly every action in practice) are compared as one string.
func (a *actionPattern) match(e *evalCtx) bool {
	if a.svcHash != e.svcHash || a.first != 0 && a.first != e.nameFirst {
		return false
	}
	act := e.r.Action
	if !e.actLowerOK { // an action too long for the buffer: fold as we go
		switch a.mode {
		case pmExact:
			return len(act) == len(a.full) && eqLit(act, a.full, true)
		case pmPrefix:
			return len(act) >= len(a.full) && eqLit(act[:len(a.full)], a.full, true)
		}
		return e.actionOK && len(e.actionSvc) == len(a.service) && eqLit(e.actionSvc, a.service, true) && a.name.match(e.actionName, e)
	}
	low := e.actLower[:len(act)]
	switch a.mode {
	case pmExact:
		// string(b) == s is compiled to a comparison, not a conversion.
		return len(low) == len(a.full) && low[len(low)-1] == a.full[len(low)-1] && string(low) == a.full
	case pmPrefix:
		n := len(a.full)
		return len(low) >= n && low[n-1] == a.full[n-1] && string(low[:n]) == a.full
	}
	svc := len(e.actionSvc)
	if !e.actionOK || svc != len(a.service) || string(low[:svc]) != a.service {
		return false
	}
	// The name is already lower-case: match it without folding.
	name := low[svc+1:]
	switch a.mode {
	case pmAny:
		return true
	case pmSuffix:
		return bytes.HasSuffix(name, a.litb)
	case pmContains:
		return bytes.Contains(name, a.litb)
	}
	return globMatch(a.name.toks, string(name), false, e)
}

func (e *evalCtx) resourceMatches(s *statement) bool {
	if !s.hasResource {
		return true
	}
	hit := false
	for i := range s.resources {
		a := &s.resources[i]
		if a.any || e.resOK && a.match(&e.res, e.resHead, e) {
			hit = true
			break
		}
	}
	return hit != s.notResource
}

func isBucketPolicyAction(a string) bool {
	return strings.EqualFold(a, "s3:GetBucketPolicy") || strings.EqualFold(a, "s3:PutBucketPolicy") || strings.EqualFold(a, "s3:DeleteBucketPolicy")
}

func isAssumeRole(a string) bool {
	return len(a) >= len("sts:AssumeRole") && strings.EqualFold(a[:len("sts:AssumeRole")], "sts:AssumeRole")
}

func isDeleteObject(a string) bool {
	return strings.EqualFold(a, "s3:DeleteObject") || strings.EqualFold(a, "s3:DeleteObjectVersion")
}

// evalCtx is the per-request state of an evaluation: the request split
// into the pieces matching needs, once, and the condition-key lookup.
type evalCtx struct {
	r *Request
	p *Principal

	actionSvc, actionName string
	actionOK              bool
	// The action lower-cased, for comparing action patterns with plain
	// string comparisons. An array, not a slice: a pointer into the
	// context itself would make the whole context escape to the heap.
	actLower   [64]byte
	actLowerOK bool // the action fits in actLower
	svcHash    uint32
	nameFirst  byte // first letter of the action name, lower-cased
	res        [6]string
	resHead    string
	resOK      bool

	lowerKeys bool // every Context key is lower-case: look up directly
	// Otherwise the context is copied here, on the first lookup, so that
	// each lookup scans a small array rather than iterating the map
	// (ctxN < 0: too many keys, iterate the map).
	ctxKeys   [24]string
	ctxVals   [24][]string
	ctxN      int
	ctxCopied bool

	derived [numDerived]string // "" when the request has no such value
}

func (e *evalCtx) init(r *Request) {
	e.r, e.p = r, &r.Principal
	e.actionSvc, e.actionName, e.actionOK = strings.Cut(r.Action, ":")
	h := uint32(2166136261) // serviceHash of the lower-cased service
	for i := 0; i < len(e.actionSvc); i++ {
		h ^= uint32(lowerASCII(e.actionSvc[i]))
		h *= 16777619
	}
	e.svcHash = h
	if e.actionName != "" {
		e.nameFirst = lowerASCII(e.actionName[0])
	}
	if len(r.Action) <= len(e.actLower) {
		for i := 0; i < len(r.Action); i++ {
			c := r.Action[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			e.actLower[i] = c
		}
		e.actLowerOK = true
	}
	e.res, e.resOK = splitARN(r.Resource)
	e.resHead = arnHead(r.Resource)
	e.lowerKeys = true
	for k := range r.Context {
		if !isLower(k) {
			e.lowerKeys = false
			break
		}
	}
	p := e.p
	set := func(d derivedKey, v string) {
		if v != "" {
			e.derived[d] = v
		}
	}
	switch p.Type {
	case Anonymous:
		set(dUserID, "anonymous")
		set(dPrincipalType, "Anonymous")
		set(dPrincipalAccount, "anonymous")
	case Root:
		set(dUserID, firstNonEmpty(p.UserID, p.Account))
		set(dPrincipalType, "Account")
		set(dPrincipalArn, p.ARN)
	case IAMUser:
		set(dUsername, p.ARN[strings.LastIndexByte(p.ARN, '/')+1:])
		set(dUserID, p.UserID)
		set(dPrincipalType, "User")
		set(dPrincipalArn, p.ARN)
	case AssumedRole:
		set(dUserID, p.UserID)
		set(dPrincipalType, "AssumedRole")
		set(dPrincipalArn, p.RoleARN)
	case FederatedUser:
		set(dUserID, p.UserID)
		set(dPrincipalType, "FederatedUser")
		set(dPrincipalArn, p.ARN)
	case Service:
		set(dPrincipalServiceName, p.ARN)
	}
	if p.hasAccount() {
		set(dPrincipalAccount, p.Account)
		set(dPrincipalIsAWSService, "false")
	} else if p.Type == Service {
		set(dPrincipalIsAWSService, "true")
	}
	set(dResourceAccount, r.ResourceAccount)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return false
		}
	}
	return true
}

// ctxValues holds a condition key's values: one derived value, or the
// context's list. Returned by value, so that the single value needs no
// allocation and evalCtx is never written during evaluation.
type ctxValues struct {
	one   [1]string
	many  []string
	isOne bool
}

func (v *ctxValues) list() []string {
	if v.isOne {
		return v.one[:]
	}
	return v.many
}

// lookup returns the request's values for a condition key (an empty list
// when absent).
func (e *evalCtx) lookup(k *condKey) ctxValues {
	switch k.derived {
	case dNone:
	case dPrincipalTag:
		if v, ok := e.principalTag(k.tag); ok {
			return ctxValues{one: [1]string{v}, isOne: true}
		}
		return ctxValues{}
	case dResourceAccount:
		if v := e.derived[dResourceAccount]; v != "" {
			return ctxValues{one: [1]string{v}, isOne: true}
		}
		// No ResourceAccount given: fall back to the context.
	default:
		if v := e.derived[k.derived]; v != "" {
			return ctxValues{one: [1]string{v}, isOne: true}
		}
		return ctxValues{}
	}
	m := e.r.Context
	if e.lowerKeys {
		return ctxValues{many: m[k.lower]}
	}
	// Case-insensitive scan. Should the context hold two spellings of one
	// key (a caller bug), the lexically smallest spelling wins, so that the
	// outcome does not depend on map iteration order.
	if !e.ctxCopied {
		e.ctxCopied = true
		if len(m) > len(e.ctxKeys) {
			e.ctxN = -1
		} else {
			for k, v := range m {
				e.ctxKeys[e.ctxN], e.ctxVals[e.ctxN] = k, v
				e.ctxN++
			}
		}
	}
	var best string
	var vals []string
	found := false
	if e.ctxN >= 0 {
		for i := 0; i < e.ctxN; i++ {
			key := e.ctxKeys[i]
			if len(key) == len(k.name) && strings.EqualFold(key, k.name) && (!found || key < best) {
				best, vals, found = key, e.ctxVals[i], true
			}
		}
		return ctxValues{many: vals}
	}
	for key, v := range m {
		if len(key) == len(k.name) && strings.EqualFold(key, k.name) && (!found || key < best) {
			best, vals, found = key, v, true
		}
	}
	return ctxValues{many: vals}
}

func (e *evalCtx) principalTag(tag string) (string, bool) {
	var best, val string
	found := false
	for k, v := range e.p.Tags {
		if strings.EqualFold(k, tag) && (!found || k < best) {
			best, val, found = k, v, true
		}
	}
	return val, found
}

// variable resolves a policy variable: the key's single, non-empty value,
// else the default, else nothing (multivalued keys cannot be variables).
func (e *evalCtx) variable(t *varSpec) (string, bool) {
	cv := e.lookup(&t.key)
	if vals := cv.list(); len(vals) == 1 && vals[0] != "" {
		return vals[0], true
	}
	if t.hasDef {
		return t.def, true
	}
	return "", false
}
