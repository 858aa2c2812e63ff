package iamapi

// STS: GetSessionToken and AssumeRole.
//
// Both issue temporary credentials whose session token is sealed by
// package session: it carries the principal, the session policies and the
// MFA facts, so nothing is stored per session (see package session).

import (
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/auth/session"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/policy"
	"github.com/coffer-io/coffer/internal/s3api"
)

// Session durations in seconds [§2.3].
const (
	minSessionDuration     = 900
	maxSessionTokenSeconds = 129600
	defSessionTokenSeconds = 43200
	rootSessionSeconds     = 3600 // the root's GetSessionToken cap
	defRoleSeconds         = 3600
	chainedRoleSeconds     = 3600 // role chaining cap
	maxRoleSeconds         = 43200
	maxSessionPolicyChars  = 2048
	maxPolicyArns          = 10
)

var (
	sessionNameRE    = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDRE     = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	tokenCodeRE      = regexp.MustCompile(`^[0-9]{6}$`)
	errMFAInvalid    = stsDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.")
	errMFAUnverified = stsDenied("MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.")
)

func stsDenied(msg string) *Error {
	return &Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: msg}
}

func stsValidation(msg string) *Error {
	return &Error{Code: "ValidationError", Status: http.StatusBadRequest, Message: msg}
}

func constraint(field, value, rule string) *Error {
	return stsValidation("1 validation error detected: Value '" + value + "' at '" + field + "' failed to satisfy constraint: Member must " + rule)
}

// sessionRestrictions applies AWS's limits on what temporary credentials
// may call [§2.3]: GetSessionToken credentials reach IAM only with MFA
// and STS only for AssumeRole and GetCallerIdentity; role sessions cannot
// call GetSessionToken.
func sessionRestrictions(service, action string, p *authn.Principal) error {
	if p == nil || p.Session == nil {
		return nil
	}
	role := p.Type == authn.TypeAssumedRole
	switch {
	case service == ServiceSTS && action == "GetSessionToken":
		return stsDenied("Cannot call GetSessionToken with session credentials")
	case role:
		return nil
	case service == ServiceSTS && action != "AssumeRole" && action != "GetCallerIdentity":
		return stsDenied("Cannot call " + action + " with session credentials")
	case service == ServiceIAM && !p.Session.MFA:
		return &Error{Code: "InvalidClientTokenId", Status: http.StatusForbidden,
			Message: "The security token included in the request is invalid"}
	}
	return nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC().Truncate(time.Second)
	}
	return time.Now().UTC().Truncate(time.Second)
}

func (h *Handler) rand() io.Reader {
	if h.Rand != nil {
		return h.Rand
	}
	return rand.Reader
}

type xCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

// issue fills in fresh credentials for t and seals its token.
func (h *Handler) issue(t *session.Token, now time.Time, seconds int) (xCredentials, error) {
	if h.Sessions == nil {
		return xCredentials{}, errors.New("iamapi: no session key configured")
	}
	id, secret, err := session.NewCredentials(h.rand())
	if err != nil {
		return xCredentials{}, err
	}
	t.AccessKeyID, t.Secret = id, secret
	t.Issued, t.Expires = now.Unix(), now.Add(time.Duration(seconds)*time.Second).Unix()
	tok, err := h.Sessions.Seal(t)
	if err != nil {
		return xCredentials{}, err
	}
	return xCredentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: tok, Expiration: isoDate(t.Expiration())}, nil
}

// duration reads DurationSeconds within [minSessionDuration, max], def
// when absent.
func (c *call) duration(def, max int) (int, error) {
	v := c.get("DurationSeconds")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return 0, constraint("durationSeconds", v, "be a number")
	case n < minSessionDuration:
		return 0, constraint("durationSeconds", v, "have value greater than or equal to 900")
	case n > max:
		return 0, constraint("durationSeconds", v, "have value less than or equal to "+strconv.Itoa(max))
	}
	return n, nil
}

