package iam

import (
	"context"
	"sort"
)

// CreateGroup creates a group; path defaults to "/".
func (s *Service) CreateGroup(ctx context.Context, account, name, path string) (*Group, error) {
	if err := checkName("groupName", name, maxGroupName); err != nil {
		return nil, err
	}
	path, err := checkPath("path", path)
	if err != nil {
		return nil, err
	}
	id, err := s.newID(PrefixGroup)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *Group
	err = s.update(ctx, account, func(tx Tx) error {
		out = nil
		_, err := tx.Group(name)
		if err := absent(err, Errorf(ErrEntityAlreadyExists, "Group with name %s already exists.", name)); err != nil {
			return err
		}
		if err := checkQuota(tx, KindGroup, s.quota(func(q Quotas) int { return q.Groups }), "GroupsPerAccount"); err != nil {
			return err
		}
		g := &Group{Path: path, GroupName: name, GroupID: id, CreateDate: now}
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		out = g
		return nil
	})
	return out, err
}

// GetGroup returns a group and a page of its members, by name.
func (s *Service) GetGroup(ctx context.Context, account, name string, opts ListOptions) (*Group, Page[*User], error) {
	if err := checkName("groupName", name, maxGroupName); err != nil {
		return nil, Page[*User]{}, err
	}
	var g *Group
	var members []*User
	err := s.view(ctx, account, func(tx Tx) (err error) {
		if g, err = getGroup(tx, name); err != nil {
			return err
		}
		members, err = groupMembers(tx, g.GroupName)
		return err
	})
	if err != nil {
		return nil, Page[*User]{}, err
	}
	p, err := page(members, func(u *User) string { return lower(u.UserName) }, opts)
	return g, p, err
}

func groupMembers(tx Tx, group string) ([]*User, error) {
	users, err := tx.Users()
	return filter(users, func(u *User) bool { return containsFold(u.Groups, group) }), err
}

// ListGroups lists groups whose path starts with opts.PathPrefix, by name.
func (s *Service) ListGroups(ctx context.Context, account string, opts ListOptions) (Page[*Group], error) {
	if err := checkPathPrefix(opts.PathPrefix); err != nil {
		return Page[*Group]{}, err
	}
	var list []*Group
	err := s.view(ctx, account, func(tx Tx) error {
		all, err := tx.Groups()
		list = filter(all, func(g *Group) bool { return matchPath(g.Path, opts.PathPrefix) })
		return err
	})
	if err != nil {
		return Page[*Group]{}, err
	}
	return page(list, func(g *Group) string { return lower(g.GroupName) }, opts)
}

// DeleteGroup deletes a group without members or policies.
func (s *Service) DeleteGroup(ctx context.Context, account, name string) error {
	if err := checkName("groupName", name, maxGroupName); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		g, err := getGroup(tx, name)
		if err != nil {
			return err
		}
		members, err := groupMembers(tx, g.GroupName)
		if err != nil {
			return err
		}
		switch {
		case len(members) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must remove users from group first.")
		case len(g.InlinePolicies) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
		case len(g.AttachedPolicies) > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete entity, must detach all policies first.")
		}
		return tx.DeleteGroup(g.GroupName)
	})
}

// AddUserToGroup makes a user a member of a group; adding a member again
// changes nothing.
func (s *Service) AddUserToGroup(ctx context.Context, account, group, user string) error {
	if err := checkName("groupName", group, maxGroupName); err != nil {
		return err
	}
	if err := checkName("userName", user, maxUserName); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		g, err := getGroup(tx, group)
		if err != nil {
			return err
		}
		u, err := getUser(tx, user)
		if err != nil {
			return err
		}
		if containsFold(u.Groups, g.GroupName) {
			return nil
		}
		if max := s.quota(func(q Quotas) int { return q.GroupsPerUser }); len(u.Groups) >= max {
			return Errorf(ErrLimitExceeded, "Cannot exceed quota for GroupsPerUser: %d", max)
		}
		u.Groups = append(u.Groups, g.GroupName)
		return tx.PutUser(u)
	})
}

// RemoveUserFromGroup ends a user's membership of a group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, account, group, user string) error {
	if err := checkName("groupName", group, maxGroupName); err != nil {
		return err
	}
	if err := checkName("userName", user, maxUserName); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		g, err := getGroup(tx, group)
		if err != nil {
			return err
		}
		u, err := getUser(tx, user)
		if err != nil {
			return err
		}
		i := indexFold(u.Groups, g.GroupName)
		if i < 0 {
			return Errorf(ErrNoSuchEntity, "The user with name %s cannot be found in group %s.", u.UserName, g.GroupName)
		}
		u.Groups = append(u.Groups[:i:i], u.Groups[i+1:]...)
		return tx.PutUser(u)
	})
}

// ListGroupsForUser lists the groups a user belongs to, by name.
func (s *Service) ListGroupsForUser(ctx context.Context, account, user string, opts ListOptions) (Page[*Group], error) {
	if err := checkName("userName", user, maxUserName); err != nil {
		return Page[*Group]{}, err
	}
	var list []*Group
	err := s.view(ctx, account, func(tx Tx) error {
		u, err := getUser(tx, user)
		if err != nil {
			return err
		}
		for _, name := range u.Groups {
			g, err := tx.Group(name)
			if err != nil {
				return err
			}
			list = append(list, g)
		}
		return nil
	})
	if err != nil {
		return Page[*Group]{}, err
	}
	sort.Slice(list, func(i, j int) bool { return lower(list[i].GroupName) < lower(list[j].GroupName) })
	return page(list, func(g *Group) string { return lower(g.GroupName) }, opts)
}
