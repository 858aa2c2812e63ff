package iamapi

import (
	"errors"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/iam"
)

// resKind is the kind of resource an operation acts on, for its ARN.
type resKind int

const (
	resNone     resKind = iota // "*": account-wide listings
	resUser                    // the user named by UserName
	resGroup                   // GroupName
	resRole                    // RoleName
	resPolicy                  // PolicyArn (CreatePolicy: PolicyName and Path)
	resKeyOwner                // the user owning AccessKeyId
	resRoleARN                 // STS: the role named by RoleArn
	resMFA                     // the MFA device: SerialNumber (create: VirtualMFADeviceName and Path)
	resARN                     // the entity named by Arn
)

// op is one row of the operation table: how to handle an action and what
// it needs from the authorizer.
type op struct {
	handle handlerFunc
	action string // the IAM action, "iam:CreateUser"
	res    resKind
	// self: UserName may be omitted and then means the calling user.
	self bool
	// create: the resource does not exist yet; its path comes from the
	// request's Path parameter.
	create bool
	// rootName: UserName "root" means the account root (the MFA
	// operations; a Coffer deviation, see iam.RootUserName).
	rootName bool
}

var iamOps = map[string]*op{
	"CreateUser":           {handle: (*Handler).createUser, res: resUser, create: true},
	"GetUser":              {handle: (*Handler).getUser, res: resUser, self: true},
	"ListUsers":            {handle: (*Handler).listUsers},
	"UpdateUser":           {handle: (*Handler).updateUser, res: resUser},
	"DeleteUser":           {handle: (*Handler).deleteUser, res: resUser},
	"TagUser":              {handle: (*Handler).tagUser, res: resUser},
	"UntagUser":            {handle: (*Handler).untagUser, res: resUser},
	"ListUserTags":         {handle: (*Handler).listUserTags, res: resUser},
	"CreateAccessKey":      {handle: (*Handler).createAccessKey, res: resUser, self: true},
	"ListAccessKeys":       {handle: (*Handler).listAccessKeys, res: resUser, self: true},
	"UpdateAccessKey":      {handle: (*Handler).updateAccessKey, res: resUser, self: true},
	"DeleteAccessKey":      {handle: (*Handler).deleteAccessKey, res: resUser, self: true},
	"GetAccessKeyLastUsed": {handle: (*Handler).getAccessKeyLastUsed, res: resKeyOwner},

	"CreateGroup":         {handle: (*Handler).createGroup, res: resGroup, create: true},
	"GetGroup":            {handle: (*Handler).getGroup, res: resGroup},
	"ListGroups":          {handle: (*Handler).listGroups},
	"DeleteGroup":         {handle: (*Handler).deleteGroup, res: resGroup},
	"AddUserToGroup":      {handle: (*Handler).addUserToGroup, res: resGroup},
	"RemoveUserFromGroup": {handle: (*Handler).removeUserFromGroup, res: resGroup},
	"ListGroupsForUser":   {handle: (*Handler).listGroupsForUser, res: resUser},

	"PutUserPolicy":     {handle: putInline(iam.KindUser), res: resUser},
	"GetUserPolicy":     {handle: getInline(iam.KindUser), res: resUser},
	"ListUserPolicies":  {handle: listInline(iam.KindUser), res: resUser},
	"DeleteUserPolicy":  {handle: deleteInline(iam.KindUser), res: resUser},
	"PutGroupPolicy":    {handle: putInline(iam.KindGroup), res: resGroup},
	"GetGroupPolicy":    {handle: getInline(iam.KindGroup), res: resGroup},
	"ListGroupPolicies": {handle: listInline(iam.KindGroup), res: resGroup},
	"DeleteGroupPolicy": {handle: deleteInline(iam.KindGroup), res: resGroup},
	"PutRolePolicy":     {handle: putInline(iam.KindRole), res: resRole},
	"GetRolePolicy":     {handle: getInline(iam.KindRole), res: resRole},
	"ListRolePolicies":  {handle: listInline(iam.KindRole), res: resRole},
	"DeleteRolePolicy":  {handle: deleteInline(iam.KindRole), res: resRole},

	"CreateRole":             {handle: (*Handler).createRole, res: resRole, create: true},
	"GetRole":                {handle: (*Handler).getRole, res: resRole},
	"ListRoles":              {handle: (*Handler).listRoles},
	"DeleteRole":             {handle: (*Handler).deleteRole, res: resRole},
	"UpdateAssumeRolePolicy": {handle: (*Handler).updateAssumeRolePolicy, res: resRole},

	"CreatePolicy":            {handle: (*Handler).createPolicy, res: resPolicy, create: true},
	"GetPolicy":               {handle: (*Handler).getPolicy, res: resPolicy},
	"ListPolicies":            {handle: (*Handler).listPolicies},
	"DeletePolicy":            {handle: (*Handler).deletePolicy, res: resPolicy},
	"CreatePolicyVersion":     {handle: (*Handler).createPolicyVersion, res: resPolicy},
	"GetPolicyVersion":        {handle: (*Handler).getPolicyVersion, res: resPolicy},
	"ListPolicyVersions":      {handle: (*Handler).listPolicyVersions, res: resPolicy},
	"SetDefaultPolicyVersion": {handle: (*Handler).setDefaultPolicyVersion, res: resPolicy},
	"DeletePolicyVersion":     {handle: (*Handler).deletePolicyVersion, res: resPolicy},

	"AttachUserPolicy":          {handle: attach(iam.KindUser), res: resUser},
	"DetachUserPolicy":          {handle: detach(iam.KindUser), res: resUser},
	"ListAttachedUserPolicies":  {handle: listAttached(iam.KindUser), res: resUser},
	"AttachGroupPolicy":         {handle: attach(iam.KindGroup), res: resGroup},
	"DetachGroupPolicy":         {handle: detach(iam.KindGroup), res: resGroup},
	"ListAttachedGroupPolicies": {handle: listAttached(iam.KindGroup), res: resGroup},
	"AttachRolePolicy":          {handle: attach(iam.KindRole), res: resRole},
	"DetachRolePolicy":          {handle: detach(iam.KindRole), res: resRole},
	"ListAttachedRolePolicies":  {handle: listAttached(iam.KindRole), res: resRole},

	"CreateVirtualMFADevice": {handle: (*Handler).createVirtualMFADevice, res: resMFA, create: true},
	"DeleteVirtualMFADevice": {handle: (*Handler).deleteVirtualMFADevice, res: resMFA},
	"ListVirtualMFADevices":  {handle: (*Handler).listVirtualMFADevices},
	"EnableMFADevice":        {handle: (*Handler).enableMFADevice, res: resUser, rootName: true},
	"DeactivateMFADevice":    {handle: (*Handler).deactivateMFADevice, res: resUser, rootName: true},
	"ResyncMFADevice":        {handle: (*Handler).resyncMFADevice, res: resUser, rootName: true},
	"ListMFADevices":         {handle: (*Handler).listMFADevices, res: resUser, self: true, rootName: true},

	"PutUserPermissionsBoundary":    {handle: putBoundary(iam.KindUser), res: resUser},
	"DeleteUserPermissionsBoundary": {handle: deleteBoundary(iam.KindUser), res: resUser},
	"PutRolePermissionsBoundary":    {handle: putBoundary(iam.KindRole), res: resRole},
	"DeleteRolePermissionsBoundary": {handle: deleteBoundary(iam.KindRole), res: resRole},

	"GenerateServiceLastAccessedDetails": {handle: (*Handler).generateServiceLastAccessedDetails, res: resARN},
	"GetServiceLastAccessedDetails":      {handle: (*Handler).getServiceLastAccessedDetails},
}

