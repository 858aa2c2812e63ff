// Package cloudtrailapi is the CloudTrail JSON 1.1 front door: trails
// (CreateTrail, DescribeTrails, GetTrail, GetTrailStatus, ListTrails,
// StartLogging, StopLogging, DeleteTrail, Put/GetEventSelectors),
// ListPublicKeys for digest validation, and LookupEvents over the event
// history. The pipeline authenticates and authorizes every call
// (cloudtrail:<Operation> on the trail's ARN, or "*").
package cloudtrailapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/trail"
)

// TargetPrefix is the X-Amz-Target prefix of CloudTrail operations.
const TargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."

// Handler serves the CloudTrail API.
type Handler struct {
	Trails *trail.Service
	Logger *slog.Logger
	Now    func() time.Time
}

// API returns the JSON service the S3 pipeline routes "cloudtrail" calls to.
func (h *Handler) API() s3api.JSONService { return api{h} }

type api struct{ h *Handler }

func (api) TargetPrefix() string { return TargetPrefix }

// trailOps name their trail in the body (Name or TrailName) and are
// authorized on its ARN.
var trailOps = map[string]bool{
	"CreateTrail": true, "GetTrail": true, "GetTrailStatus": true, "StartLogging": true, "StopLogging": true,
	"DeleteTrail": true, "PutEventSelectors": true, "GetEventSelectors": true,
}

var accountOps = map[string]bool{
	"DescribeTrails": true, "ListTrails": true, "ListPublicKeys": true, "LookupEvents": true,
}

func (a api) Requirement(_ context.Context, op string, body []byte, caller *authn.Principal) (*s3api.QueryRequirement, error) {
	switch {
	case trailOps[op]:
		var in struct{ Name, TrailName string }
		_ = json.Unmarshal(body, &in)
		name := in.Name
		if name == "" {
			name = in.TrailName
		}
		res := name
		if !strings.HasPrefix(name, "arn:") {
			res = "arn:aws:cloudtrail:" + a.h.Trails.Region() + ":" + caller.AccountID + ":trail/" + name
		}
		return &s3api.QueryRequirement{Actions: []string{"cloudtrail:" + op}, Resource: res}, nil
	case accountOps[op]:
		return &s3api.QueryRequirement{Actions: []string{"cloudtrail:" + op}, Resource: "*"}, nil
	}
	return nil, &s3err.Error{Code: "UnknownOperationException", Status: http.StatusBadRequest, Message: "Unknown operation " + op}
}

