package iamapi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/coffer-io/coffer/internal/iam"
)

// brokenStore fails every transaction, as a store whose disk went away.
type brokenStore struct{}

var errDisk = errors.New("disk on fire")

func (brokenStore) Update(context.Context, string, func(iam.Tx) error) error { return errDisk }
func (brokenStore) View(context.Context, string, func(iam.Tx) error) error   { return errDisk }

// Internal failures reach the client as ServiceFailure with a generic
// message; the cause goes to the log with the request id.
func TestInternalFailure(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{IAM: &iam.Service{Store: brokenStore{}}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	status, body := h.ServeIAM(context.Background(), root, form("ListUsers"), "req-9")
	if status != 500 || !strings.Contains(string(body), "<Type>Receiver</Type><Code>ServiceFailure</Code>") || strings.Contains(string(body), "fire") {
		t.Errorf("status %d, body %s", status, body)
	}
	if l := logs.String(); !strings.Contains(l, "disk on fire") || !strings.Contains(l, "req-9") || !strings.Contains(l, "ListUsers") {
		t.Errorf("log %q", l)
	}
	if _, err := h.IAMAPI().Requirement(context.Background(), form("GetUser", "UserName", "x"), root); err == nil || !strings.Contains(err.Error(), "ServiceFailure") || !errors.Is(err, errDisk) {
		t.Errorf("Requirement with a broken store: %v", err)
	}
}
