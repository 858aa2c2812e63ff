package iamapi

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/iam"
)

// Requirement is what a request needs from the authorizer: every one of
// Actions allowed on Resource, with Conditions as the request's condition
// keys. Actions[0] is the operation's own action; the others are implied
// by its parameters (CreateUser with Tags also needs iam:TagUser, with a
// PermissionsBoundary iam:PutUserPermissionsBoundary).
type Requirement struct {
	Actions    []string
	Resource   string
	Conditions map[string][]string
}

// ActionFor describes the IAM action and resource ARN a request needs,
// for the pipeline's authorizer, from the request alone. Without the
// store it cannot know an existing entity's path, so ARNs of existing
// users, groups and roles are written with path "/", and operations whose
// resource is the calling user (UserName omitted) or a key's owner
// (GetAccessKeyLastUsed) get "*". Handler.Requirement is exact; prefer it.
// An unknown action is an InvalidAction *Error.
func ActionFor(service string, form url.Values, accountID string) (action, resourceARN string, err error) {
	r, err := requirement(service, form, accountID, nil)
	if err != nil {
		return "", "", err
	}
	return r.Actions[0], r.Resource, nil
}

// Requirement describes exactly what an authenticated caller's request
// needs: ARNs carry the entities' real paths, an omitted UserName is the
// caller (the root's own keys are on the root's ARN), GetAccessKeyLastUsed
// acts on the key's owner, and the tags of an existing user, role or
// policy are given as aws:ResourceTag/<key> conditions. A missing entity
// is described with path "/": the handler answers NoSuchEntity once the
// request is authorized, as IAM does.
func (h *Handler) Requirement(ctx context.Context, service string, caller *authn.Principal, form url.Values) (*Requirement, error) {
	if caller.IsAnonymous() {
		return nil, ErrMissingAuthenticationToken
	}
	return requirement(service, form, caller.AccountID, &resolver{ctx: ctx, h: h, caller: caller})
}

// resolver looks up what the form alone does not say.
type resolver struct {
	ctx    context.Context
	h      *Handler
	caller *authn.Principal
}

// entity returns an existing user's, group's or role's path and tags
// ("/" and none when it does not exist or the name is invalid).
func (r *resolver) entity(kind iam.Kind, account, name string) (string, []iam.Tag, error) {
	path, tags, err := r.h.IAM.EntityInfo(r.ctx, account, kind, name)
	if clientError(err) {
		return "/", nil, nil
	}
	return path, tags, err
}

// clientError reports an error that only says the request names nothing
// that exists (or nothing valid): the handler will report it properly.
func clientError(err error) bool {
	var e *iam.Error
	return errors.As(err, &e)
}

func requirement(service string, form url.Values, account string, res *resolver) (*Requirement, error) {
	o, err := lookup(service, form)
	if err != nil {
		return nil, err
	}
	req := &Requirement{Actions: []string{o.action}, Resource: "*", Conditions: map[string][]string{}}
	var resourceTags []iam.Tag
	entity := func(kind iam.Kind, name string) error {
		path := "/"
		if o.create {
			if p := form.Get("Path"); p != "" {
				path = p
			}
		} else if res != nil {
			var err error
			if path, resourceTags, err = res.entity(kind, account, name); err != nil {
				return err
			}
		}
		req.Resource = iam.ARN(account, kind, path, name)
		return nil
	}

	switch o.res {
	case resUser:
		name := form.Get("UserName")
		if name == "" && o.self {
			// The calling user; without a resolver (ActionFor) it is
			// unknown and the resource stays "*".
			switch {
			case res == nil:
			case res.caller.IsRoot():
				req.Resource = iam.RootARN(account)
			case res.caller.Type == authn.TypeIAMUser:
				name = res.caller.UserName
			}
		}
		switch {
		case o.rootName && strings.EqualFold(name, iam.RootUserName):
			req.Resource = iam.RootARN(account)
		case name != "":
			err = entity(iam.KindUser, name)
		}
	case resGroup:
		err = entity(iam.KindGroup, form.Get("GroupName"))
	case resRole:
		err = entity(iam.KindRole, form.Get("RoleName"))
	case resPolicy:
		if o.create {
			path := form.Get("Path")
			if path == "" {
				path = "/"
			}
			req.Resource = iam.ARN(account, iam.KindPolicy, path, form.Get("PolicyName"))
		} else {
			req.Resource = form.Get("PolicyArn")
			if res != nil && req.Resource != "" {
				p, err := res.h.IAM.GetPolicy(res.ctx, account, req.Resource)
				switch {
				case err == nil:
					resourceTags = p.Tags
				case !clientError(err):
					return nil, err
				}
			}
		}
	case resKeyOwner:
		if res != nil {
			k, err := res.h.IAM.GetAccessKeyLastUsed(res.ctx, account, form.Get("AccessKeyId"))
			switch {
			case err == nil && k.UserName == "":
				req.Resource = iam.RootARN(account)
			case err == nil:
				err = entity(iam.KindUser, k.UserName)
				if err != nil {
					return nil, err
				}
			case !clientError(err):
				return nil, err
			}
		}
	case resMFA:
		if o.create {
			path := form.Get("Path")
			if path == "" {
				path = "/"
			}
			req.Resource = "arn:aws:iam::" + account + ":mfa" + path + form.Get("VirtualMFADeviceName")
		} else {
			req.Resource = form.Get("SerialNumber")
		}
	case resRoleARN:
		if arn := form.Get("RoleArn"); arn != "" {
			req.Resource = arn
		}
	case resARN:
		req.Resource = form.Get("Arn")
	}
	if err != nil {
		return nil, err
	}
	if req.Resource == "" {
		req.Resource = "*"
	}
	addConditions(req, o, form, resourceTags)
	return req, nil
}

// addConditions adds the condition keys and implied actions of IAM's
// service authorization reference for the operations built.
func addConditions(req *Requirement, o *op, form url.Values, resourceTags []iam.Tag) {
	action := strings.TrimPrefix(o.action, "iam:")
	for _, t := range resourceTags {
		req.Conditions["aws:ResourceTag/"+t.Key] = []string{t.Value}
	}
	if strings.HasPrefix(action, "Attach") || strings.HasPrefix(action, "Detach") {
		req.Conditions["iam:PolicyARN"] = []string{form.Get("PolicyArn")}
	}
	if b := form.Get("PermissionsBoundary"); b != "" {
		req.Conditions["iam:PermissionsBoundary"] = []string{b}
		switch action {
		case "CreateUser":
			req.Actions = append(req.Actions, "iam:PutUserPermissionsBoundary")
		case "CreateRole":
			req.Actions = append(req.Actions, "iam:PutRolePermissionsBoundary")
		}
	}
	if tags := formTags(form); len(tags) > 0 {
		var keys []string
		for _, t := range tags {
			req.Conditions["aws:RequestTag/"+t.Key] = []string{t.Value}
			keys = append(keys, t.Key)
		}
		req.Conditions["aws:TagKeys"] = keys
		switch action {
		case "CreateUser":
			req.Actions = append(req.Actions, "iam:TagUser")
		case "CreateRole":
			req.Actions = append(req.Actions, "iam:TagRole")
		case "CreatePolicy":
			req.Actions = append(req.Actions, "iam:TagPolicy")
		}
	}
	if action == "UntagUser" {
		c := &call{form: form}
		req.Conditions["aws:TagKeys"] = c.list("TagKeys")
	}
	if len(req.Conditions) == 0 {
		req.Conditions = nil
	}
}