func (a api) Serve(ctx context.Context, caller *authn.Principal, op string, body []byte, requestID string) s3api.JSONResult {
	return a.h.serve(ctx, caller, op, body, requestID)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func (h *Handler) serve(ctx context.Context, caller *authn.Principal, op string, body []byte, requestID string) s3api.JSONResult {
	acct := caller.AccountID
	var out any
	var err error
	var resource string
	switch op {
	case "CreateTrail":
		out, resource, err = h.createTrail(ctx, acct, body)
	case "DescribeTrails":
		out, err = h.describeTrails(acct, body)
	case "ListTrails":
		out = h.listTrails(acct)
	case "GetTrail":
		var in struct{ Name string }
		if err = decode(body, &in); err == nil {
			var t *trail.Trail
			if t, err = h.Trails.Get(acct, in.Name); err == nil {
				out, resource = map[string]any{"Trail": trailJSON(t)}, t.ARN()
			}
		}
	case "GetTrailStatus":
		out, resource, err = h.trailStatus(acct, body)
	case "StartLogging", "StopLogging", "DeleteTrail":
		var in struct{ Name string }
		if err = decode(body, &in); err == nil {
			if in.Name == "" {
				err = &trail.Error{Code: "InvalidTrailNameException", Message: "Trail name cannot be empty."}
				break
			}
			switch op {
			case "StartLogging":
				err = h.Trails.StartLogging(ctx, acct, in.Name)
			case "StopLogging":
				err = h.Trails.StopLogging(ctx, acct, in.Name)
			default:
				err = h.Trails.Delete(ctx, acct, in.Name)
			}
			out = struct{}{}
		}
	case "PutEventSelectors":
		var in struct {
			TrailName      string
			EventSelectors []trail.EventSelector
		}
		if err = decode(body, &in); err == nil {
			var t *trail.Trail
			if t, err = h.Trails.PutEventSelectors(acct, in.TrailName, in.EventSelectors); err == nil {
				out, resource = map[string]any{"TrailARN": t.ARN(), "EventSelectors": t.EventSelectors}, t.ARN()
			}
		}
	case "GetEventSelectors":
		var in struct{ TrailName string }
		if err = decode(body, &in); err == nil {
			var t *trail.Trail
			if t, err = h.Trails.Get(acct, in.TrailName); err == nil {
				out, resource = map[string]any{"TrailARN": t.ARN(), "EventSelectors": t.EventSelectors}, t.ARN()
			}
		}
	case "ListPublicKeys":
		out, err = h.listPublicKeys(body)
	case "LookupEvents":
		out, err = h.lookupEvents(acct, body)
	default:
		err = &trail.Error{Code: "UnknownOperationException", Message: "Unknown operation " + op}
	}
	if err != nil {
		var te *trail.Error
		if !errors.As(err, &te) {
			h.log().Error("CloudTrail request failed", "request_id", requestID, "op", op, "err", err)
			te = &trail.Error{Code: "InternalFailure", Message: "An internal error occurred."}
			return s3api.JSONResult{Status: http.StatusInternalServerError, Body: errorBody(te), ErrorCode: te.Code, Resource: resource}
		}
		return s3api.JSONResult{Status: http.StatusBadRequest, Body: errorBody(te), ErrorCode: te.Code, Resource: resource}
	}
	b, err := json.Marshal(out)
	if err != nil {
		te := &trail.Error{Code: "InternalFailure", Message: "An internal error occurred."}
		return s3api.JSONResult{Status: http.StatusInternalServerError, Body: errorBody(te), ErrorCode: te.Code}
	}
	return s3api.JSONResult{Status: http.StatusOK, Body: b, Resource: resource}
}

func errorBody(e *trail.Error) []byte {
	b, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	return b
}

// decode reads a request body strictly: unknown members are refused
// rather than ignored.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		body = []byte("{}")
	}
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return &trail.Error{Code: "InvalidParameterException", Message: "The request is not valid: " + jsonProblem(err)}
	}
	return nil
}

func jsonProblem(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return "member " + ute.Field + " has the wrong type"
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown member " + s
	}
	return "malformed JSON"
}

func trailJSON(t *trail.Trail) map[string]any {
	m := map[string]any{
		"Name": t.Name, "S3BucketName": t.S3BucketName, "IncludeGlobalServiceEvents": t.IncludeGlobalServiceEvents,
		"IsMultiRegionTrail": t.IsMultiRegionTrail, "HomeRegion": t.HomeRegion, "TrailARN": t.ARN(),
		"LogFileValidationEnabled": t.LogFileValidationEnabled, "HasCustomEventSelectors": customSelectors(t),
		"HasInsightSelectors": false, "IsOrganizationTrail": false,
	}
	if t.S3KeyPrefix != "" {
		m["S3KeyPrefix"] = t.S3KeyPrefix
	}
	return m
}

func customSelectors(t *trail.Trail) bool {
	return len(t.EventSelectors) != 1 || t.EventSelectors[0].ReadWriteType != "All" ||
		!t.EventSelectors[0].IncludeManagementEvents || len(t.EventSelectors[0].DataResources) > 0
}

