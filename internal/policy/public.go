package policy

import (
	"net/netip"
	"sort"
	"strings"
)

// IsPublic reports whether the policy is "public" as S3 Block Public
// Access defines it (spec §7.3, §8.2): some Allow statement grants to a
// principal that is not fixed and is not pinned by a condition on one of
// the keys outsiders cannot choose.
//
// A statement is non-public when its Principal lists only fixed
// principals (accounts, users, roles, sessions, service principals,
// canonical users — not "*", not a federated identity provider, and not
// NotPrincipal), or when one of its conditions is a positive operator
// (not IfExists, not ForAllValues, not negated) on a trusted key whose
// values are all fixed (no wildcard, no variable): aws:SourceArn,
// aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
// aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn,
// s3:x-amz-server-side-encryption-aws-kms-key-id, s3:DataAccessPointAccount,
// aws:userid (a role's "AROA…:*" pattern counts as fixed),
// s3:DataAccessPointArn (the access-point name may be a wildcard if the
// account is fixed), or aws:SourceIp under IpAddress with blocks no broader
// than /8 (IPv4) or /32 (IPv6), RFC 1918 ranges excepted. Deny statements
// never make a policy public. The result is computed once, at Parse.
func (p *Policy) IsPublic() bool { return p.public }

func (p *Policy) computePublic() bool {
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.eff == allow && !s.restricted() {
			return true
		}
	}
	return false
}

// restricted reports whether an Allow statement is pinned to trusted
// principals or trusted context.
func (s *statement) restricted() bool {
	if s.hasPrincipal && !s.notPrincipal && s.fixedPrincipals() {
		return true
	}
	if !s.hasPrincipal {
		return true // identity-side policies grant only to their owner
	}
	for i := range s.conds {
		if s.conds[i].pins() {
			return true
		}
	}
	return false
}

func (s *statement) fixedPrincipals() bool {
	for i := range s.principals {
		switch s.principals[i].kind {
		case pStar, pFederated:
			return false
		}
	}
	return len(s.principals) > 0
}

// trustedKeys are the condition keys whose fixed values make a grant
// non-public.
var trustedKeys = map[string]bool{
	"aws:sourcearn":        true,
	"aws:sourcevpc":        true,
	"aws:sourcevpce":       true,
	"aws:sourceowner":      true,
	"aws:sourceaccount":    true,
	"aws:principalorgid":   true,
	"aws:principalaccount": true,
	"aws:principalarn":     true,
	"s3:x-amz-server-side-encryption-aws-kms-key-id": true,
	"s3:dataaccesspointaccount":                      true,
	"aws:userid":                                     true,
	"s3:dataaccesspointarn":                          true,
	"aws:sourceip":                                   true,
}

// pins reports whether the condition confines the grant to fixed values
// of a trusted key.
func (c *condition) pins() bool {
	if c.op.negated || c.ifExists || c.qual == qAllValues || c.op.fam == famNull || len(c.values) == 0 {
		return false
	}
	key := c.key.lower
	if !trustedKeys[key] {
		return false
	}
	if key == "aws:sourceip" {
		if c.op.fam != famIP {
			return false
		}
		for i := range c.values {
			if !narrowCIDR(c.values[i].prefix) {
				return false
			}
		}
		return true
	}
	switch c.op.fam {
	case famString, famARN:
	default:
		return false
	}
	for i := range c.values {
		v := &c.values[i]
		if v.str.hasVars {
			return false
		}
		if !v.str.hasWild {
			continue
		}
		text := patternText(&v.str)
		switch key {
		case "aws:userid":
			// "AROA…:*" is every session of one role: still fixed.
			id, rest, ok := strings.Cut(text, ":")
			if !ok || rest != "*" || !isUniqueID(id, "AROA") {
				return false
			}
		case "s3:dataaccesspointarn":
			f, ok := splitARN(text)
			if !ok || hasWildcard(f[1]) || hasWildcard(f[2]) || hasWildcard(f[3]) || !isAccountID(f[4]) || !strings.HasPrefix(f[5], "accesspoint/") || hasWildcard(f[5][:len("accesspoint/")]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// patternText rebuilds a pattern's text (wildcards as * and ?).
func patternText(p *pattern) string {
	var b strings.Builder
	for _, t := range p.toks {
		switch t.kind {
		case tLit:
			b.WriteString(t.lit)
		case tStar:
			b.WriteByte('*')
		case tQuest:
			b.WriteByte('?')
		}
	}
	return b.String()
}

var rfc1918 = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// narrowCIDR reports whether a SourceIp block is narrow enough not to
// count as public: at most a /8 for IPv4, a /32 for IPv6, or inside an
// RFC 1918 private range.
func narrowCIDR(p netip.Prefix) bool {
	if p.Addr().Is4() {
		if p.Bits() >= 8 {
			return true
		}
		for _, r := range rfc1918 {
			if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
				return true
			}
		}
		return false
	}
	return p.Bits() >= 32
}

// GrantsCrossAccount lists the accounts other than owner that the policy's
// Allow statements name: through principals (account IDs, root, user,
// role, session and federated-user ARNs; canonical user IDs, which the
// caller must map to accounts, are listed as they are written) or through
// fixed aws:PrincipalAccount / aws:PrincipalArn condition values. Sorted,
// without duplicates. Public grants (see IsPublic) are not listed.
func (p *Policy) GrantsCrossAccount(owner string) []string {
	seen := map[string]bool{}
	add := func(a string) {
		if a != "" && a != owner {
			seen[a] = true
		}
	}
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.eff != allow || s.notPrincipal {
			continue
		}
		for _, e := range s.principals {
			switch e.kind {
			case pCanonical:
				add(e.value)
			default:
				add(e.account)
			}
		}
		for ci := range s.conds {
			c := &s.conds[ci]
			if c.op.negated || c.op.fam != famString && c.op.fam != famARN {
				continue
			}
			for vi := range c.values {
				v := &c.values[vi]
				if v.str.hasVars {
					continue
				}
				text := patternText(&v.str)
				switch c.key.lower {
				case "aws:principalaccount":
					if isAccountID(text) {
						add(text)
					}
				case "aws:principalarn":
					if f, ok := splitARN(text); ok && isAccountID(f[4]) {
						add(f[4])
					}
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// CheckBucket verifies that every Resource and NotResource entry of a
// bucket policy can refer to the bucket or to objects in it, as S3 does on
// PutBucketPolicy ("Policy has invalid resource").
func (p *Policy) CheckBucket(bucket string) error {
	for i := range p.stmts {
		s := &p.stmts[i]
		for ri := range s.resources {
			a := &s.resources[ri]
			if a.any {
				continue
			}
			if !a.fields[2].couldMatch("s3", true) || !a.fields[3].couldMatch("", true) || !a.fields[4].couldMatch("", true) ||
				!(a.res.couldMatch(bucket, true) || a.res.couldMatch(bucket+"/", false)) {
				return &Error{Code: CodeMalformedPolicy, Message: msgS3Resource}
			}
		}
	}
	return nil
}
