package policy

import "strings"

// PrincipalType says what kind of identity made a request.
type PrincipalType uint8

const (
	Anonymous     PrincipalType = iota // unsigned request
	Root                               // an account's root user
	IAMUser                            // an IAM user (long-term or GetSessionToken credentials)
	AssumedRole                        // a role session (AssumeRole, SAML, web identity)
	FederatedUser                      // a GetFederationToken session
	Service                            // an AWS service principal, e.g. logging.s3.amazonaws.com
	WebIdentity                        // an identity provider calling AssumeRoleWith{WebIdentity,SAML} (trust policies only)
)

var principalTypeNames = [...]string{"Anonymous", "Root", "IAMUser", "AssumedRole", "FederatedUser", "Service", "WebIdentity"}

func (t PrincipalType) String() string {
	if int(t) < len(principalTypeNames) {
		return principalTypeNames[t]
	}
	return "PrincipalType(?)"
}

// Principal is who made a request. The fields a type does not use stay
// empty.
type Principal struct {
	Type PrincipalType
	// Account is the principal's 12-digit account ID ("" for Anonymous,
	// Service and WebIdentity).
	Account string
	// CanonicalID is the account's canonical user ID (matched by
	// {"CanonicalUser": …} principals).
	CanonicalID string
	// ARN is the principal's own ARN: arn:aws:iam::ACCT:root,
	// arn:aws:iam::ACCT:user/PATH/NAME,
	// arn:aws:sts::ACCT:assumed-role/ROLE/SESSION,
	// arn:aws:sts::ACCT:federated-user/NAME. For Service it is the service
	// name (s3.amazonaws.com); for WebIdentity the provider as trust
	// policies name it (accounts.google.com, or an oidc/saml provider ARN).
	ARN string
	// UserID is aws:userid: AIDA… for users, AROA…:SESSION for role
	// sessions, ACCT:NAME for federated users; defaults to the account ID
	// for Root and "anonymous" for Anonymous.
	UserID string
	// RoleARN is the ARN of the session's role, path included
	// (arn:aws:iam::ACCT:role/PATH/NAME). AssumedRole only.
	RoleARN string
	// SourceARN is the ARN of the IAM user (or root) that called
	// GetFederationToken. FederatedUser only.
	SourceARN string
	// Tags are the principal's tags (aws:PrincipalTag/KEY). Keys are
	// matched case-insensitively.
	Tags map[string]string
}

// hasAccount reports whether the principal belongs to an AWS account (and
// so can be matched by account-level principals and has identity
// policies).
func (p *Principal) hasAccount() bool {
	switch p.Type {
	case Root, IAMUser, AssumedRole, FederatedUser:
		return p.Account != ""
	}
	return false
}

// A principal entry is one value of a Principal/NotPrincipal element.
type pkind uint8

const (
	pStar      pkind = iota // "*" or {"AWS":"*"}
	pAccount                // 123456789012 or arn:aws:iam::123456789012:root
	pCanonical              // {"CanonicalUser": "<64 hex>"}
	pUser                   // arn:aws:iam::ACCT:user/…
	pRole                   // arn:aws:iam::ACCT:role/…
	pSession                // arn:aws:sts::ACCT:assumed-role/ROLE/SESSION
	pFedUser                // arn:aws:sts::ACCT:federated-user/NAME
	pUserID                 // AIDA… (a stored policy naming a since-deleted user)
	pRoleID                 // AROA… (likewise for a role)
	pService                // {"Service": "…"}
	pFederated              // {"Federated": "…"}
)

type principalEntry struct {
	kind    pkind
	value   string // account ID for pAccount; the value as written otherwise
	account string // account the entry belongs to (pAccount…pFedUser), for GrantsCrossAccount
}

// How a matching Allow statement's principal named the requester. The
// order matters: a stronger match wins when several statements allow.
type matchKind uint8

const (
	mNone    matchKind = iota
	mAccount           // the requester's account: delegation only
	mRole              // the session's role (or the IAM user behind a federated session): capped by boundary and session policies
	mDirect            // the requester itself, or everyone ("*"): needs nothing else in the same account
)

// matchEntry reports how entry x names p.
func matchEntry(x *principalEntry, p *Principal) matchKind {
	switch x.kind {
	case pStar:
		return mDirect
	case pAccount:
		if p.hasAccount() && p.Account == x.value {
			return mAccount
		}
	case pCanonical:
		if p.hasAccount() && p.CanonicalID != "" && p.CanonicalID == x.value {
			return mAccount
		}
	case pUser:
		switch {
		case p.Type == IAMUser && p.ARN == x.value:
			return mDirect
		case p.Type == FederatedUser && p.SourceARN == x.value:
			return mRole
		}
	case pRole:
		if p.Type == AssumedRole && p.RoleARN == x.value {
			return mRole
		}
	case pSession:
		if p.Type == AssumedRole && p.ARN == x.value {
			return mDirect
		}
	case pFedUser:
		if p.Type == FederatedUser && p.ARN == x.value {
			return mDirect
		}
	case pUserID:
		if p.Type == IAMUser && p.UserID == x.value {
			return mDirect
		}
	case pRoleID:
		if p.Type == AssumedRole && len(p.UserID) > len(x.value) && p.UserID[len(x.value)] == ':' && strings.HasPrefix(p.UserID, x.value) {
			return mRole
		}
	case pService:
		if p.Type == Service && strings.EqualFold(p.ARN, x.value) {
			return mDirect
		}
	case pFederated:
		if p.Type == WebIdentity && p.ARN == x.value {
			return mDirect
		}
	}
	return mNone
}

