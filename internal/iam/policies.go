package iam

import (
	"context"
	"fmt"
	"strconv"
)

// CreatePolicyInput are CreatePolicy's parameters. Path defaults to "/".
type CreatePolicyInput struct {
	PolicyName     string
	Path           string
	PolicyDocument string
	Description    string
	Tags           []Tag
}

// Policy scopes and usage filters of ListPolicies.
const (
	ScopeAll   = "All"
	ScopeAWS   = "AWS"
	ScopeLocal = "Local"

	UsagePermissionsPolicy   = "PermissionsPolicy"
	UsagePermissionsBoundary = "PermissionsBoundary"
)

// ListPoliciesOptions select ListPolicies' results.
type ListPoliciesOptions struct {
	ListOptions
	Scope             string // All (default), AWS, Local
	OnlyAttached      bool
	PolicyUsageFilter string // "", PermissionsPolicy, PermissionsBoundary
}

// CreatePolicy creates a customer managed policy with version v1 as its
// default. Policy names are unique in the account whatever their path.
func (s *Service) CreatePolicy(ctx context.Context, account string, in CreatePolicyInput) (*Policy, error) {
	if err := checkName("policyName", in.PolicyName, maxPolicyName); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkDescription("description", in.Description, false); err != nil {
		return nil, err
	}
	if err := s.checkNewTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.validateManaged(in.PolicyDocument); err != nil {
		return nil, err
	}
	id, err := s.newID(PrefixPolicy)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *Policy
	err = s.update(ctx, account, func(tx Tx) error {
		out = nil
		_, err := tx.Policy(in.PolicyName)
		if err := absent(err, Errorf(ErrEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)); err != nil {
			return err
		}
		if err := checkQuota(tx, KindPolicy, s.quota(func(q Quotas) int { return q.Policies }), "PoliciesPerAccount"); err != nil {
			return err
		}
		p := &Policy{Path: path, PolicyName: in.PolicyName, PolicyID: id, Description: in.Description,
			DefaultVersionID: "v1", CreateDate: now, UpdateDate: now, Tags: cloneTags(in.Tags),
			Versions:    []PolicyVersion{{VersionID: "v1", Document: in.PolicyDocument, CreateDate: now}},
			NextVersion: 2}
		if err := tx.PutPolicy(p); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

func (s *Service) validateManaged(doc string) error {
	max := s.quota(func(q Quotas) int { return q.ManagedPolicySize })
	return s.validate("policyDocument", doc, Managed, max, "Cannot exceed quota for PolicySize: "+strconv.Itoa(max))
}

// GetPolicy returns a managed policy with its versions.
func (s *Service) GetPolicy(ctx context.Context, account, arn string) (*Policy, error) {
	if err := checkPolicyARNParam(arn); err != nil {
		return nil, err
	}
	var p *Policy
	err := s.view(ctx, account, func(tx Tx) (err error) {
		p, err = getPolicy(tx, account, arn)
		return err
	})
	return p, err
}

// ListPolicies lists the account's managed policies by name. There are no
// AWS managed policies yet, so Scope AWS lists nothing.
func (s *Service) ListPolicies(ctx context.Context, account string, opts ListPoliciesOptions) (Page[*Policy], error) {
	if err := checkPathPrefix(opts.PathPrefix); err != nil {
		return Page[*Policy]{}, err
	}
	switch opts.Scope {
	case "", ScopeAll, ScopeLocal, ScopeAWS:
	default:
		return Page[*Policy]{}, validationf("scope", opts.Scope, "satisfy enum value set: [All, AWS, Local]")
	}
	switch opts.PolicyUsageFilter {
	case "", UsagePermissionsPolicy, UsagePermissionsBoundary:
	default:
		return Page[*Policy]{}, validationf("policyUsageFilter", opts.PolicyUsageFilter, "satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]")
	}
	var list []*Policy
	err := s.view(ctx, account, func(tx Tx) error {
		if opts.Scope == ScopeAWS {
			return nil
		}
		all, err := tx.Policies()
		list = filter(all, func(p *Policy) bool {
			switch {
			case !matchPath(p.Path, opts.PathPrefix):
				return false
			case opts.PolicyUsageFilter == UsagePermissionsPolicy && p.AttachmentCount == 0:
				return false
			case opts.PolicyUsageFilter == UsagePermissionsBoundary && p.PermissionsBoundaryUsageCount == 0:
				return false
			case opts.OnlyAttached && p.AttachmentCount == 0 && p.PermissionsBoundaryUsageCount == 0:
				return false
			}
			return true
		})
		return err
	})
	if err != nil {
		return Page[*Policy]{}, err
	}
	return page(list, func(p *Policy) string { return lower(p.PolicyName) }, opts.ListOptions)
}

// DeletePolicy deletes a managed policy that is attached to nothing, used
// as no boundary, and has no version but its default (IAM makes callers
// delete the other versions first).
func (s *Service) DeletePolicy(ctx context.Context, account, arn string) error {
	if err := checkPolicyARNParam(arn); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		p, err := getPolicy(tx, account, arn)
		if err != nil {
			return err
		}
		switch {
		case p.AttachmentCount > 0 || p.PermissionsBoundaryUsageCount > 0:
			return Errorf(ErrDeleteConflict, "Cannot delete a policy attached to entities.")
		case len(p.Versions) > 1:
			return Errorf(ErrDeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		return tx.DeletePolicy(p.PolicyName)
	})
}

// CreatePolicyVersion adds a version to a managed policy, optionally as
// its new default. A policy keeps at most five versions.
func (s *Service) CreatePolicyVersion(ctx context.Context, account, arn, doc string, setAsDefault bool) (*PolicyVersion, error) {
	if err := checkPolicyARNParam(arn); err != nil {
		return nil, err
	}
	if err := s.validateManaged(doc); err != nil {
		return nil, err
	}
	now := s.now()
	var out *PolicyVersion
	err := s.update(ctx, account, func(tx Tx) error {
		out = nil
		p, err := getPolicy(tx, account, arn)
		if err != nil {
			return err
		}
		if max := s.quota(func(q Quotas) int { return q.PolicyVersions }); len(p.Versions) >= max {
			return Errorf(ErrLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", max)
		}
		v := PolicyVersion{VersionID: "v" + strconv.Itoa(p.NextVersion), Document: doc, CreateDate: now}
		p.NextVersion++
		p.Versions = append(p.Versions, v)
		p.UpdateDate = now
		if setAsDefault {
			p.DefaultVersionID = v.VersionID
		}
		if err := tx.PutPolicy(p); err != nil {
			return err
		}
		v.IsDefaultVersion = setAsDefault
		out = &v
		return nil
	})
	return out, err
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Service) GetPolicyVersion(ctx context.Context, account, arn, versionID string) (*PolicyVersion, error) {
	if err := checkPolicyARNParam(arn); err != nil {
		return nil, err
	}
	if err := checkVersionID(versionID); err != nil {
		return nil, err
	}
	var out *PolicyVersion
	err := s.view(ctx, account, func(tx Tx) error {
		p, err := getPolicy(tx, account, arn)
		if err != nil {
			return err
		}
		v := p.Version(versionID)
		if v == nil {
			return noSuchVersion(arn, versionID)
		}
		c := *v
		c.IsDefaultVersion = c.VersionID == p.DefaultVersionID
		out = &c
		return nil
	})
	return out, err
}

// ListPolicyVersions lists a managed policy's versions, newest first.
// Documents are included; the Query front door leaves them out, as IAM.
func (s *Service) ListPolicyVersions(ctx context.Context, account, arn string, opts ListOptions) (Page[PolicyVersion], error) {
	p, err := s.GetPolicy(ctx, account, arn)
	if err != nil {
		return Page[PolicyVersion]{}, err
	}
	list := make([]PolicyVersion, 0, len(p.Versions))
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v := p.Versions[i]
		v.IsDefaultVersion = v.VersionID == p.DefaultVersionID
		list = append(list, v)
	}
	return page(list, func(v PolicyVersion) string {
		// Newest first: order by the version number, inverted.
		n, _ := strconv.Atoi(v.VersionID[1:])
		return fmt.Sprintf("%010d", 1<<31-n)
	}, opts)
}

// SetDefaultPolicyVersion makes a version the policy's default: the one
// that applies wherever the policy is attached.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, account, arn, versionID string) error {
	if err := checkPolicyARNParam(arn); err != nil {
		return err
	}
	if err := checkVersionID(versionID); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		p, err := getPolicy(tx, account, arn)
		if err != nil {
			return err
		}
		if p.Version(versionID) == nil {
			return noSuchVersion(arn, versionID)
		}
		if p.DefaultVersionID == versionID {
			return nil
		}
		p.DefaultVersionID = versionID
		return tx.PutPolicy(p)
	})
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, account, arn, versionID string) error {
	if err := checkPolicyARNParam(arn); err != nil {
		return err
	}
	if err := checkVersionID(versionID); err != nil {
		return err
	}
	return s.update(ctx, account, func(tx Tx) error {
		p, err := getPolicy(tx, account, arn)
		if err != nil {
			return err
		}
		if p.Version(versionID) == nil {
			return noSuchVersion(arn, versionID)
		}
		if p.DefaultVersionID == versionID {
			return Errorf(ErrDeleteConflict, "Cannot delete the default version of a policy.")
		}
		kept := p.Versions[:0:0]
		for _, v := range p.Versions {
			if v.VersionID != versionID {
				kept = append(kept, v)
			}
		}
		p.Versions = kept
		return tx.PutPolicy(p)
	})
}

func noSuchVersion(arn, vid string) error {
	return Errorf(ErrNoSuchEntity, "Policy %s version %s does not exist or is not attachable.", arn, vid)
}