// stsOps: GetCallerIdentity, GetSessionToken and AssumeRole are built. The others are listed so that
// they are recognized (and authorized) as STS operations and answered
// NotImplemented rather than InvalidAction.
var stsOps = map[string]*op{
	"GetCallerIdentity":          {handle: (*Handler).getCallerIdentity},
	"AssumeRole":                 {handle: (*Handler).assumeRole, res: resRoleARN},
	"AssumeRoleWithSAML":         {handle: unbuilt("AssumeRoleWithSAML"), res: resRoleARN},
	"AssumeRoleWithWebIdentity":  {handle: unbuilt("AssumeRoleWithWebIdentity"), res: resRoleARN},
	"GetSessionToken":            {handle: (*Handler).getSessionToken},
	"GetFederationToken":         {handle: unbuilt("GetFederationToken")},
	"DecodeAuthorizationMessage": {handle: unbuilt("DecodeAuthorizationMessage")},
	"GetAccessKeyInfo":           {handle: unbuilt("GetAccessKeyInfo")},
}

func init() {
	for name, o := range iamOps {
		o.action = "iam:" + name
	}
	for name, o := range stsOps {
		o.action = "sts:" + name
	}
}

func unbuilt(action string) handlerFunc {
	return func(*Handler, *call) (any, error) { return nil, notImplemented(action) }
}