func (h *Handler) createTrail(ctx context.Context, acct string, body []byte) (any, string, error) {
	var in struct {
		Name                       string
		S3BucketName               string
		S3KeyPrefix                string
		IncludeGlobalServiceEvents *bool
		IsMultiRegionTrail         bool
		EnableLogFileValidation    bool
		IsOrganizationTrail        bool
		TagsList                   []struct{ Key, Value string }
	}
	if err := decode(body, &in); err != nil {
		return nil, "", err
	}
	if in.IsOrganizationTrail {
		return nil, "", &trail.Error{Code: "OrganizationsNotInUseException", Message: "This account is not part of an organization."}
	}
	t, err := h.Trails.Create(ctx, acct, trail.CreateInput{Name: in.Name, S3BucketName: in.S3BucketName, S3KeyPrefix: in.S3KeyPrefix,
		IncludeGlobalServiceEvents: in.IncludeGlobalServiceEvents, IsMultiRegionTrail: in.IsMultiRegionTrail, EnableLogFileValidation: in.EnableLogFileValidation})
	if err != nil {
		return nil, "", err
	}
	m := trailJSON(t)
	delete(m, "HomeRegion")
	delete(m, "HasCustomEventSelectors")
	delete(m, "HasInsightSelectors")
	return m, t.ARN(), nil
}

