package iam

import "context"

// The read path of authorization: which policy documents apply to a
// principal. Both functions read everything in one snapshot, so a request
// is never judged by a mix of before and after a concurrent change.
//
// A policy an entity references but that cannot be read is an error, not
// something to skip: skipping a boundary would widen permissions.

// PrincipalPolicies returns the identity policies that apply to a user
// (its inline policies, the default versions of its attached managed
// policies, and the same for every group it belongs to) and its
// permissions boundary's default version (nil without one).
func (s *Service) PrincipalPolicies(ctx context.Context, account, userName string) (identity [][]byte, boundary []byte, err error) {
	if err := checkName("userName", userName, maxUserName); err != nil {
		return nil, nil, err
	}
	err = s.view(ctx, account, func(tx Tx) error {
		identity, boundary = nil, nil
		u, err := getUser(tx, userName)
		if err != nil {
			return err
		}
		if identity, err = collect(tx, account, identity, u.InlinePolicies, u.AttachedPolicies); err != nil {
			return err
		}
		for _, name := range u.Groups {
			g, err := tx.Group(name)
			if err != nil {
				return err
			}
			if identity, err = collect(tx, account, identity, g.InlinePolicies, g.AttachedPolicies); err != nil {
				return err
			}
		}
		boundary, err = boundaryDoc(tx, account, u.PermissionsBoundary)
		return err
	})
	return identity, boundary, err
}

// RolePolicies returns the identity policies of a role and its
// permissions boundary's default version (nil without one).
func (s *Service) RolePolicies(ctx context.Context, account, roleName string) (identity [][]byte, boundary []byte, err error) {
	if err := checkName("roleName", roleName, maxRoleName); err != nil {
		return nil, nil, err
	}
	err = s.view(ctx, account, func(tx Tx) error {
		identity, boundary = nil, nil
		r, err := getRole(tx, roleName)
		if err != nil {
			return err
		}
		if identity, err = collect(tx, account, identity, r.InlinePolicies, r.AttachedPolicies); err != nil {
			return err
		}
		boundary, err = boundaryDoc(tx, account, r.PermissionsBoundary)
		return err
	})
	return identity, boundary, err
}

func collect(tx Tx, account string, out [][]byte, inline []InlinePolicy, attached []string) ([][]byte, error) {
	for _, p := range inline {
		out = append(out, []byte(p.Document))
	}
	for _, arn := range attached {
		p, err := getPolicy(tx, account, arn)
		if err != nil {
			return nil, err
		}
		out = append(out, []byte(p.DefaultDocument()))
	}
	return out, nil
}

func boundaryDoc(tx Tx, account, arn string) ([]byte, error) {
	if arn == "" {
		return nil, nil
	}
	p, err := getPolicy(tx, account, arn)
	if err != nil {
		return nil, err
	}
	return []byte(p.DefaultDocument()), nil
}
