// Package configapi is the AWS Config JSON 1.1 front door (X-Amz-Target
// StarlingDoveService.<Operation>): the configuration recorder, resource
// history and discovered resources (configrec), and rules, compliance
// results and conformance packs (rules). The pipeline authenticates and
// authorizes each call as config:<Operation> on the caller's account and
// audits it; the calls act on the caller's own account only.
//
// Handlers return errors; toWire alone decides what a client sees, and
// internal failures reach clients only as an InternalFailure.
package configapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/configrec"
	"github.com/coffer-io/coffer/internal/rules"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// TargetPrefix is the X-Amz-Target prefix of AWS Config operations.
const TargetPrefix = "StarlingDoveService."

// Handler serves AWS Config JSON requests.
type Handler struct {
	Recorder *configrec.Recorder
	Store    configrec.Store
	Rules    *rules.Engine
	Region   string
	Logger   *slog.Logger
}

type call struct {
	ctx      context.Context
	account  string
	body     []byte
	resource string
}

type handlerFunc func(h *Handler, c *call) (any, error)

var ops = map[string]handlerFunc{}

// API adapts the Handler to the pipeline's s3api.JSONService.
func (h *Handler) API() s3api.JSONService { return api{h} }

type api struct{ h *Handler }

func (api) TargetPrefix() string { return TargetPrefix }

// Requirement: every call is config:<Operation> on the account.
func (a api) Requirement(_ context.Context, op string, _ []byte, caller *authn.Principal) (*s3api.QueryRequirement, error) {
	if _, ok := ops[op]; !ok {
		e := toWire(errUnknownOperation)
		return nil, &s3err.Error{Code: e.Code, Status: e.Status, Message: e.Message}
	}
	return &s3api.QueryRequirement{Actions: []string{"config:" + op}, Resource: "*"}, nil
}

func (a api) Serve(ctx context.Context, caller *authn.Principal, op string, body []byte, requestID string) s3api.JSONResult {
	return a.h.Serve(ctx, caller, op, body, requestID)
}

// Serve handles one call.
func (h *Handler) Serve(ctx context.Context, caller *authn.Principal, op string, body []byte, requestID string) s3api.JSONResult {
	c := &call{ctx: ctx, account: caller.AccountID, body: body}
	f, ok := ops[op]
	var out any
	var err error
	if !ok {
		err = errUnknownOperation
	} else {
		out, err = f(h, c)
	}
	if err != nil {
		e := toWire(err)
		if e.Status >= 500 {
			h.log().Error("AWS Config request failed", "request_id", requestID, "op", op, "err", err)
		}
		return s3api.JSONResult{Status: e.Status, Body: errorBody(e), ErrorCode: e.Code, Resource: c.resource}
	}
	if out == nil {
		out = struct{}{}
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.log().Error("AWS Config response encoding failed", "request_id", requestID, "op", op, "err", err)
		e := toWire(err)
		return s3api.JSONResult{Status: e.Status, Body: errorBody(e), ErrorCode: e.Code}
	}
	return s3api.JSONResult{Status: http.StatusOK, Body: b, Resource: c.resource}
}

func (h *Handler) log() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// Error is an AWS Config exception.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

var errUnknownOperation = &Error{Code: "UnknownOperationException"}

func invalid(msg string) error { return &Error{"InvalidParameterValueException", msg} }

func validation(msg string) error { return &Error{"ValidationException", msg} }

type wireError struct {
	Code    string
	Status  int
	Message string
}

// toWire is the one place deciding what a client sees of an error.
func toWire(err error) wireError {
	var ce *Error
	var pe *rules.ParamError
	switch {
	case errors.As(err, &ce):
		return wireError{ce.Code, http.StatusBadRequest, ce.Message}
	case errors.As(err, &pe):
		return wireError{"InvalidParameterValueException", http.StatusBadRequest, pe.Msg}
	case errors.Is(err, rules.ErrUnknownTemplate):
		return wireError{"ConformancePackTemplateValidationException", http.StatusBadRequest,
			"Coffer provides the built-in template " + rules.BuiltinPack + "; give it as the template body."}
	case errors.Is(err, rules.ErrNoSuchPack):
		return wireError{"NoSuchConformancePackException", http.StatusBadRequest, "The conformance pack does not exist."}
	case errors.Is(err, configrec.ErrNoRecorder):
		return wireError{"NoSuchConfigurationRecorderException", http.StatusBadRequest, "Cannot find configuration recorder with the specified name."}
	}
	return wireError{"InternalFailure", http.StatusInternalServerError, "We encountered an internal error. Please try again."}
}

func errorBody(e wireError) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{e.Code, e.Message})
	return b
}

// decode reads a request body; an empty body is an empty object.
func decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{"SerializationException", "The request body is not valid JSON."}
	}
	return nil
}

// epoch renders a time as the JSON protocol does: seconds since the
// epoch, with milliseconds.
func epoch(t interface{ UnixMilli() int64 }) float64 {
	return float64(t.UnixMilli()) / 1000
}