// mfa checks the SerialNumber and TokenCode parameters against the
// caller's own device. present is false when neither is given.
func (h *Handler) mfa(c *call) (present bool, err error) {
	serial, code := c.get("SerialNumber"), c.get("TokenCode")
	if serial == "" && code == "" {
		return false, nil
	}
	if serial != "" && (len(serial) < 9 || len(serial) > 256) {
		return false, constraint("serialNumber", serial, "have length between 9 and 256")
	}
	if code != "" && !tokenCodeRE.MatchString(code) {
		return false, constraint("tokenCode", code, `satisfy regular expression pattern: [\d]*`)
	}
	if serial == "" || code == "" {
		return false, errMFAUnverified
	}
	user := iam.RootUserName
	switch {
	case c.caller.Type == authn.TypeIAMUser:
		user = c.caller.UserName
	case !c.caller.IsRoot():
		// Role sessions have no MFA devices of their own.
		return false, errMFAUnverified
	}
	err = h.IAM.VerifyUserMFA(c.ctx, c.account, user, serial, code)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, iam.ErrInvalidAuthenticationCode):
		return false, errMFAInvalid
	case errors.Is(err, iam.ErrNoSuchEntity), errors.Is(err, iam.ErrValidation):
		return false, errMFAUnverified
	}
	return false, err
}

type getSessionTokenResult struct {
	Credentials xCredentials `xml:"Credentials"`
}

// getSessionToken issues credentials for the calling user or root,
// carrying the MFA check when SerialNumber and TokenCode are given. It
// needs no permission.
func (h *Handler) getSessionToken(c *call) (any, error) {
	max, def := maxSessionTokenSeconds, defSessionTokenSeconds
	root := c.caller.IsRoot()
	seconds, err := c.duration(def, max)
	if err != nil {
		return nil, err
	}
	if root {
		// The root's sessions last at most an hour, longer requests
		// being cut to that [IAM-STSREQ].
		seconds = min(seconds, rootSessionSeconds)
	}
	if c.caller.Type != authn.TypeIAMUser && !root {
		return nil, stsDenied("Cannot call GetSessionToken with session credentials")
	}
	present, err := h.mfa(c)
	if err != nil {
		return nil, err
	}
	now := h.now()
	t := &session.Token{Account: c.account, Kind: session.KindRoot}
	if !root {
		t.Kind, t.UserName = session.KindUser, c.caller.UserName
	}
	if present {
		t.MFA, t.MFATime = true, now.Unix()
	}
	creds, err := h.issue(t, now, seconds)
	if err != nil {
		return nil, err
	}
	return getSessionTokenResult{creds}, nil
}

type xAssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials      xCredentials     `xml:"Credentials"`
	AssumedRoleUser  xAssumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int             `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string           `xml:"SourceIdentity,omitempty"`
}

// roleARN is a parsed arn:aws:iam::ACCOUNT:role/PATH/NAME.
type roleARN struct{ account, path, name string }

func parseRoleARN(s string) (roleARN, bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return roleARN{}, false
	}
	acct, rest, ok := strings.Cut(rest, ":")
	if !ok || len(acct) != 12 || strings.Trim(acct, "0123456789") != "" {
		return roleARN{}, false
	}
	rest, ok = strings.CutPrefix(rest, "role/")
	if !ok {
		return roleARN{}, false
	}
	i := strings.LastIndexByte(rest, '/')
	r := roleARN{account: acct, path: "/" + rest[:i+1], name: rest[i+1:]}
	if r.name == "" {
		return roleARN{}, false
	}
	return r, true
}

// checkName checks a session name or source identity: 2 to 64 of
// [\w+=,.@-].
func checkSTSName(field, v string) error {
	switch {
	case len(v) < 2:
		return constraint(field, v, "have length greater than or equal to 2")
	case len(v) > 64:
		return constraint(field, v, "have length less than or equal to 64")
	case !sessionNameRE.MatchString(v):
		return constraint(field, v, `satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	return nil
}

