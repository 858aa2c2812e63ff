package iamapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/iam"
)

// Service last accessed data (GenerateServiceLastAccessedDetails,
// GetServiceLastAccessedDetails): for an IAM user or role, each service
// its policies allow and when it last used it, from the server's record
// of allowed requests. A job completes when it is generated; jobs are
// kept in memory, the latest maxJobs of them.

// AccessHistory reports who used which action when.
type AccessHistory interface {
	// Activity returns the latest use of each action by each user
	// (its ARN) and role (role/NAME) of the account.
	Activity(ctx context.Context, account string) ([]analyze.Activity, error)
	// Region is the region requests are served in.
	Region() string
}

const maxJobs = 1000

// serviceNames are the services' display names, as IAM reports them.
var serviceNames = map[string]string{
	"s3":  "Amazon S3",
	"iam": "AWS Identity and Access Management",
	"sts": "AWS Security Token Service",
	"kms": "AWS Key Management Service",
}

// trackedServices report action-level data (ACTION_LEVEL), as IAM does
// for S3 and IAM.
var trackedServices = map[string]bool{"s3": true, "iam": true}

type xTrackedAction struct {
	ActionName         string `xml:"ActionName"`
	LastAccessedEntity string `xml:"LastAccessedEntity,omitempty"`
	LastAccessedRegion string `xml:"LastAccessedRegion,omitempty"`
	LastAccessedTime   string `xml:"LastAccessedTime,omitempty"`
}

type xServiceLastAccessed struct {
	ServiceName                string                   `xml:"ServiceName"`
	LastAuthenticated          string                   `xml:"LastAuthenticated,omitempty"`
	ServiceNamespace           string                   `xml:"ServiceNamespace"`
	LastAuthenticatedEntity    string                   `xml:"LastAuthenticatedEntity,omitempty"`
	LastAuthenticatedRegion    string                   `xml:"LastAuthenticatedRegion,omitempty"`
	TotalAuthenticatedEntities int                      `xml:"TotalAuthenticatedEntities"`
	TrackedActionsLastAccessed *members[xTrackedAction] `xml:"TrackedActionsLastAccessed,omitempty"`
}

type lastAccessedJob struct {
	account   string
	jobType   string
	created   time.Time
	completed time.Time
	services  []xServiceLastAccessed
}

// lastAccessedJobs holds the generated jobs (the zero value is ready).
type lastAccessedJobs struct {
	mu    sync.Mutex
	byID  map[string]*lastAccessedJob
	order []string
}

func (j *lastAccessedJobs) put(job *lastAccessedJob) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.byID == nil {
		j.byID = map[string]*lastAccessedJob{}
	}
	j.byID[id] = job
	j.order = append(j.order, id)
	if len(j.order) > maxJobs {
		delete(j.byID, j.order[0])
		j.order = j.order[1:]
	}
	return id
}

func (j *lastAccessedJobs) get(id string) *lastAccessedJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.byID[id]
}

func invalidGranularity(v string) *Error {
	return &Error{Code: "ValidationError", Status: http.StatusBadRequest,
		Message: "1 validation error detected: Value '" + v + "' at 'granularity' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]"}
}

type generateLastAccessedResult struct {
	JobID string `xml:"JobId"`
}

func (h *Handler) generateServiceLastAccessedDetails(c *call) (any, error) {
	arn := c.get("Arn")
	if arn == "" {
		return nil, &Error{Code: "ValidationError", Status: http.StatusBadRequest,
			Message: "1 validation error detected: Value null at 'arn' failed to satisfy constraint: Member must not be null"}
	}
	gran := c.get("Granularity")
	switch gran {
	case "":
		gran = "SERVICE_LEVEL"
	case "SERVICE_LEVEL", "ACTION_LEVEL":
	default:
		return nil, invalidGranularity(gran)
	}
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+c.account+":")
	if !ok {
		return nil, &Error{Code: "InvalidInput", Status: http.StatusBadRequest, Message: "ARN " + arn + " is not valid."}
	}
	kind, path, _ := strings.Cut(rest, "/")
	name := path[strings.LastIndexByte(path, '/')+1:]
	var pols [][]byte
	var key string
	switch kind {
	case "user":
		u, err := h.IAM.GetUser(c.ctx, c.account, name)
		if err != nil {
			return nil, err
		}
		if u.ARN(c.account) != arn {
			return nil, iam.Errorf(iam.ErrNoSuchEntity, "The user with name %s cannot be found.", name)
		}
		if pols, _, err = h.IAM.PrincipalPolicies(c.ctx, c.account, name); err != nil {
			return nil, err
		}
		key = arn
	case "role":
		r, err := h.IAM.GetRole(c.ctx, c.account, name)
		if err != nil {
			return nil, err
		}
		if r.ARN(c.account) != arn {
			return nil, iam.Errorf(iam.ErrNoSuchEntity, "The role with name %s cannot be found.", name)
		}
		if pols, _, err = h.IAM.RolePolicies(c.ctx, c.account, name); err != nil {
			return nil, err
		}
		key = "role/" + name
	case "group", "policy":
		return nil, &Error{Code: "NotImplemented", Status: http.StatusNotImplemented,
			Message: "Service last accessed details of groups and policies are not implemented by this server."}
	default:
		return nil, &Error{Code: "InvalidInput", Status: http.StatusBadRequest, Message: "ARN " + arn + " is not valid."}
	}
	var activity []analyze.Activity
	region := ""
	if h.AccessHistory != nil {
		var err error
		if activity, err = h.AccessHistory.Activity(c.ctx, c.account); err != nil {
			return nil, err
		}
		region = h.AccessHistory.Region()
	}
	now := h.now().UTC()
	job := &lastAccessedJob{account: c.account, jobType: gran, created: now, completed: now,
		services: servicesLastAccessed(analyze.Grants(pols), activity, key, arn, region, gran == "ACTION_LEVEL")}
	return generateLastAccessedResult{JobID: h.lastAccessed.put(job)}, nil
}

