package iam

import (
	"context"
	"strconv"
)

// CreateRoleInput are CreateRole's parameters. Path defaults to "/",
// MaxSessionDuration to 3600 seconds.
type CreateRoleInput struct {
	RoleName                 string
	Path                     string
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int
	PermissionsBoundary      string
	Tags                     []Tag
}

// CreateRole creates a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, account string, in CreateRoleInput) (*Role, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkDescription("description", in.Description, true); err != nil {
		return nil, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if err := checkMaxSessionDuration(in.MaxSessionDuration); err != nil {
		return nil, err
	}
	if err := s.checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	if in.PermissionsBoundary != "" {
		if _, err := ParsePolicyARN(in.PermissionsBoundary); err != nil {
			return nil, err
		}
	}
	if err := s.validateTrust("assumeRolePolicyDocument", in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	id, err := s.newID(PrefixRole)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *Role
	err = s.update(ctx, account, func(tx Tx) error {
		out = nil
		_, err := tx.Role(in.RoleName)
		if err := absent(err, Errorf(ErrEntityAlreadyExists, "Role with name %s already exists.", in.RoleName)); err != nil {
			return err
		}
		if err := checkQuota(tx, KindRole, s.quota(func(q Quotas) int { return q.Roles }), "RolesPerAccount"); err != nil {
			return err
		}
		r := &Role{Path: path, RoleName: in.RoleName, RoleID: id, CreateDate: now,
			AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, Description: in.Description,
			MaxSessionDuration: in.MaxSessionDuration, Tags: cloneTags(in.Tags)}
		var bp *Policy
		if in.PermissionsBoundary != "" {
			if bp, err = s.boundaryPolicy(tx, account, in.PermissionsBoundary); err != nil {
				return err
			}
			r.PermissionsBoundary = bp.ARN(account)
		}
		if err := tx.PutRole(r); err != nil {
			return err
		}
		if bp != nil {
			bp.PermissionsBoundaryUsageCount++
			if err := tx.PutPolicy(bp); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	return out, err
}

func checkMaxSessionDuration(n int) error {
	switch {
	case n < MinMaxSessionDuration:
		return validationf("maxSessionDuration", strconv.Itoa(n), "have value greater than or equal to %d", MinMaxSessionDuration)
	case n > MaxMaxSessionDuration:
		return validationf("maxSessionDuration", strconv.Itoa(n), "have value less than or equal to %d", MaxMaxSessionDuration)
	}
	return nil
}

func (s *Service) validateTrust(field, doc string) error {
	max := s.quota(func(q Quotas) int { return q.TrustPolicySize })
	return s.validate(field, doc, Trust, max,
		"Cannot exceed quota for ACLSizePerRole: "+strconv.Itoa(max))
}

// GetRole returns a role.
func (s *Service) GetRole(ctx context.Context, account, name string) (*Role, error) {
	if err := checkName("roleName", name, maxRoleName); err != nil {
		return nil, err
	}
	var r *Role
	err := s.view(ctx, account, func(tx Tx) (err error) {
		r, err = getRole(tx, name)
		return err
	})
	return r, err
}

// ListRoles lists roles whose path starts with opts.PathPrefix, by name.
func (s *Service) ListRoles(ctx context.Context, account string, opts ListOptions) (Page[*Role], error) {
	if err := checkPathPrefix(opts.PathPrefix); err != nil {
		return Page[*Role]{}, err
	}
	var list []*Role
	err := s.view(ctx, account, func(tx Tx) error {
		all, err := tx.Roles()
		list = filter(all, func(r *Role) bool { return matchPath(r.Path, opts.PathPrefix) })
		return err
	})
	if err != nil {
		return Page[*Role]{}, err
	}
	return page(list, func(r *Role) string { return lower(r.RoleName) }, opts)
}

// DeleteRole deletes a role without policies. Its boundary goes with it.
func (s *Service) DeleteRole(ctx context.Context, account, name string) error {
	if err := checkName("roleName", name, maxRoleName); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		r, err := getRole(tx, name)
		if err != nil {
			return err
		}
		switch {
		case len(r.InlinePolicies) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
		case len(r.AttachedPolicies) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must detach all policies first.")
		}
		bp, err := s.releaseBoundary(tx, account, r.PermissionsBoundary)
		if err != nil {
			return err
		}
		if err := tx.DeleteRole(r.RoleName); err != nil {
			return err
		}
		return putIf(tx, bp)
	})
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, account, name, doc string) error {
	if err := checkName("roleName", name, maxRoleName); err != nil {
		return err
	}
	// The parameter is named PolicyDocument in this operation.
	if err := s.validateTrust("policyDocument", doc); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		r, err := getRole(tx, name)
		if err != nil {
			return err
		}
		r.AssumeRolePolicyDocument = doc
		return tx.PutRole(r)
	})
}