// entityParam is the parameter naming an entity of kind.
func entityParam(kind iam.Kind) string {
	switch kind {
	case iam.KindGroup:
		return "GroupName"
	case iam.KindRole:
		return "RoleName"
	}
	return "UserName"
}

// Users.

type userResult struct {
	User xUser `xml:"User"`
}

func (h *Handler) createUser(c *call) (any, error) {
	u, err := h.IAM.CreateUser(c.ctx, c.account, iam.CreateUserInput{UserName: c.get("UserName"), Path: c.get("Path"),
		PermissionsBoundary: c.get("PermissionsBoundary"), Tags: c.tags()})
	if err != nil {
		return nil, err
	}
	return userResult{userXML(c.account, u, true)}, nil
}

func (h *Handler) getUser(c *call) (any, error) {
	name, err := c.userOrCaller()
	if err != nil {
		return nil, err
	}
	if name == "" {
		// The root: IAM describes it with the account id as its user id.
		x := xUser{UserID: c.account, Arn: iam.RootARN(c.account)}
		if h.Accounts != nil {
			a, err := h.Accounts.GetAccount(c.ctx, c.account)
			if err != nil {
				return nil, err
			}
			x.CreateDate = isoDate(a.CreatedAt)
		}
		return userResult{x}, nil
	}
	u, err := h.IAM.GetUser(c.ctx, c.account, name)
	if err != nil {
		return nil, err
	}
	return userResult{userXML(c.account, u, true)}, nil
}

type listUsersResult struct {
	Users members[xUser] `xml:"Users"`
	page
}

func (h *Handler) listUsers(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListUsers(c.ctx, c.account, opts)
	if err != nil {
		return nil, err
	}
	r := listUsersResult{Users: members[xUser]{}, page: pageOf(p)}
	for _, u := range p.Items {
		r.Users = append(r.Users, userXML(c.account, u, false))
	}
	return r, nil
}

func (h *Handler) updateUser(c *call) (any, error) {
	return nil, h.IAM.UpdateUser(c.ctx, c.account, c.get("UserName"), c.get("NewUserName"), c.get("NewPath"))
}

func (h *Handler) deleteUser(c *call) (any, error) {
	return nil, h.IAM.DeleteUser(c.ctx, c.account, c.get("UserName"))
}

func (h *Handler) tagUser(c *call) (any, error) {
	return nil, h.IAM.TagUser(c.ctx, c.account, c.get("UserName"), c.tags())
}

func (h *Handler) untagUser(c *call) (any, error) {
	return nil, h.IAM.UntagUser(c.ctx, c.account, c.get("UserName"), c.list("TagKeys"))
}

