package macie

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// Service is Macie for every account: the REST-JSON front door and the
// records behind it.
type Service struct {
	Store  Store
	Region string
	Now    func() time.Time
	Logger *slog.Logger
	// Managed lists the managed data identifiers (the detection
	// engine's); nil lists none.
	Managed func() []ManagedIdentifier
	// Jobs, if set, is told of every job created or resumed.
	Jobs interface{ Wake() }

	jobMu sync.Mutex
}

// ManagedIdentifier is one managed data identifier as
// ListManagedDataIdentifiers returns it.
type ManagedIdentifier struct {
	Category string `json:"category"`
	ID       string `json:"id"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) arn(account, kind, id string) string {
	return "arn:aws:macie2:" + s.Region + ":" + account + ":" + kind + "/" + id
}

// route is one operation: method, path pattern ({id} is one segment),
// whether it acts on a resource kind.
type route struct {
	method, pattern, op, kind string
}

var routes = []route{
	{"GET", "/macie", "GetMacieSession", ""},
	{"POST", "/macie", "EnableMacie", ""},
	{"DELETE", "/macie", "DisableMacie", ""},
	{"PATCH", "/macie", "UpdateMacieSession", ""},
	{"POST", "/custom-data-identifiers", "CreateCustomDataIdentifier", ""},
	{"POST", "/custom-data-identifiers/list", "ListCustomDataIdentifiers", ""},
	{"POST", "/custom-data-identifiers/test", "TestCustomDataIdentifier", ""},
	{"GET", "/custom-data-identifiers/{id}", "GetCustomDataIdentifier", "custom-data-identifier"},
	{"DELETE", "/custom-data-identifiers/{id}", "DeleteCustomDataIdentifier", "custom-data-identifier"},
	{"POST", "/allow-lists", "CreateAllowList", ""},
	{"GET", "/allow-lists", "ListAllowLists", ""},
	{"GET", "/allow-lists/{id}", "GetAllowList", "allow-list"},
	{"DELETE", "/allow-lists/{id}", "DeleteAllowList", "allow-list"},
	{"POST", "/jobs", "CreateClassificationJob", ""},
	{"POST", "/jobs/list", "ListClassificationJobs", ""},
	{"GET", "/jobs/{id}", "DescribeClassificationJob", "classification-job"},
	{"PATCH", "/jobs/{id}", "UpdateClassificationJob", "classification-job"},
	{"POST", "/findings", "ListFindings", ""},
	{"POST", "/findings/describe", "GetFindings", ""},
	{"POST", "/findings/statistics", "GetFindingStatistics", ""},
	{"POST", "/managed-data-identifiers/list", "ListManagedDataIdentifiers", ""},
	{"GET", "/automated-discovery/configuration", "GetAutomatedDiscoveryConfiguration", ""},
	{"PUT", "/automated-discovery/configuration", "UpdateAutomatedDiscoveryConfiguration", ""},
}

func match(pattern, path string) (id string, ok bool) {
	p, rest, found := strings.Cut(pattern, "{id}")
	if !found {
		return "", pattern == path
	}
	if rest != "" || !strings.HasPrefix(path, p) {
		return "", false
	}
	id = path[len(p):]
	if id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

func findRoute(method, path string) (route, string, bool) {
	path = strings.TrimSuffix(path, "/")
	for _, r := range routes {
		if r.method != method {
			continue
		}
		if id, ok := match(r.pattern, path); ok {
			return r, id, true
		}
	}
	return route{}, "", false
}

// API returns the front door the S3 pipeline serves.
func (s *Service) API() s3api.RESTService { return restAPI{s} }

type restAPI struct{ s *Service }

// Route implements s3api.RESTService: every call is authorized as
// macie2:<Operation>, on the resource's ARN when it names one.
func (a restAPI) Route(_ context.Context, method, path string, _ url.Values, caller *authn.Principal) (string, *s3api.QueryRequirement, error) {
	r, id, ok := findRoute(method, path)
	if !ok {
		return "", nil, &s3err.Error{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: "No operation matches " + method + " " + path + "."}
	}
	res := "*"
	if r.kind != "" {
		res = a.s.arn(caller.AccountID, r.kind, id)
	}
	return r.op, &s3api.QueryRequirement{Actions: []string{"macie2:" + r.op}, Resource: res}, nil
}

// Serve implements s3api.RESTService.
func (a restAPI) Serve(ctx context.Context, caller *authn.Principal, op, path string, q url.Values, body []byte, _ string) s3api.JSONResult {
	_, id, _ := findRoute(methodOf(op), path)
	out, err := a.s.serve(ctx, caller.AccountID, op, id, q, body)
	if err != nil {
		w := toWire(err)
		if w.code == "InternalServerException" && a.s.Logger != nil {
			a.s.Logger.Error("macie call failed", "op", op, "err", err)
		}
		b, _ := json.Marshal(map[string]string{"message": w.msg})
		return s3api.JSONResult{Status: w.status, Body: b, ErrorCode: w.code, Denied: w == errNotEnabled}
	}
	if out == nil {
		out = struct{}{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return s3api.JSONResult{Status: 500, Body: []byte(`{"message":"An internal error occurred."}`), ErrorCode: "InternalServerException"}
	}
	return s3api.JSONResult{Status: http.StatusOK, Body: b}
}

func methodOf(op string) string {
	for _, r := range routes {
		if r.op == op {
			return r.method
		}
	}
	return ""
}

func decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(string(body)))
	// Unknown members are refused: a filter or scope silently dropped
	// would make a job scan, or a listing show, more than asked.
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return validation("The request body is not valid: " + jsonProblem(err))
	}
	return nil
}

func jsonProblem(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return "member " + ute.Field + " has the wrong type."
	}
	if m := err.Error(); strings.HasPrefix(m, "json: unknown field ") {
		return "unknown member " + strings.TrimPrefix(m, "json: unknown field ") + "."
	}
	return "malformed JSON."
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Session returns the account's session (ENABLED unless disabled).
func (s *Service) Session(ctx context.Context, account string) (*Session, error) {
	ss, err := getJSON[Session](ctx, s.Store, account, KindSession, "")
	if errors.Is(err, ErrNotFound) {
		t := timestamp(time.Unix(0, 0))
		return &Session{CreatedAt: t, UpdatedAt: t, FindingPublishingFrequency: "FIFTEEN_MINUTES",
			ServiceRole: "arn:aws:iam::" + account + ":role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie",
			Status:      "ENABLED"}, nil
	}
	return ss, err
}

func (s *Service) serve(ctx context.Context, account, op, id string, q url.Values, body []byte) (any, error) {
	sess, err := s.Session(ctx, account)
	if err != nil {
		return nil, err
	}
	if op == "EnableMacie" {
		return s.enable(ctx, account, sess, body)
	}
	if sess.Status != "ENABLED" && op != "GetMacieSession" && op != "UpdateMacieSession" {
		return nil, errNotEnabled
	}
	switch op {
	case "GetMacieSession":
		if sess.Status == "DISABLED" {
			return nil, errNotEnabled
		}
		return sess, nil
	case "DisableMacie":
		return nil, s.disable(ctx, account)
	case "UpdateMacieSession":
		return nil, s.updateSession(ctx, account, sess, body)
	case "CreateCustomDataIdentifier":
		return s.createIdentifier(ctx, account, body)
	case "ListCustomDataIdentifiers":
		return s.listIdentifiers(ctx, account, body)
	case "TestCustomDataIdentifier":
		return s.testIdentifier(ctx, body)
	case "GetCustomDataIdentifier":
		c, err := s.identifier(ctx, account, id)
		if err != nil {
			return nil, err
		}
		return c, nil
	case "DeleteCustomDataIdentifier":
		if _, err := s.identifier(ctx, account, id); err != nil {
			return nil, err
		}
		return nil, s.Store.Delete(ctx, account, KindIdentifier, id)
	case "CreateAllowList":
		return s.createAllowList(ctx, account, body)
	case "ListAllowLists":
		return s.listAllowLists(ctx, account, q)
	case "GetAllowList":
		l, err := s.allowList(ctx, account, id)
		if err != nil {
			return nil, err
		}
		return &l.AllowList, nil
	case "DeleteAllowList":
		if _, err := s.allowList(ctx, account, id); err != nil {
			return nil, err
		}
		return nil, s.Store.Delete(ctx, account, KindAllowList, id)
	case "CreateClassificationJob":
		return s.createJob(ctx, account, body)
	case "ListClassificationJobs":
		return s.listJobs(ctx, account, body)
	case "DescribeClassificationJob":
		return s.describeJob(ctx, account, id)
	case "UpdateClassificationJob":
		return nil, s.updateJob(ctx, account, id, body)
	case "ListFindings":
		return s.listFindings(ctx, account, body)
	case "GetFindings":
		return s.getFindings(ctx, account, body)
	case "GetFindingStatistics":
		return s.findingStatistics(ctx, account, body)
	case "GetAutomatedDiscoveryConfiguration":
		return s.automatedConfig(ctx, account)
	case "UpdateAutomatedDiscoveryConfiguration":
		return nil, s.updateAutomated(ctx, account, body)
	case "ListManagedDataIdentifiers":
		var in struct {
			NextToken string `json:"nextToken"`
		}
		if err := decode(body, &in); err != nil {
			return nil, err
		}
		items := []ManagedIdentifier{}
		if s.Managed != nil {
			items = append(items, s.Managed()...)
		}
		return map[string]any{"items": items}, nil
	}
	return nil, validation("Unsupported operation.")
}

func (s *Service) enable(ctx context.Context, account string, sess *Session, body []byte) (any, error) {
	var in struct {
		ClientToken                string `json:"clientToken"`
		FindingPublishingFrequency string `json:"findingPublishingFrequency"`
		Status                     string `json:"status"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if sess.Status != "DISABLED" {
		return nil, conflict("Macie is already enabled for this account.")
	}
	t := timestamp(s.now())
	sess.CreatedAt, sess.UpdatedAt, sess.Status = t, t, "ENABLED"
	if in.Status == "PAUSED" {
		sess.Status = "PAUSED"
	}
	if in.FindingPublishingFrequency != "" {
		if !validFrequency(in.FindingPublishingFrequency) {
			return nil, validation("findingPublishingFrequency must be FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS.")
		}
		sess.FindingPublishingFrequency = in.FindingPublishingFrequency
	}
	return nil, putJSON(ctx, s.Store, account, KindSession, "", sess)
}

