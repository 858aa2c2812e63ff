package iam

import (
	"context"
	"strings"
)

// CreateUserInput are CreateUser's parameters. Path defaults to "/".
type CreateUserInput struct {
	UserName            string
	Path                string
	PermissionsBoundary string // managed policy ARN, optional
	Tags                []Tag
}

// CreateUser creates a user. Names are unique case-insensitively.
func (s *Service) CreateUser(ctx context.Context, account string, in CreateUserInput) (*User, error) {
	if err := checkName("userName", in.UserName, maxUserName); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
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
	id, err := s.newID(PrefixUser)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *User
	err = s.update(ctx, account, func(tx Tx) error {
		out = nil
		_, err := tx.User(in.UserName)
		if err := absent(err, Errorf(ErrEntityAlreadyExists, "User with name %s already exists.", in.UserName)); err != nil {
			return err
		}
		if err := checkQuota(tx, KindUser, s.quota(func(q Quotas) int { return q.Users }), "UsersPerAccount"); err != nil {
			return err
		}
		u := &User{Path: path, UserName: in.UserName, UserID: id, CreateDate: now, Tags: cloneTags(in.Tags)}
		var bp *Policy
		if in.PermissionsBoundary != "" {
			if bp, err = s.boundaryPolicy(tx, account, in.PermissionsBoundary); err != nil {
				return err
			}
			u.PermissionsBoundary = bp.ARN(account)
		}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		if bp != nil {
			bp.PermissionsBoundaryUsageCount++
			if err := tx.PutPolicy(bp); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

// GetUser returns a user.
func (s *Service) GetUser(ctx context.Context, account, name string) (*User, error) {
	if err := checkName("userName", name, maxUserName); err != nil {
		return nil, err
	}
	var u *User
	err := s.view(ctx, account, func(tx Tx) (err error) {
		u, err = getUser(tx, name)
		return err
	})
	return u, err
}

// ListUsers lists users whose path starts with opts.PathPrefix, by name.
func (s *Service) ListUsers(ctx context.Context, account string, opts ListOptions) (Page[*User], error) {
	if err := checkPathPrefix(opts.PathPrefix); err != nil {
		return Page[*User]{}, err
	}
	var list []*User
	err := s.view(ctx, account, func(tx Tx) error {
		all, err := tx.Users()
		list = filter(all, func(u *User) bool { return matchPath(u.Path, opts.PathPrefix) })
		return err
	})
	if err != nil {
		return Page[*User]{}, err
	}
	return page(list, func(u *User) string { return lower(u.UserName) }, opts)
}

// UpdateUser renames a user and/or moves it to another path; empty
// arguments leave the attribute as it is. A rename keeps the user's id,
// keys (their records follow the new name), policies and groups.
func (s *Service) UpdateUser(ctx context.Context, account, name, newName, newPath string) error {
	if err := checkName("userName", name, maxUserName); err != nil {
		return err
	}
	if newName != "" {
		if err := checkName("newUserName", newName, maxUserName); err != nil {
			return err
		}
	}
	if newPath != "" {
		if _, err := checkPath("newPath", newPath); err != nil {
			return err
		}
	}
	return s.update(ctx, account, func(tx Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		old := u.UserName
		var keys []*AccessKey
		if newName != "" && newName != old {
			if !strings.EqualFold(newName, old) {
				_, err := tx.User(newName)
				if err := absent(err, Errorf(ErrEntityAlreadyExists, "User with name %s already exists.", newName)); err != nil {
					return err
				}
			}
			if keys, err = tx.AccessKeys(old); err != nil {
				return err
			}
			u.UserName = newName
		}
		if newPath != "" {
			u.Path = newPath
		}
		if u.UserName != old {
			if err := tx.DeleteUser(old); err != nil {
				return err
			}
		}
		if err := tx.PutUser(u); err != nil {
			return err
		}
		for _, k := range keys {
			k.UserName = u.UserName
			if err := tx.PutAccessKey(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteUser deletes a user that has no access keys, policies or group
// memberships left, as IAM requires. Its permissions boundary goes with it.
func (s *Service) DeleteUser(ctx context.Context, account, name string) error {
	if err := checkName("userName", name, maxUserName); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		keys, err := tx.AccessKeys(u.UserName)
		if err != nil {
			return err
		}
		switch {
		case len(keys) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must delete access keys first.")
		case len(u.InlinePolicies) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
		case len(u.AttachedPolicies) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must detach all policies first.")
		case len(u.Groups) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must remove user from all groups first.")
		}
		if m, ok := tx.(MFATx); ok {
			devices, err := m.MFADevices()
			if err != nil {
				return err
			}
			for _, d := range devices {
				if d.Enabled() && d.UserName == u.UserName {
					return Errorf(ErrDeleteConflict, "Cannot delete entity, must delete MFA device first.")
				}
			}
		}
		bp, err := s.releaseBoundary(tx, account, u.PermissionsBoundary)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(u.UserName); err != nil {
			return err
		}
		return putIf(tx, bp)
	})
}

// TagUser adds tags to a user, replacing the values of keys it has.
func (s *Service) TagUser(ctx context.Context, account, name string, tags []Tag) error {
	if err := checkName("userName", name, maxUserName); err != nil {
		return err
	}
	if len(tags) == 0 {
		return missing("tags")
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		u.Tags = mergeTags(u.Tags, tags)
		if err := s.checkTagCount(u.Tags); err != nil {
			return err
		}
		return tx.PutUser(u)
	})
}

// UntagUser removes tags by key (case-insensitively); absent keys are no
// error.
func (s *Service) UntagUser(ctx context.Context, account, name string, keys []string) error {
	if err := checkName("userName", name, maxUserName); err != nil {
		return err
	}
	if err := checkUntagKeys(keys); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		u, err := getUser(tx, name)
		if err != nil {
			return err
		}
		u.Tags = removeTags(u.Tags, keys)
		return tx.PutUser(u)
	})
}

// ListUserTags lists a user's tags by key.
func (s *Service) ListUserTags(ctx context.Context, account, name string, opts ListOptions) (Page[Tag], error) {
	u, err := s.GetUser(ctx, account, name)
	if err != nil {
		return Page[Tag]{}, err
	}
	return page(sortedTags(u.Tags), func(t Tag) string { return lower(t.Key) }, opts)
}

func (s *Service) checkNewTags(tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.checkTagCount(tags)
}

func cloneTags(t []Tag) []Tag { return append([]Tag(nil), t...) }

func filter[T any](list []T, keep func(T) bool) []T {
	var out []T
	for _, v := range list {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// putIf writes a policy whose counters changed, if any.
func putIf(tx Tx, p *Policy) error {
	if p == nil {
		return nil
	}
	return tx.PutPolicy(p)
}