type listTagsResult struct {
	Tags members[xTag] `xml:"Tags"`
	page
}

func (h *Handler) listUserTags(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListUserTags(c.ctx, c.account, c.get("UserName"), opts)
	if err != nil {
		return nil, err
	}
	r := listTagsResult{Tags: members[xTag]{}, page: pageOf(p)}
	r.Tags = append(r.Tags, tagsXML(p.Items)...)
	return r, nil
}

// Access keys.

type accessKeyResult struct {
	AccessKey xAccessKey `xml:"AccessKey"`
}

func (h *Handler) createAccessKey(c *call) (any, error) {
	user, err := c.userOrCaller()
	if err != nil {
		return nil, err
	}
	k, err := h.IAM.CreateAccessKey(c.ctx, c.account, user)
	if err != nil {
		return nil, err
	}
	return accessKeyResult{keyXML(k)}, nil
}

type listAccessKeysResult struct {
	AccessKeyMetadata members[xAccessKey] `xml:"AccessKeyMetadata"`
	page
}

func (h *Handler) listAccessKeys(c *call) (any, error) {
	user, err := c.userOrCaller()
	if err != nil {
		return nil, err
	}
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListAccessKeys(c.ctx, c.account, user, opts)
	if err != nil {
		return nil, err
	}
	r := listAccessKeysResult{AccessKeyMetadata: members[xAccessKey]{}, page: pageOf(p)}
	for _, k := range p.Items {
		r.AccessKeyMetadata = append(r.AccessKeyMetadata, keyXML(k))
	}
	return r, nil
}

func (h *Handler) updateAccessKey(c *call) (any, error) {
	user, err := c.userOrCaller()
	if err != nil {
		return nil, err
	}
	return nil, h.IAM.UpdateAccessKey(c.ctx, c.account, user, c.get("AccessKeyId"), c.get("Status"))
}

func (h *Handler) deleteAccessKey(c *call) (any, error) {
	user, err := c.userOrCaller()
	if err != nil {
		return nil, err
	}
	return nil, h.IAM.DeleteAccessKey(c.ctx, c.account, user, c.get("AccessKeyId"))
}

type lastUsedResult struct {
	UserName          string    `xml:"UserName,omitempty"`
	AccessKeyLastUsed xLastUsed `xml:"AccessKeyLastUsed"`
}

func (h *Handler) getAccessKeyLastUsed(c *call) (any, error) {
	k, err := h.IAM.GetAccessKeyLastUsed(c.ctx, c.account, c.get("AccessKeyId"))
	if err != nil {
		return nil, err
	}
	// A key never used reports N/A for the service and region, and no
	// date, as IAM does.
	r := lastUsedResult{UserName: k.UserName, AccessKeyLastUsed: xLastUsed{ServiceName: "N/A", Region: "N/A"}}
	if l := k.LastUsed; l != nil {
		r.AccessKeyLastUsed = xLastUsed{LastUsedDate: isoDate(l.Date), ServiceName: l.ServiceName, Region: l.Region}
	}
	return r, nil
}

// Groups.

type groupResult struct {
	Group xGroup `xml:"Group"`
}

func (h *Handler) createGroup(c *call) (any, error) {
	g, err := h.IAM.CreateGroup(c.ctx, c.account, c.get("GroupName"), c.get("Path"))
	if err != nil {
		return nil, err
	}
	return groupResult{groupXML(c.account, g)}, nil
}

type getGroupResult struct {
	Group xGroup         `xml:"Group"`
	Users members[xUser] `xml:"Users"`
	page
}

func (h *Handler) getGroup(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	g, p, err := h.IAM.GetGroup(c.ctx, c.account, c.get("GroupName"), opts)
	if err != nil {
		return nil, err
	}
	r := getGroupResult{Group: groupXML(c.account, g), Users: members[xUser]{}, page: pageOf(p)}
	for _, u := range p.Items {
		r.Users = append(r.Users, userXML(c.account, u, false))
	}
	return r, nil
}