func (h *Handler) describeTrails(acct string, body []byte) (any, error) {
	var in struct {
		TrailNameList       []string `json:"trailNameList"`
		IncludeShadowTrails *bool    `json:"includeShadowTrails"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, t := range h.Trails.List(acct) {
		if len(in.TrailNameList) > 0 && !named(in.TrailNameList, t) {
			continue
		}
		list = append(list, trailJSON(t))
	}
	return map[string]any{"trailList": list}, nil
}

func named(names []string, t *trail.Trail) bool {
	for _, n := range names {
		if n == t.Name || n == t.ARN() {
			return true
		}
	}
	return false
}

func (h *Handler) listTrails(acct string) any {
	list := []map[string]string{}
	for _, t := range h.Trails.List(acct) {
		list = append(list, map[string]string{"TrailARN": t.ARN(), "Name": t.Name, "HomeRegion": t.HomeRegion})
	}
	return map[string]any{"Trails": list}
}

// epoch is a JSON-protocol timestamp: seconds since the epoch.
func epoch(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixMilli()) / 1000
}

func (h *Handler) trailStatus(acct string, body []byte) (any, string, error) {
	var in struct{ Name string }
	if err := decode(body, &in); err != nil {
		return nil, "", err
	}
	t, err := h.Trails.Get(acct, in.Name)
	if err != nil {
		return nil, "", err
	}
	m := map[string]any{"IsLogging": t.IsLogging}
	set := func(k string, v time.Time) {
		if !v.IsZero() {
			m[k] = epoch(v)
		}
	}
	str := func(k string, v time.Time) {
		if !v.IsZero() {
			m[k] = v.UTC().Format("2006-01-02T15:04:05Z")
		}
	}
	set("LatestDeliveryTime", t.LatestDeliveryTime)
	set("StartLoggingTime", t.StartLoggingTime)
	set("StopLoggingTime", t.StopLoggingTime)
	set("LatestDigestDeliveryTime", t.LatestDigestDeliveryTime)
	str("LatestDeliveryAttemptTime", t.LatestDeliveryAttemptTime)
	str("LatestDeliveryAttemptSucceeded", t.LatestDeliveryTime)
	str("TimeLoggingStarted", t.StartLoggingTime)
	str("TimeLoggingStopped", t.StopLoggingTime)
	if t.LatestDeliveryError != "" {
		m["LatestDeliveryError"] = t.LatestDeliveryError
	}
	if t.LatestDigestDeliveryError != "" {
		m["LatestDigestDeliveryError"] = t.LatestDigestDeliveryError
	}
	return m, t.ARN(), nil
}

// timeArg reads a JSON-protocol timestamp (epoch seconds; ISO 8601 is
// accepted too).
type timeArg struct{ time.Time }

func (t *timeArg) UnmarshalJSON(b []byte) error {
	if s, err := strconv.Unquote(string(b)); err == nil {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return err
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("bad timestamp")
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

func (h *Handler) listPublicKeys(body []byte) (any, error) {
	var in struct {
		StartTime, EndTime *timeArg
		NextToken          string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var start, end time.Time
	if in.StartTime != nil {
		start = in.StartTime.Time
	}
	if in.EndTime != nil {
		end = in.EndTime.Time
	}
	// The signing key for now exists before anyone asks for it.
	if _, err := h.Trails.Keys().Current(h.now()); err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, k := range h.Trails.Keys().Public(start, end) {
		// Value is a blob: the PKCS#1 DER key, base64 on the wire.
		list = append(list, map[string]any{
			"Value":             base64.StdEncoding.EncodeToString(k.DER),
			"ValidityStartTime": epoch(k.Start), "ValidityEndTime": epoch(k.End), "Fingerprint": k.Fingerprint,
		})
	}
	return map[string]any{"PublicKeyList": list}, nil
}

func (h *Handler) lookupEvents(acct string, body []byte) (any, error) {
	var in struct {
		LookupAttributes []struct{ AttributeKey, AttributeValue string }
		StartTime        *timeArg
		EndTime          *timeArg
		EventCategory    string
		MaxResults       int
		NextToken        string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.LookupAttributes) > 1 {
		return nil, &trail.Error{Code: "InvalidLookupAttributesException", Message: "You cannot specify more than one lookup attribute."}
	}
	if in.MaxResults < 0 || in.MaxResults > 50 {
		return nil, &trail.Error{Code: "InvalidMaxResultsException", Message: "MaxResults must be between 1 and 50."}
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		return nil, &trail.Error{Code: "InvalidEventCategoryException", Message: "Event category is not valid."}
	}
	q := trail.LookupQuery{Account: acct, MaxResults: in.MaxResults, NextToken: in.NextToken, Management: true}
	if in.StartTime != nil {
		q.Start = in.StartTime.Time
	}
	if in.EndTime != nil {
		q.End = in.EndTime.Time
	}
	if !q.Start.IsZero() && !q.End.IsZero() && q.Start.After(q.End) {
		return nil, &trail.Error{Code: "InvalidTimeRangeException", Message: "Start time must be before end time."}
	}
	for _, a := range in.LookupAttributes {
		q.Attributes = append(q.Attributes, [2]string{a.AttributeKey, a.AttributeValue})
	}
	events := []map[string]any{}
	if in.EventCategory == "insight" {
		return map[string]any{"Events": events}, nil
	}
	res, err := h.Trails.Journal().Lookup(q, h.now(), h.Trails.HistoryRetention())
	if errors.Is(err, trail.ErrInvalidLookup) {
		if in.NextToken != "" {
			return nil, &trail.Error{Code: "InvalidNextTokenException", Message: "Invalid NextToken."}
		}
		return nil, &trail.Error{Code: "InvalidLookupAttributesException", Message: "The attribute key is not valid."}
	}
	if err != nil {
		return nil, err
	}
	for i, r := range res.Events {
		t, _ := time.Parse(time.RFC3339, r.EventTime)
		ev := map[string]any{
			"EventId": r.EventID, "EventName": r.EventName, "ReadOnly": strconv.FormatBool(r.ReadOnly),
			"EventTime": epoch(t), "EventSource": r.EventSource, "CloudTrailEvent": string(res.Raw[i]),
		}
		if r.UserIdentity.AccessKeyID != "" {
			ev["AccessKeyId"] = r.UserIdentity.AccessKeyID
		}
		if u := trail.Username(r); u != "" {
			ev["Username"] = u
		}
		resources := []map[string]string{}
		for _, rs := range r.Resources {
			resources = append(resources, map[string]string{"ResourceType": rs.Type, "ResourceName": trail.ResourceName(rs)})
		}
		ev["Resources"] = resources
		events = append(events, ev)
	}
	out := map[string]any{"Events": events}
	if res.NextToken != "" {
		out["NextToken"] = res.NextToken
	}
	return out, nil
}
