package policy

// PublicAllows reports whether a public statement (see IsPublic) allows
// action: the compliance rules tell public read from public write this
// way, with the same notion of "public" as Block Public Access.
func (p *Policy) PublicAllows(action string) bool {
	var e evalCtx
	r := Request{Action: action}
	e.init(&r)
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.eff == allow && !s.restricted() && e.actionMatches(s) {
			return true
		}
	}
	return false
}

// CrossAccountAllows reports whether an Allow statement grants action to
// a principal outside owner's account or to everyone, looking at the
// Principal element only (conditions are ignored, as AWS Config's
// s3-bucket-blacklisted-actions-prohibited does).
func (p *Policy) CrossAccountAllows(owner, action string) bool {
	var e evalCtx
	r := Request{Action: action}
	e.init(&r)
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.eff != allow || !s.hasPrincipal || !e.actionMatches(s) {
			continue
		}
		if s.notPrincipal {
			return true
		}
		for _, pr := range s.principals {
			switch pr.kind {
			case pStar, pFederated:
				return true
			}
			if pr.account != "" && pr.account != owner {
				return true
			}
		}
	}
	return false
}
