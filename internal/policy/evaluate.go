package policy

import (
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
	// role's trust policy for sts:AssumeRole (nil: none).
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
	AllowedByIdentity                              // an identity policy allowed (same account)
	AllowedByResource                              // the resource policy allowed, needing nothing else
	AllowedByACL                                   // an ACL grant allowed, needing nothing else
	AllowedCrossAccount                            // identity and resource side both allowed
	AllowedOwnerRoot                               // the owning account's root user on its own resource
	AllowedOwnerRootPolicyManagement               // the owner's root managing its bucket policy, which no Deny can stop
)

var reasonNames = [...]string{
	"ImplicitDeny", "ExplicitDeny", "DeniedByBoundary", "DeniedBySession",
	"CrossAccountNeedsBoth", "AllowedByIdentity", "AllowedByResource",
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

// applies reports whether statement s covers the request, and how its
// principal names the requester.
func (e *evalCtx) applies(s *statement) matchKind {
	if !e.actionMatches(s) || !e.resourceMatches(s) {
		return mNone
	}
	k := s.principalMatch(e.p)
	if k == mNone {
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
		a := &s.actions[i]
		if a.all || e.actionOK && eqFold(e.actionSvc, a.service, true) && a.name.match(e.actionName, true, e) {
			hit = true
			break
		}
	}
	return hit != s.notAction
}

func (e *evalCtx) resourceMatches(s *statement) bool {
	if !s.hasResource {
		return true
	}
	hit := false
	for i := range s.resources {
		a := &s.resources[i]
		if a.any || e.resOK && a.match(&e.res, e) {
			hit = true
			break
		}
	}
	return hit != s.notResource
}

func isBucketPolicyAction(a string) bool {
	return strings.EqualFold(a, "s3:GetBucketPolicy") || strings.EqualFold(a, "s3:PutBucketPolicy") || strings.EqualFold(a, "s3:DeleteBucketPolicy")
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
	res                   [6]string
	resOK                 bool

	lowerKeys bool // every Context key is lower-case: look up directly

	derived [numDerived][1]string
	hasDer  [numDerived]bool
	tagBuf  [1]string
}

func (e *evalCtx) init(r *Request) {
	e.r, e.p = r, &r.Principal
	e.actionSvc, e.actionName, e.actionOK = strings.Cut(r.Action, ":")
	e.res, e.resOK = splitARN(r.Resource)
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
			e.derived[d][0], e.hasDer[d] = v, true
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

// lookup returns the request's values for a condition key (nil when
// absent).
func (e *evalCtx) lookup(k *condKey) []string {
	switch k.derived {
	case dNone:
	case dPrincipalTag:
		if v, ok := e.principalTag(k.tag); ok {
			e.tagBuf[0] = v
			return e.tagBuf[:]
		}
		return nil
	case dResourceAccount:
		if e.hasDer[dResourceAccount] {
			return e.derived[dResourceAccount][:]
		}
		// No ResourceAccount given: fall back to the context.
	default:
		if e.hasDer[k.derived] {
			return e.derived[k.derived][:]
		}
		return nil
	}
	m := e.r.Context
	if e.lowerKeys {
		return m[k.lower]
	}
	if v, ok := m[k.name]; ok && len(m) == 1 {
		return v
	}
	// Case-insensitive scan. Should the map hold two spellings of one key
	// (a caller bug), the lexically smallest spelling wins, so that the
	// outcome does not depend on map iteration order.
	var best string
	var vals []string
	found := false
	for key, v := range m {
		if len(key) == len(k.name) && strings.EqualFold(key, k.name) && (!found || key < best) {
			best, vals, found = key, v, true
		}
	}
	return vals
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
func (e *evalCtx) variable(t *token) (string, bool) {
	var v string
	n := 0
	if t.key.derived == dPrincipalTag {
		// Not through lookup: its buffer may be holding the values of the
		// condition being evaluated.
		var ok bool
		if v, ok = e.principalTag(t.key.tag); ok {
			n = 1
		}
	} else if vals := e.lookup(&t.key); len(vals) > 0 {
		v, n = vals[0], len(vals)
	}
	if n == 1 && v != "" {
		return v, true
	}
	if t.hasDef {
		return t.def, true
	}
	return "", false
}