// servicesLastAccessed lists each service the grants allow with the
// entity's latest use of it.
func servicesLastAccessed(grants []analyze.Grant, activity []analyze.Activity, key, arn, region string, actions bool) []xServiceLastAccessed {
	patterns := map[string][]string{}
	for _, g := range grants {
		if g.Service == "*" {
			for svc := range serviceNames {
				patterns[svc] = append(patterns[svc], svc+":*")
			}
			continue
		}
		patterns[g.Service] = append(patterns[g.Service], g.Patterns...)
	}
	lastAction := map[string]use{} // "s3:getobject" → last use
	for _, a := range activity {
		if a.Principal == key {
			if k := strings.ToLower(a.Action); a.Time.After(lastAction[k].t) {
				lastAction[k] = use{a.Action, a.Time}
			}
		}
	}
	var out []xServiceLastAccessed
	for svc, ps := range patterns {
		s := xServiceLastAccessed{ServiceName: serviceNames[svc], ServiceNamespace: svc}
		if s.ServiceName == "" {
			s.ServiceName = svc
		}
		var last time.Time
		for a, u := range lastAction {
			if strings.HasPrefix(a, svc+":") && u.t.After(last) {
				last = u.t
			}
		}
		if !last.IsZero() {
			s.LastAuthenticated, s.LastAuthenticatedEntity, s.LastAuthenticatedRegion = isoDate(last), arn, region
			s.TotalAuthenticatedEntities = 1
		}
		if actions && trackedServices[svc] {
			s.TrackedActionsLastAccessed = trackedActions(svc, ps, lastAction, arn, region)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ServiceNamespace < out[j].ServiceNamespace })
	return out
}

// use is an action as a request named it and its latest use.
type use struct {
	action string
	t      time.Time
}

// trackedActions lists the actions named by the grants and those used
// that the grants' wildcards cover, with their latest use.
func trackedActions(svc string, patterns []string, lastAction map[string]use, arn, region string) *members[xTrackedAction] {
	names := map[string]string{} // lower case → as written
	for _, p := range patterns {
		if !strings.ContainsAny(p, "*?") {
			names[strings.ToLower(p)] = p
		}
	}
	for a, u := range lastAction {
		if _, ok := names[a]; ok || !strings.HasPrefix(a, svc+":") {
			continue
		}
		for _, p := range patterns {
			if wildcardMatch(strings.ToLower(p), a) {
				names[a] = u.action
				break
			}
		}
	}
	var out members[xTrackedAction]
	for lower, written := range names {
		_, action, _ := strings.Cut(written, ":")
		ta := xTrackedAction{ActionName: action}
		if u, ok := lastAction[lower]; ok {
			ta.LastAccessedTime, ta.LastAccessedEntity, ta.LastAccessedRegion = isoDate(u.t), arn, region
		}
		out = append(out, ta)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ActionName < out[j].ActionName })
	return &out
}

// wildcardMatch matches IAM action patterns (* and ?).
func wildcardMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcardMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			p, s = p[1:], s[1:]
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
			p, s = p[1:], s[1:]
		}
	}
	return s == ""
}

type getLastAccessedResult struct {
	JobStatus            string                        `xml:"JobStatus"`
	JobType              string                        `xml:"JobType"`
	JobCreationDate      string                        `xml:"JobCreationDate"`
	ServicesLastAccessed members[xServiceLastAccessed] `xml:"ServicesLastAccessed"`
	JobCompletionDate    string                        `xml:"JobCompletionDate"`
	page
}

func (h *Handler) getServiceLastAccessedDetails(c *call) (any, error) {
	id := c.get("JobId")
	job := h.lastAccessed.get(id)
	if job == nil || job.account != c.account {
		return nil, &Error{Code: "NoSuchEntity", Status: http.StatusNotFound, Message: "The job with ID " + id + " was not found."}
	}
	max, err := c.int("MaxItems", "maxItems")
	if err != nil {
		return nil, err
	}
	if max <= 0 || max > 1000 {
		max = 100
	}
	start := 0
	if m := c.get("Marker"); m != "" {
		if start, err = strconv.Atoi(m); err != nil || start < 0 || start > len(job.services) {
			return nil, &Error{Code: "InvalidInput", Status: http.StatusBadRequest, Message: "Invalid Marker."}
		}
	}
	end := min(start+max, len(job.services))
	r := getLastAccessedResult{JobStatus: "COMPLETED", JobType: job.jobType, JobCreationDate: isoDate(job.created),
		ServicesLastAccessed: job.services[start:end], JobCompletionDate: isoDate(job.completed)}
	if end < len(job.services) {
		r.page = page{IsTruncated: true, Marker: strconv.Itoa(end)}
	}
	return r, nil
}