func validFrequency(f string) bool {
	return f == "FIFTEEN_MINUTES" || f == "ONE_HOUR" || f == "SIX_HOURS"
}

// disable deletes the account's Macie data, as DisableMacie does, and
// marks the session DISABLED.
func (s *Service) disable(ctx context.Context, account string) error {
	for _, k := range []Kind{KindIdentifier, KindAllowList, KindJob, KindFinding, KindScan} {
		var ids []string
		if err := s.Store.List(ctx, account, k, "", func(id string, _ []byte) bool { ids = append(ids, id); return true }); err != nil {
			return err
		}
		for _, id := range ids {
			if err := s.Store.Delete(ctx, account, k, id); err != nil {
				return err
			}
		}
	}
	if err := s.Store.Delete(ctx, account, KindSession, autoID); err != nil {
		return err
	}
	t := timestamp(s.now())
	return putJSON(ctx, s.Store, account, KindSession, "", &Session{CreatedAt: t, UpdatedAt: t, Status: "DISABLED", FindingPublishingFrequency: "FIFTEEN_MINUTES"})
}

func (s *Service) updateSession(ctx context.Context, account string, sess *Session, body []byte) error {
	var in struct {
		FindingPublishingFrequency string `json:"findingPublishingFrequency"`
		Status                     string `json:"status"`
	}
	if err := decode(body, &in); err != nil {
		return err
	}
	if sess.Status == "DISABLED" {
		return errNotEnabled
	}
	if in.Status != "" {
		if in.Status != "ENABLED" && in.Status != "PAUSED" {
			return validation("status must be ENABLED or PAUSED.")
		}
		sess.Status = in.Status
	}
	if in.FindingPublishingFrequency != "" {
		if !validFrequency(in.FindingPublishingFrequency) {
			return validation("findingPublishingFrequency must be FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS.")
		}
		sess.FindingPublishingFrequency = in.FindingPublishingFrequency
	}
	sess.UpdatedAt = timestamp(s.now())
	return putJSON(ctx, s.Store, account, KindSession, "", sess)
}

