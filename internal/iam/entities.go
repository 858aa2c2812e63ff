package iam

import (
	"context"
	"errors"
	"sort"
)

// entity is the policy-carrying part of a user, group or role, so that
// inline policies, attachments and boundaries are handled once.
type entity struct {
	kind     Kind
	name     string // as stored
	inline   *[]InlinePolicy
	attached *[]string
	boundary *string // nil for groups, which have no boundary
	put      func(tx Tx) error
	// inlineQuota bounds the aggregate size of the inline policies.
	inlineQuota int
}

// checkEntityName validates the name of a user, group or role parameter.
func checkEntityName(kind Kind, name string) error {
	switch kind {
	case KindUser:
		return checkName("userName", name, maxUserName)
	case KindGroup:
		return checkName("groupName", name, maxGroupName)
	case KindRole:
		return checkName("roleName", name, maxRoleName)
	}
	return errors.New("iam: policies attach only to users, groups and roles")
}

func (s *Service) loadEntity(tx Tx, kind Kind, name string) (*entity, error) {
	switch kind {
	case KindUser:
		u, err := getUser(tx, name)
		if err != nil {
			return nil, err
		}
		return &entity{kind: kind, name: u.UserName, inline: &u.InlinePolicies, attached: &u.AttachedPolicies,
			boundary: &u.PermissionsBoundary, put: func(tx Tx) error { return tx.PutUser(u) },
			inlineQuota: s.quota(func(q Quotas) int { return q.UserPolicySize })}, nil
	case KindGroup:
		g, err := getGroup(tx, name)
		if err != nil {
			return nil, err
		}
		return &entity{kind: kind, name: g.GroupName, inline: &g.InlinePolicies, attached: &g.AttachedPolicies,
			put:         func(tx Tx) error { return tx.PutGroup(g) },
			inlineQuota: s.quota(func(q Quotas) int { return q.GroupPolicySize })}, nil
	case KindRole:
		r, err := getRole(tx, name)
		if err != nil {
			return nil, err
		}
		return &entity{kind: kind, name: r.RoleName, inline: &r.InlinePolicies, attached: &r.AttachedPolicies,
			boundary: &r.PermissionsBoundary, put: func(tx Tx) error { return tx.PutRole(r) },
			inlineQuota: s.quota(func(q Quotas) int { return q.RolePolicySize })}, nil
	}
	return nil, errors.New("iam: policies attach only to users, groups and roles")
}

// quotaName is the entity's name in quota messages ("PoliciesPerUser").
func (k Kind) quotaName() string {
	switch k {
	case KindUser:
		return "User"
	case KindGroup:
		return "Group"
	case KindRole:
		return "Role"
	}
	return "Entity"
}

// Inline policies.

// PutInlinePolicy adds or replaces (by name, case-insensitively) an inline
// policy of a user, group or role. The entity's inline policies together
// must stay within its size quota.
func (s *Service) PutInlinePolicy(ctx context.Context, account string, kind Kind, entityName, policyName, doc string) error {
	if err := checkEntityName(kind, entityName); err != nil {
		return err
	}
	if err := checkName("policyName", policyName, maxPolicyName); err != nil {
		return err
	}
	if err := checkDocumentText("policyDocument", doc); err != nil {
		return err
	}
	if err := s.validateContent(doc, Identity); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		list := *e.inline
		replaced := false
		size := 0
		for i := range list {
			if lower(list[i].Name) == lower(policyName) {
				list[i] = InlinePolicy{Name: policyName, Document: doc}
				replaced = true
			}
			size += policySize(list[i].Document)
		}
		if !replaced {
			list = append(list, InlinePolicy{Name: policyName, Document: doc})
			size += policySize(doc)
		}
		if size > e.inlineQuota {
			return Errorf(ErrLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s.", e.inlineQuota, kind, e.name)
		}
		sort.SliceStable(list, func(i, j int) bool { return lower(list[i].Name) < lower(list[j].Name) })
		*e.inline = list
		return e.put(tx)
	})
}

// GetInlinePolicy returns an inline policy and the entity's name as
// stored.
func (s *Service) GetInlinePolicy(ctx context.Context, account string, kind Kind, entityName, policyName string) (string, *InlinePolicy, error) {
	if err := checkEntityName(kind, entityName); err != nil {
		return "", nil, err
	}
	if err := checkName("policyName", policyName, maxPolicyName); err != nil {
		return "", nil, err
	}
	var name string
	var out *InlinePolicy
	err := s.view(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		name = e.name
		i := findInline(*e.inline, policyName)
		if i < 0 {
			return noSuchInline(kind, policyName)
		}
		p := (*e.inline)[i]
		out = &p
		return nil
	})
	return name, out, err
}