// The identities a request principal is made of, for NotPrincipal: a role
// session is the session, its role and its account; a NotPrincipal list
// exempts the request only if it names every one of them ([IAM-NOTPRIN]:
// "AWS might validate the account first, then the role, and then the
// assumed-role user").
const (
	idSelf    = 1 << iota // the principal itself (user, session, federated user, service, provider, anonymous)
	idRole                // the session's role / the federated user's IAM user
	idAccount             // the account
)

func identitySet(p *Principal) uint8 {
	switch p.Type {
	case Root:
		return idAccount
	case IAMUser:
		return idSelf | idAccount
	case AssumedRole:
		return idSelf | idRole | idAccount
	case FederatedUser:
		if p.SourceARN != "" {
			return idSelf | idRole | idAccount
		}
		return idSelf | idAccount
	}
	return idSelf
}

// covered returns which of p's identities entry x names.
func covered(x *principalEntry, p *Principal) uint8 {
	if x.kind == pStar {
		return 0xff
	}
	switch matchEntry(x, p) {
	case mAccount:
		return idAccount
	case mRole:
		return idRole
	case mDirect:
		return idSelf
	}
	return 0
}

// principalMatch evaluates a statement's Principal or NotPrincipal against
// the requester.
func (s *statement) principalMatch(p *Principal) matchKind {
	if !s.hasPrincipal {
		return mDirect // identity-side policies: the policy's owner is the requester
	}
	if s.notPrincipal {
		var cov uint8
		for i := range s.principals {
			cov |= covered(&s.principals[i], p)
		}
		want := identitySet(p)
		switch free := want &^ cov; {
		case free == 0:
			return mNone
		case free&idSelf != 0:
			// Allow+NotPrincipal grants to everyone not listed, anonymous
			// included: for them it is as broad as "*".
			return mDirect
		case free&idRole != 0:
			return mRole
		}
		// Only the account is unlisted: the statement reaches the
		// requester through its account, which delegates.
		return mAccount
	}
	best := mNone
	for i := range s.principals {
		if k := matchEntry(&s.principals[i], p); k > best {
			best = k
			if best == mDirect {
				break
			}
		}
	}
	return best
}

// parseAWSPrincipal classifies one {"AWS": …} value; ok is false for a value
// AWS refuses (partial wildcards, groups, malformed ARNs).
func parseAWSPrincipal(v string) (principalEntry, bool) {
	if v == "*" {
		return principalEntry{kind: pStar, value: v}, true
	}
	if isAccountID(v) {
		return principalEntry{kind: pAccount, value: v, account: v}, true
	}
	if isUniqueID(v, "AIDA") {
		return principalEntry{kind: pUserID, value: v}, true
	}
	if isUniqueID(v, "AROA") {
		return principalEntry{kind: pRoleID, value: v}, true
	}
	if hasWildcard(v) {
		return principalEntry{}, false
	}
	f, ok := splitARN(v)
	if !ok || !validPartition(f[1]) || f[3] != "" || !isAccountID(f[4]) {
		return principalEntry{}, false
	}
	acct, res := f[4], f[5]
	switch f[2] {
	case "iam":
		switch {
		case res == "root":
			return principalEntry{kind: pAccount, value: acct, account: acct}, true
		case strings.HasPrefix(res, "user/") && validIAMPath(res[len("user/"):]):
			return principalEntry{kind: pUser, value: v, account: acct}, true
		case strings.HasPrefix(res, "role/") && validIAMPath(res[len("role/"):]):
			return principalEntry{kind: pRole, value: v, account: acct}, true
		}
	case "sts":
		switch {
		case strings.HasPrefix(res, "assumed-role/"):
			parts := strings.Split(res[len("assumed-role/"):], "/")
			if len(parts) == 2 && validIAMName(parts[0]) && validIAMName(parts[1]) {
				return principalEntry{kind: pSession, value: v, account: acct}, true
			}
		case strings.HasPrefix(res, "federated-user/"):
			if validIAMName(res[len("federated-user/"):]) {
				return principalEntry{kind: pFedUser, value: v, account: acct}, true
			}
		}
	}
	return principalEntry{}, false
}

// isUniqueID matches IAM unique IDs such as AIDAJQABLZS4A3QDU576Q.
func isUniqueID(s, prefix string) bool {
	if len(s) < len(prefix)+12 || len(s) > 128 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// validIAMName accepts IAM entity and session names: alphanumerics and
// +=,.@_-.
func validIAMName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+=,.@_-", c) >= 0) {
			return false
		}
	}
	return true
}

// validIAMPath accepts "[path/]name" where the path segments and the name
// are IAM names.
func validIAMPath(s string) bool {
	for _, seg := range strings.Split(s, "/") {
		if !validIAMName(seg) {
			return false
		}
	}
	return true
}

// validServicePrincipal accepts service principal names such as
// logging.s3.amazonaws.com.
func validServicePrincipal(s string) bool {
	if s == "" || !strings.Contains(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func isCanonicalID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