// Limits from Macie's quotas.
const (
	maxRegexLen    = 512
	maxKeywords    = 50
	maxIgnoreWords = 10
	maxMatchDist   = 300
	maxAllowWords  = 100000
)

func (s *Service) createIdentifier(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		ClientToken          string            `json:"clientToken"`
		Description          string            `json:"description"`
		IgnoreWords          []string          `json:"ignoreWords"`
		Keywords             []string          `json:"keywords"`
		MaximumMatchDistance *int              `json:"maximumMatchDistance"`
		Name                 string            `json:"name"`
		Regex                string            `json:"regex"`
		SeverityLevels       []SeverityLevel   `json:"severityLevels"`
		Tags                 map[string]string `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	switch {
	case in.Name == "" || len(in.Name) > 128:
		return nil, validation("name must be 1 to 128 characters.")
	case in.Regex == "" || len(in.Regex) > maxRegexLen:
		return nil, validation("regex must be 1 to 512 characters.")
	case len(in.Keywords) > maxKeywords:
		return nil, validation("keywords can hold at most 50 entries.")
	case len(in.IgnoreWords) > maxIgnoreWords:
		return nil, validation("ignoreWords can hold at most 10 entries.")
	}
	if _, err := regexp.Compile(in.Regex); err != nil {
		return nil, validation("regex is not a valid regular expression.")
	}
	for _, w := range append(append([]string{}, in.Keywords...), in.IgnoreWords...) {
		if len(w) < 3 || len(w) > 90 {
			return nil, validation("Each keyword and ignore word must be 3 to 90 characters.")
		}
	}
	dist := 50
	if in.MaximumMatchDistance != nil {
		dist = *in.MaximumMatchDistance
		if dist < 1 || dist > maxMatchDist {
			return nil, validation("maximumMatchDistance must be 1 to 300.")
		}
	}
	levels := in.SeverityLevels
	if len(levels) == 0 {
		levels = []SeverityLevel{{1, "LOW"}, {50, "MEDIUM"}, {100, "HIGH"}}
	}
	seen := map[string]bool{}
	for _, l := range levels {
		if l.OccurrencesThreshold < 1 || severityScore[titleCase(l.Severity)] == 0 || seen[l.Severity] {
			return nil, validation("severityLevels need distinct severities (LOW, MEDIUM, HIGH) and thresholds of at least 1.")
		}
		seen[l.Severity] = true
	}
	sort.Slice(levels, func(i, j int) bool { return levels[i].OccurrencesThreshold < levels[j].OccurrencesThreshold })
	if err := s.uniqueName(ctx, account, KindIdentifier, in.Name); err != nil {
		return nil, err
	}
	id := newID()
	c := &CustomDataIdentifier{Arn: s.arn(account, "custom-data-identifier", id), CreatedAt: timestamp(s.now()),
		Description: in.Description, ID: id, IgnoreWords: in.IgnoreWords, Keywords: in.Keywords,
		MaximumMatchDistance: dist, Name: in.Name, Regex: in.Regex, SeverityLevels: levels, Tags: in.Tags}
	if err := putJSON(ctx, s.Store, account, KindIdentifier, id, c); err != nil {
		return nil, err
	}
	return map[string]string{"customDataIdentifierId": id}, nil
}

// uniqueName refuses a second identifier or allow list of one name.
func (s *Service) uniqueName(ctx context.Context, account string, kind Kind, name string) error {
	dup := false
	err := s.Store.List(ctx, account, kind, "", func(_ string, b []byte) bool {
		var v struct{ Name string }
		if json.Unmarshal(b, &v) == nil && v.Name == name {
			dup = true
		}
		return !dup
	})
	if err != nil {
		return err
	}
	if dup {
		return conflict("A resource named " + name + " already exists.")
	}
	return nil
}

func (s *Service) identifier(ctx context.Context, account, id string) (*CustomDataIdentifier, error) {
	c, err := getJSON[CustomDataIdentifier](ctx, s.Store, account, KindIdentifier, id)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("The custom data identifier " + id + " does not exist.")
	}
	return c, err
}

// page cuts a listing at maxResults from nextToken (an index).
func page[T any](items []T, maxResults int, token string, limit int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", validation("nextToken is not valid.")
		}
		start = n
	}
	if maxResults <= 0 || maxResults > limit {
		maxResults = limit
	}
	end := min(start+maxResults, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (s *Service) listIdentifiers(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	all, err := listJSON[CustomDataIdentifier](ctx, s.Store, account, KindIdentifier)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	items, next, err := page(all, in.MaxResults, in.NextToken, 500)
	if err != nil {
		return nil, err
	}
	type summary struct {
		Arn         string `json:"arn"`
		CreatedAt   string `json:"createdAt"`
		Description string `json:"description,omitempty"`
		ID          string `json:"id"`
		Name        string `json:"name"`
	}
	out := []summary{}
	for _, c := range items {
		out = append(out, summary{c.Arn, c.CreatedAt, c.Description, c.ID, c.Name})
	}
	return map[string]any{"items": out, "nextToken": nullable(next)}, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Service) createAllowList(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		ClientToken string            `json:"clientToken"`
		Criteria    AllowListCriteria `json:"criteria"`
		Description string            `json:"description"`
		Name        string            `json:"name"`
		Tags        map[string]string `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.Name == "" || len(in.Name) > 128 {
		return nil, validation("name must be 1 to 128 characters.")
	}
	c := in.Criteria
	if (c.Regex == "") == (c.S3WordsList == nil) {
		return nil, validation("criteria needs exactly one of regex or s3WordsList.")
	}
	status := AllowListStatus{Code: "OK"}
	if c.Regex != "" {
		if len(c.Regex) > maxRegexLen {
			return nil, validation("regex must be 1 to 512 characters.")
		}
		if _, err := regexp.Compile(c.Regex); err != nil {
			return nil, validation("regex is not a valid regular expression.")
		}
	} else if c.S3WordsList.BucketName == "" || c.S3WordsList.ObjectKey == "" {
		return nil, validation("s3WordsList needs bucketName and objectKey.")
	}
	if err := s.uniqueName(ctx, account, KindAllowList, in.Name); err != nil {
		return nil, err
	}
	id := newID()
	t := timestamp(s.now())
	l := &storedAllowList{AllowList: AllowList{Arn: s.arn(account, "allow-list", id), CreatedAt: t, Criteria: c,
		Description: in.Description, ID: id, Name: in.Name, Status: status, Tags: in.Tags, UpdatedAt: t}}
	if err := putJSON(ctx, s.Store, account, KindAllowList, id, l); err != nil {
		return nil, err
	}
	return map[string]string{"arn": l.Arn, "id": id}, nil
}

func (s *Service) allowList(ctx context.Context, account, id string) (*storedAllowList, error) {
	l, err := getJSON[storedAllowList](ctx, s.Store, account, KindAllowList, id)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("The allow list " + id + " does not exist.")
	}
	return l, err
}

func (s *Service) listAllowLists(ctx context.Context, account string, q url.Values) (any, error) {
	all, err := listJSON[storedAllowList](ctx, s.Store, account, KindAllowList)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	max, _ := strconv.Atoi(q.Get("maxResults"))
	items, next, err := page(all, max, q.Get("nextToken"), 1000)
	if err != nil {
		return nil, err
	}
	type summary struct {
		Arn         string `json:"arn"`
		CreatedAt   string `json:"createdAt"`
		Description string `json:"description,omitempty"`
		ID          string `json:"id"`
		Name        string `json:"name"`
		UpdatedAt   string `json:"updatedAt"`
	}
	out := []summary{}
	for _, l := range items {
		out = append(out, summary{l.Arn, l.CreatedAt, l.Description, l.ID, l.Name, l.UpdatedAt})
	}
	return map[string]any{"allowLists": out, "nextToken": nullable(next)}, nil
}