type listGroupsResult struct {
	Groups members[xGroup] `xml:"Groups"`
	page
}

func groupsResult(account string, p iam.Page[*iam.Group]) listGroupsResult {
	r := listGroupsResult{Groups: members[xGroup]{}, page: pageOf(p)}
	for _, g := range p.Items {
		r.Groups = append(r.Groups, groupXML(account, g))
	}
	return r
}

func (h *Handler) listGroups(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListGroups(c.ctx, c.account, opts)
	if err != nil {
		return nil, err
	}
	return groupsResult(c.account, p), nil
}

func (h *Handler) listGroupsForUser(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListGroupsForUser(c.ctx, c.account, c.get("UserName"), opts)
	if err != nil {
		return nil, err
	}
	return groupsResult(c.account, p), nil
}

func (h *Handler) deleteGroup(c *call) (any, error) {
	return nil, h.IAM.DeleteGroup(c.ctx, c.account, c.get("GroupName"))
}

func (h *Handler) addUserToGroup(c *call) (any, error) {
	return nil, h.IAM.AddUserToGroup(c.ctx, c.account, c.get("GroupName"), c.get("UserName"))
}

func (h *Handler) removeUserFromGroup(c *call) (any, error) {
	return nil, h.IAM.RemoveUserFromGroup(c.ctx, c.account, c.get("GroupName"), c.get("UserName"))
}

// Inline policies.

func putInline(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		return nil, h.IAM.PutInlinePolicy(c.ctx, c.account, kind, c.get(entityParam(kind)), c.get("PolicyName"), c.get("PolicyDocument"))
	}
}

// inlineResult names the entity in the element of its kind (UserName,
// GroupName or RoleName); the other two stay empty and are left out.
type inlineResult struct {
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func getInline(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		name, p, err := h.IAM.GetInlinePolicy(c.ctx, c.account, kind, c.get(entityParam(kind)), c.get("PolicyName"))
		if err != nil {
			return nil, err
		}
		r := inlineResult{PolicyName: p.Name, PolicyDocument: encodeDocument(p.Document)}
		switch kind {
		case iam.KindUser:
			r.UserName = name
		case iam.KindGroup:
			r.GroupName = name
		case iam.KindRole:
			r.RoleName = name
		}
		return r, nil
	}
}

type policyNamesResult struct {
	PolicyNames members[string] `xml:"PolicyNames"`
	page
}

func listInline(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		opts, err := c.listOptions()
		if err != nil {
			return nil, err
		}
		p, err := h.IAM.ListInlinePolicies(c.ctx, c.account, kind, c.get(entityParam(kind)), opts)
		if err != nil {
			return nil, err
		}
		return policyNamesResult{PolicyNames: append(members[string]{}, p.Items...), page: pageOf(p)}, nil
	}
}

func deleteInline(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		return nil, h.IAM.DeleteInlinePolicy(c.ctx, c.account, kind, c.get(entityParam(kind)), c.get("PolicyName"))
	}
}

// Roles.

type roleResult struct {
	Role xRole `xml:"Role"`
}

func (h *Handler) createRole(c *call) (any, error) {
	msd, err := c.int("MaxSessionDuration", "maxSessionDuration")
	if err != nil {
		return nil, err
	}
	if c.get("MaxSessionDuration") != "" && msd == 0 {
		// The service reads 0 as "absent"; an explicit 0 is out of range.
		return nil, iam.Errorf(iam.ErrValidation, "1 validation error detected: Value '0' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to %d", iam.MinMaxSessionDuration)
	}
	r, err := h.IAM.CreateRole(c.ctx, c.account, iam.CreateRoleInput{RoleName: c.get("RoleName"), Path: c.get("Path"),
		AssumeRolePolicyDocument: c.get("AssumeRolePolicyDocument"), Description: c.get("Description"),
		MaxSessionDuration: msd, PermissionsBoundary: c.get("PermissionsBoundary"), Tags: c.tags()})
	if err != nil {
		return nil, err
	}
	return roleResult{roleXML(c.account, r, true)}, nil
}