// ListInlinePolicies lists the names of an entity's inline policies.
func (s *Service) ListInlinePolicies(ctx context.Context, account string, kind Kind, entityName string, opts ListOptions) (Page[string], error) {
	if err := checkEntityName(kind, entityName); err != nil {
		return Page[string]{}, err
	}
	var names []string
	err := s.view(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		for _, p := range *e.inline {
			names = append(names, p.Name)
		}
		return nil
	})
	if err != nil {
		return Page[string]{}, err
	}
	sort.SliceStable(names, func(i, j int) bool { return lower(names[i]) < lower(names[j]) })
	return page(names, lower, opts)
}

// DeleteInlinePolicy deletes an inline policy.
func (s *Service) DeleteInlinePolicy(ctx context.Context, account string, kind Kind, entityName, policyName string) error {
	if err := checkEntityName(kind, entityName); err != nil {
		return err
	}
	if err := checkName("policyName", policyName, maxPolicyName); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		i := findInline(*e.inline, policyName)
		if i < 0 {
			return noSuchInline(kind, policyName)
		}
		*e.inline = append((*e.inline)[:i:i], (*e.inline)[i+1:]...)
		return e.put(tx)
	})
}

func findInline(list []InlinePolicy, name string) int {
	for i := range list {
		if lower(list[i].Name) == lower(name) {
			return i
		}
	}
	return -1
}

func noSuchInline(kind Kind, name string) error {
	return Errorf(ErrNoSuchEntity, "The %s policy with name %s cannot be found.", kind, name)
}

// Managed policy attachments.

// AttachPolicy attaches a managed policy to a user, group or role.
// Attaching a policy already attached changes nothing, as in IAM.
func (s *Service) AttachPolicy(ctx context.Context, account string, kind Kind, entityName, policyARN string) error {
	if err := checkEntityName(kind, entityName); err != nil {
		return err
	}
	if err := checkPolicyARNParam(policyARN); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		p, err := getPolicy(tx, account, policyARN)
		if err != nil {
			return err
		}
		arn := p.ARN(account)
		if containsFold(*e.attached, arn) {
			return nil
		}
		if max := s.quota(func(q Quotas) int { return q.AttachedPolicies }); len(*e.attached) >= max {
			return Errorf(ErrLimitExceeded, "Cannot exceed quota for PoliciesPer%s: %d", kind.quotaName(), max)
		}
		*e.attached = append(*e.attached, arn)
		p.AttachmentCount++
		if err := e.put(tx); err != nil {
			return err
		}
		return tx.PutPolicy(p)
	})
}

// DetachPolicy detaches a managed policy from a user, group or role.
func (s *Service) DetachPolicy(ctx context.Context, account string, kind Kind, entityName, policyARN string) error {
	if err := checkEntityName(kind, entityName); err != nil {
		return err
	}
	if err := checkPolicyARNParam(policyARN); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		i := indexFold(*e.attached, policyARN)
		if i < 0 {
			return Errorf(ErrNoSuchEntity, "Policy %s was not found.", policyARN)
		}
		p, err := getPolicy(tx, account, (*e.attached)[i])
		if err != nil {
			return err
		}
		*e.attached = append((*e.attached)[:i:i], (*e.attached)[i+1:]...)
		if p.AttachmentCount > 0 {
			p.AttachmentCount--
		}
		if err := e.put(tx); err != nil {
			return err
		}
		return tx.PutPolicy(p)
	})
}

// ListAttachedPolicies lists the managed policies attached to an entity
// whose path starts with opts.PathPrefix, by policy name.
func (s *Service) ListAttachedPolicies(ctx context.Context, account string, kind Kind, entityName string, opts ListOptions) (Page[AttachedPolicy], error) {
	if err := checkEntityName(kind, entityName); err != nil {
		return Page[AttachedPolicy]{}, err
	}
	if err := checkPathPrefix(opts.PathPrefix); err != nil {
		return Page[AttachedPolicy]{}, err
	}
	var list []AttachedPolicy
	err := s.view(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		for _, arn := range *e.attached {
			pa, err := ParsePolicyARN(arn)
			if err != nil {
				return err
			}
			if matchPath(pa.Path, opts.PathPrefix) {
				list = append(list, AttachedPolicy{PolicyName: pa.Name, PolicyARN: arn})
			}
		}
		return nil
	})
	if err != nil {
		return Page[AttachedPolicy]{}, err
	}
	sort.SliceStable(list, func(i, j int) bool { return lower(list[i].PolicyName) < lower(list[j].PolicyName) })
	return page(list, func(a AttachedPolicy) string { return lower(a.PolicyName) }, opts)
}

