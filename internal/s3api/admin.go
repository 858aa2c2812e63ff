package s3api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/coffer-io/coffer/internal/s3api/s3err"
)

// Admin operations share the S3 pipeline (authentication, authorization,
// audit) but live under /_coffer/admin/, a path no bucket can have, and are
// signed for the "coffer" service.
const (
	adminPrefix  = "/_coffer/admin/"
	adminService = "coffer"
)

func init() {
	opTable[OpAdminCreateAccount] = opInfo{name: "CreateAccount", action: "coffer:CreateAccount", scope: scopeService, maxBody: 64 << 10}
	opTable[OpAdminAnalyze] = opInfo{name: "AnalyzeAccess", action: "coffer:AnalyzeAccess", scope: scopeService, readOnly: true}
}

func isAdminPath(p string) bool { return strings.HasPrefix(p, adminPrefix) }

func (o Op) isAdmin() bool { return o == OpAdminCreateAccount || o == OpAdminAnalyze }

func classifyAdmin(r *http.Request) Op {
	if r.Method == http.MethodPost && r.URL.Path == adminPrefix+"v1/accounts" {
		return OpAdminCreateAccount
	}
	if r.Method == http.MethodGet && r.URL.Path == adminPrefix+"v1/analysis" {
		return OpAdminAnalyze
	}
	return OpUnknown
}

// CreateAccountRequest is the admin API's account creation body.
type CreateAccountRequest struct {
	Name string `json:"name"`
}

// CreateAccountResponse is the admin API's answer: the new account's root
// credentials, shown once.
type CreateAccountResponse struct {
	AccountID       string `json:"accountId"`
	Name            string `json:"name"`
	CanonicalID     string `json:"canonicalId"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

func (h *Handler) adminCreateAccount(w http.ResponseWriter, r *http.Request, rq *request) error {
	body, err := readAll(rq)
	if err != nil {
		return err
	}
	var req CreateAccountRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return s3err.InvalidArgument.WithMessage("The request body must be a JSON object with a name")
	}
	a, k, err := h.cfg.Admin.CreateAccount(r.Context(), req.Name)
	if err != nil {
		return err
	}
	out, err := json.Marshal(CreateAccountResponse{AccountID: a.ID, Name: a.Name, CanonicalID: a.CanonicalID, AccessKeyID: k.ID, SecretAccessKey: k.Secret})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(out)
	return err
}

// adminAnalyze reports the access analysis of the caller's own account.
func (h *Handler) adminAnalyze(w http.ResponseWriter, r *http.Request, rq *request) error {
	rep, err := h.cfg.Admin.Analyze(r.Context(), rq.principal.AccountID)
	if err != nil {
		return err
	}
	out, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(out)
	return err
}