func (h *Handler) getRole(c *call) (any, error) {
	r, err := h.IAM.GetRole(c.ctx, c.account, c.get("RoleName"))
	if err != nil {
		return nil, err
	}
	x := roleXML(c.account, r, true)
	x.RoleLastUsed = &struct{}{}
	return roleResult{x}, nil
}

type listRolesResult struct {
	Roles members[xRole] `xml:"Roles"`
	page
}

func (h *Handler) listRoles(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListRoles(c.ctx, c.account, opts)
	if err != nil {
		return nil, err
	}
	r := listRolesResult{Roles: members[xRole]{}, page: pageOf(p)}
	for _, role := range p.Items {
		r.Roles = append(r.Roles, roleXML(c.account, role, false))
	}
	return r, nil
}

func (h *Handler) deleteRole(c *call) (any, error) {
	return nil, h.IAM.DeleteRole(c.ctx, c.account, c.get("RoleName"))
}

func (h *Handler) updateAssumeRolePolicy(c *call) (any, error) {
	return nil, h.IAM.UpdateAssumeRolePolicy(c.ctx, c.account, c.get("RoleName"), c.get("PolicyDocument"))
}

// Managed policies.

type policyResult struct {
	Policy xPolicy `xml:"Policy"`
}

func (h *Handler) createPolicy(c *call) (any, error) {
	p, err := h.IAM.CreatePolicy(c.ctx, c.account, iam.CreatePolicyInput{PolicyName: c.get("PolicyName"), Path: c.get("Path"),
		PolicyDocument: c.get("PolicyDocument"), Description: c.get("Description"), Tags: c.tags()})
	if err != nil {
		return nil, err
	}
	return policyResult{policyXML(c.account, p, true)}, nil
}

func (h *Handler) getPolicy(c *call) (any, error) {
	p, err := h.IAM.GetPolicy(c.ctx, c.account, c.get("PolicyArn"))
	if err != nil {
		return nil, err
	}
	return policyResult{policyXML(c.account, p, true)}, nil
}

type listPoliciesResult struct {
	Policies members[xPolicy] `xml:"Policies"`
	page
}

func (h *Handler) listPolicies(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	onlyAttached, err := c.bool("OnlyAttached", "onlyAttached")
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListPolicies(c.ctx, c.account, iam.ListPoliciesOptions{ListOptions: opts, Scope: c.get("Scope"),
		OnlyAttached: onlyAttached, PolicyUsageFilter: c.get("PolicyUsageFilter")})
	if err != nil {
		return nil, err
	}
	r := listPoliciesResult{Policies: members[xPolicy]{}, page: pageOf(p)}
	for _, pol := range p.Items {
		r.Policies = append(r.Policies, policyXML(c.account, pol, false))
	}
	return r, nil
}

func (h *Handler) deletePolicy(c *call) (any, error) {
	return nil, h.IAM.DeletePolicy(c.ctx, c.account, c.get("PolicyArn"))
}

type policyVersionResult struct {
	PolicyVersion xPolicyVersion `xml:"PolicyVersion"`
}

func (h *Handler) createPolicyVersion(c *call) (any, error) {
	def, err := c.bool("SetAsDefault", "setAsDefault")
	if err != nil {
		return nil, err
	}
	v, err := h.IAM.CreatePolicyVersion(c.ctx, c.account, c.get("PolicyArn"), c.get("PolicyDocument"), def)
	if err != nil {
		return nil, err
	}
	return policyVersionResult{versionXML(v, false)}, nil
}