// Permissions boundaries.

// PutPermissionsBoundary sets (or replaces) the permissions boundary of a
// user or role.
func (s *Service) PutPermissionsBoundary(ctx context.Context, account string, kind Kind, entityName, policyARN string) error {
	if kind != KindUser && kind != KindRole {
		return errors.New("iam: only users and roles have permissions boundaries")
	}
	if err := checkEntityName(kind, entityName); err != nil {
		return err
	}
	if policyARN == "" {
		return missing("permissionsBoundary")
	}
	if _, err := ParsePolicyARN(policyARN); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		bp, err := s.boundaryPolicy(tx, account, policyARN)
		if err != nil {
			return err
		}
		arn := bp.ARN(account)
		if *e.boundary == arn {
			return nil
		}
		old, err := s.releaseBoundary(tx, account, *e.boundary)
		if err != nil {
			return err
		}
		*e.boundary = arn
		bp.PermissionsBoundaryUsageCount++
		if err := e.put(tx); err != nil {
			return err
		}
		if err := putIf(tx, old); err != nil {
			return err
		}
		return tx.PutPolicy(bp)
	})
}

// DeletePermissionsBoundary removes the permissions boundary of a user or
// role; an entity without one is left as it is.
func (s *Service) DeletePermissionsBoundary(ctx context.Context, account string, kind Kind, entityName string) error {
	if kind != KindUser && kind != KindRole {
		return errors.New("iam: only users and roles have permissions boundaries")
	}
	if err := checkEntityName(kind, entityName); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		e, err := s.loadEntity(tx, kind, entityName)
		if err != nil {
			return err
		}
		if *e.boundary == "" {
			return nil
		}
		old, err := s.releaseBoundary(tx, account, *e.boundary)
		if err != nil {
			return err
		}
		*e.boundary = ""
		if err := e.put(tx); err != nil {
			return err
		}
		return putIf(tx, old)
	})
}

// boundaryPolicy finds the policy to set as a boundary and lets the
// validator check its default version as a boundary.
func (s *Service) boundaryPolicy(tx Tx, account, arn string) (*Policy, error) {
	p, err := getPolicy(tx, account, arn)
	if err != nil {
		return nil, err
	}
	if err := s.validateContent(p.DefaultDocument(), Boundary); err != nil {
		return nil, err
	}
	return p, nil
}

// releaseBoundary returns the policy an entity's boundary arn names with
// its usage count decremented, for the caller to write; nil when there is
// none.
func (s *Service) releaseBoundary(tx Tx, account, arn string) (*Policy, error) {
	if arn == "" {
		return nil, nil
	}
	p, err := getPolicy(tx, account, arn)
	if err != nil {
		return nil, err
	}
	if p.PermissionsBoundaryUsageCount > 0 {
		p.PermissionsBoundaryUsageCount--
	}
	return p, nil
}

func checkPolicyARNParam(arn string) error {
	if arn == "" {
		return missing("policyArn")
	}
	if len(arn) < 20 || len(arn) > 2048 {
		return validationf("policyArn", arn, "have length between 20 and 2048")
	}
	_, err := ParsePolicyARN(arn)
	return err
}

// EntityInfo returns the path and tags of an existing user, group or role
// (groups have no tags), for the authorization of requests naming it.
func (s *Service) EntityInfo(ctx context.Context, account string, kind Kind, name string) (path string, tags []Tag, err error) {
	if err := checkEntityName(kind, name); err != nil {
		return "", nil, err
	}
	err = s.view(ctx, account, func(tx Tx) error {
		switch kind {
		case KindUser:
			u, err := getUser(tx, name)
			if err == nil {
				path, tags = u.Path, u.Tags
			}
			return err
		case KindGroup:
			g, err := getGroup(tx, name)
			if err == nil {
				path = g.Path
			}
			return err
		default:
			r, err := getRole(tx, name)
			if err == nil {
				path, tags = r.Path, r.Tags
			}
			return err
		}
	})
	return path, tags, err
}