// assumeRole issues a role session. The caller needs the role's trust
// policy to let it in and, unless that policy names it directly within
// its own account, its identity policies to allow sts:AssumeRole on the
// role [§4.6]: both are weighed in one evaluation by the Authorizer.
func (h *Handler) assumeRole(c *call) (any, error) {
	arn, sessionName := c.get("RoleArn"), c.get("RoleSessionName")
	if arn == "" {
		return nil, stsValidation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	}
	if sessionName == "" {
		return nil, stsValidation("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	if len(arn) < 20 || len(arn) > 2048 {
		return nil, constraint("roleArn", arn, "have length between 20 and 2048")
	}
	if err := checkSTSName("roleSessionName", sessionName); err != nil {
		return nil, err
	}
	ra, ok := parseRoleARN(arn)
	if !ok {
		return nil, stsValidation(arn + " is invalid")
	}
	if len(c.tags()) > 0 || len(c.list("TransitiveTagKeys")) > 0 {
		// Session tags are not built; dropping them silently would skip
		// the trust policy's sts:TagSession check and the tags' conditions.
		return nil, notImplemented("AssumeRole with session tags")
	}
	externalID := c.get("ExternalId")
	if externalID != "" && (len(externalID) < 2 || len(externalID) > 1224 || !externalIDRE.MatchString(externalID)) {
		return nil, constraint("externalId", externalID, `satisfy regular expression pattern: [\w+=,.@:\/-]*`)
	}
	sourceID := c.get("SourceIdentity")
	if sourceID != "" {
		if err := checkSTSName("sourceIdentity", sourceID); err != nil {
			return nil, err
		}
	}
	var inherited *authn.Session
	chained := c.caller.Type == authn.TypeAssumedRole
	if c.caller.Session != nil {
		inherited = c.caller.Session
		if inherited.SourceIdentity != "" {
			// A source identity, once set, follows every chained session
			// and cannot be changed [IAM-GKEYS aws:SourceIdentity].
			if sourceID != "" && sourceID != inherited.SourceIdentity {
				return nil, stsDenied("The source identity of the session cannot be changed.")
			}
			sourceID = inherited.SourceIdentity
		}
	}
	denied := AccessDenied(c.caller.ARN, "sts:AssumeRole", arn)

	role, err := h.IAM.GetRole(c.ctx, ra.account, ra.name)
	if errors.Is(err, iam.ErrNoSuchEntity) || (err == nil && role.Path != ra.path) {
		// Whether a role exists is not disclosed to those who cannot
		// assume it.
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	maxDur := role.MaxSessionDuration
	if maxDur == 0 {
		maxDur = defRoleSeconds
	}
	seconds, err := c.duration(defRoleSeconds, maxRoleSeconds)
	if err != nil {
		return nil, err
	}
	switch {
	case chained && seconds > chainedRoleSeconds:
		return nil, stsValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case seconds > maxDur:
		return nil, stsValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	policies, packed, err := h.sessionPolicies(c, ra.account)
	if err != nil {
		return nil, err
	}

	mfaNow, err := h.mfa(c)
	if err != nil {
		return nil, err
	}
	now := h.now()
	mfaPresent, mfaTime := mfaNow, now
	if !mfaNow && inherited != nil && inherited.MFA {
		mfaPresent, mfaTime = true, inherited.MFATime
	}

	cond := map[string][]string{}
	for k, v := range s3api.QueryConditions(c.ctx) {
		cond[k] = v
	}
	cond["sts:RoleSessionName"] = []string{sessionName}
	if externalID != "" {
		cond["sts:ExternalId"] = []string{externalID}
	}
	if sourceID != "" {
		cond["sts:SourceIdentity"] = []string{sourceID}
	}
	if mfaPresent {
		cond["aws:MultiFactorAuthPresent"] = []string{"true"}
		cond["aws:MultiFactorAuthAge"] = []string{strconv.FormatInt(int64(now.Sub(mfaTime)/time.Second), 10)}
	} else if inherited == nil {
		// Long-term keys have no MFA keys at all [§5.2].
		delete(cond, "aws:MultiFactorAuthPresent")
		delete(cond, "aws:MultiFactorAuthAge")
	}
	actions := []string{"sts:AssumeRole"}
	if c.get("SourceIdentity") != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	if h.Authorizer == nil {
		return nil, denied
	}
	d := h.Authorizer.Authorize(c.ctx, &authz.Request{
		Principal: c.caller, Actions: actions, Resource: role.ARN(ra.account), ResourceOwner: ra.account,
		Conditions: cond, TrustPolicy: []byte(role.AssumeRolePolicyDocument),
	})
	if !d.Allowed {
		return nil, denied
	}

	t := &session.Token{Account: ra.account, Kind: session.KindRole, RoleName: role.RoleName, RolePath: role.Path,
		RoleID: role.RoleID, SessionName: sessionName, Policies: policies, SourceIdentity: sourceID}
	if mfaPresent {
		t.MFA, t.MFATime = true, mfaTime.Unix()
	}
	creds, err := h.issue(t, now, seconds)
	if err != nil {
		return nil, err
	}
	r := assumeRoleResult{
		Credentials: creds,
		AssumedRoleUser: xAssumedRoleUser{AssumedRoleID: role.RoleID + ":" + sessionName,
			Arn: "arn:aws:sts::" + ra.account + ":assumed-role/" + role.RoleName + "/" + sessionName},
		SourceIdentity: sourceID,
	}
	if len(policies) > 0 {
		r.PackedPolicySize = &packed
	}
	return r, nil
}

// sessionPolicies reads Policy and PolicyArns.member.N.arn: the inline
// session policy (validated as one) and the managed policies of the
// role's account, returned as documents. packed is the percentage of the
// allowed size used, as PackedPolicySize reports it.
func (h *Handler) sessionPolicies(c *call, account string) (docs []string, packed int, err error) {
	size := 0
	if doc := c.get("Policy"); doc != "" {
		if len(doc) > maxSessionPolicyChars*4 {
			return nil, 0, constraint("policy", "...", "have length less than or equal to 2048")
		}
		if _, err := policy.Parse([]byte(doc), policy.Session); err != nil {
			var pe *policy.Error
			msg := "The policy is not in the valid JSON format."
			if errors.As(err, &pe) {
				msg = pe.Message
			}
			return nil, 0, &Error{Code: "MalformedPolicyDocument", Status: http.StatusBadRequest, Message: msg}
		}
		docs = append(docs, doc)
		size += policySize(doc)
	}
	for i := 1; ; i++ {
		arn, ok := c.form["PolicyArns.member."+strconv.Itoa(i)+".arn"]
		if !ok {
			break
		}
		if i > maxPolicyArns {
			return nil, 0, constraint("policyArns", "[...]", "have length less than or equal to 10")
		}
		p, err := h.IAM.GetPolicy(c.ctx, account, arn[0])
		if err != nil {
			var e *iam.Error
			if errors.As(err, &e) {
				return nil, 0, stsValidation("Policy " + arn[0] + " does not exist or is not attachable.")
			}
			return nil, 0, err
		}
		docs = append(docs, p.DefaultDocument())
		size += len(arn[0])
	}
	if size > maxSessionPolicyChars {
		return nil, 0, &Error{Code: "PackedPolicyTooLarge", Status: http.StatusBadRequest,
			Message: "Packed size of consumed provided policies exceeds 100%."}
	}
	return docs, size * 100 / maxSessionPolicyChars, nil
}

// policySize counts a document's characters outside white space, as the
// session policy quota does.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			n++
		}
	}
	return n
}