func (h *Handler) getPolicyVersion(c *call) (any, error) {
	v, err := h.IAM.GetPolicyVersion(c.ctx, c.account, c.get("PolicyArn"), c.get("VersionId"))
	if err != nil {
		return nil, err
	}
	return policyVersionResult{versionXML(v, true)}, nil
}

type listVersionsResult struct {
	Versions members[xPolicyVersion] `xml:"Versions"`
	page
}

func (h *Handler) listPolicyVersions(c *call) (any, error) {
	opts, err := c.listOptions()
	if err != nil {
		return nil, err
	}
	p, err := h.IAM.ListPolicyVersions(c.ctx, c.account, c.get("PolicyArn"), opts)
	if err != nil {
		return nil, err
	}
	r := listVersionsResult{Versions: members[xPolicyVersion]{}, page: pageOf(p)}
	for i := range p.Items {
		r.Versions = append(r.Versions, versionXML(&p.Items[i], false))
	}
	return r, nil
}

func (h *Handler) setDefaultPolicyVersion(c *call) (any, error) {
	return nil, h.IAM.SetDefaultPolicyVersion(c.ctx, c.account, c.get("PolicyArn"), c.get("VersionId"))
}

func (h *Handler) deletePolicyVersion(c *call) (any, error) {
	return nil, h.IAM.DeletePolicyVersion(c.ctx, c.account, c.get("PolicyArn"), c.get("VersionId"))
}

// Attachments and boundaries.

func attach(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		return nil, h.IAM.AttachPolicy(c.ctx, c.account, kind, c.get(entityParam(kind)), c.get("PolicyArn"))
	}
}

func detach(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		return nil, h.IAM.DetachPolicy(c.ctx, c.account, kind, c.get(entityParam(kind)), c.get("PolicyArn"))
	}
}

type attachedResult struct {
	AttachedPolicies members[xAttachedPolicy] `xml:"AttachedPolicies"`
	page
}

func listAttached(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		opts, err := c.listOptions()
		if err != nil {
			return nil, err
		}
		p, err := h.IAM.ListAttachedPolicies(c.ctx, c.account, kind, c.get(entityParam(kind)), opts)
		if err != nil {
			return nil, err
		}
		r := attachedResult{AttachedPolicies: members[xAttachedPolicy]{}, page: pageOf(p)}
		for _, a := range p.Items {
			r.AttachedPolicies = append(r.AttachedPolicies, xAttachedPolicy{PolicyName: a.PolicyName, PolicyArn: a.PolicyARN})
		}
		return r, nil
	}
}

func putBoundary(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		return nil, h.IAM.PutPermissionsBoundary(c.ctx, c.account, kind, c.get(entityParam(kind)), c.get("PermissionsBoundary"))
	}
}

func deleteBoundary(kind iam.Kind) handlerFunc {
	return func(h *Handler, c *call) (any, error) {
		return nil, h.IAM.DeletePermissionsBoundary(c.ctx, c.account, kind, c.get(entityParam(kind)))
	}
}

// STS.

type callerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

// getCallerIdentity reports who the caller is: for the root, its ARN and
// the account id as user id; for an IAM user, the user's ARN (with its
// path) and unique id.
func (h *Handler) getCallerIdentity(c *call) (any, error) {
	if c.caller.IsRoot() {
		return callerIdentityResult{Arn: iam.RootARN(c.account), UserID: c.account, Account: c.account}, nil
	}
	if c.caller.Type == authn.TypeAssumedRole {
		return callerIdentityResult{Arn: c.caller.ARN, UserID: c.caller.UserID, Account: c.account}, nil
	}
	if c.caller.Type != authn.TypeIAMUser {
		return nil, errors.New("iamapi: GetCallerIdentity for a principal of type " + c.caller.Type)
	}
	u, err := h.IAM.GetUser(c.ctx, c.account, c.caller.UserName)
	if err != nil {
		return nil, err
	}
	return callerIdentityResult{Arn: u.ARN(c.account), UserID: u.UserID, Account: c.account}, nil
}
