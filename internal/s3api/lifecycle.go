package s3api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/coffer-io/coffer/internal/lifecycle"
	"github.com/coffer-io/coffer/internal/s3api/s3err"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Lifecycle configuration errors in AWS's words.
var (
	NoSuchLifecycleConfiguration = &s3err.Error{Code: "NoSuchLifecycleConfiguration", Status: http.StatusNotFound,
		Message: "The lifecycle configuration does not exist"}
	errLifecycleWithMFADelete = s3err.InvalidRequest.WithMessage("Lifecycle configuration and MFA Delete cannot be used together on a bucket.")
)

const (
	hdrMinObjectSize = "X-Amz-Transition-Default-Minimum-Object-Size"
	// cfgLifecycleMinSize keeps the x-amz-transition-default-minimum-object-size
	// the configuration was put with.
	cfgLifecycleMinSize = "lifecycle-min-size"
	defaultMinSize      = "all_storage_classes_128K"
)

// lifecycleError turns a refused configuration into its S3 error.
func lifecycleError(err error) error {
	var le *lifecycle.Error
	if !errors.As(err, &le) {
		return err
	}
	switch le.Code {
	case s3err.MalformedXML.Code:
		return s3err.MalformedXML
	case s3err.NotImplemented.Code:
		return s3err.NotImplemented.WithMessage(le.Message)
	case s3err.InvalidRequest.Code:
		return s3err.InvalidRequest.WithMessage(le.Message)
	}
	return s3err.InvalidArgument.WithMessage(le.Message)
}

func (h *Handler) getBucketLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := needBucket(rq)
	if err != nil {
		return err
	}
	raw, ok := b.Configs[lifecycle.ConfigName]
	if !ok {
		return NoSuchLifecycleConfiguration.With("BucketName", b.Name)
	}
	var c lifecycle.Configuration
	if err := xml.Unmarshal(raw, &c); err != nil {
		return err
	}
	c.Xmlns = s3NS
	min := string(b.Configs[cfgLifecycleMinSize])
	if min == "" {
		min = defaultMinSize
	}
	w.Header().Set(hdrMinObjectSize, min)
	return writeXML(w, &c)
}

func (h *Handler) putBucketLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	min := r.Header.Get(hdrMinObjectSize)
	switch min {
	case "":
		min = defaultMinSize
	case "varies_by_storage_class", defaultMinSize:
	default:
		return s3err.InvalidArgument.WithMessage("Invalid value for x-amz-transition-default-minimum-object-size").
			With("ArgumentName", "x-amz-transition-default-minimum-object-size").With("ArgumentValue", min)
	}
	body, err := checkedDoc(rq, r.Header)
	if err != nil {
		return err
	}
	var syntax lifecycle.Configuration
	if err := unmarshalXML(body, &syntax); err != nil {
		return err
	}
	c, err := lifecycle.Parse(body)
	if err != nil {
		return lifecycleError(err)
	}
	c.Xmlns = ""
	// A rule without an ID gets one, as S3 gives it, so that Get shows
	// it and lifecycle's audit records can name the rule.
	for i := range c.Rules {
		if c.Rules[i].ID == "" {
			var id [36]byte
			_, _ = rand.Read(id[:])
			c.Rules[i].ID = base64.StdEncoding.EncodeToString(id[:])
		}
	}
	raw, err := xml.Marshal(c)
	if err != nil {
		return err
	}
	err = h.obj.Meta().UpdateBucket(r.Context(), rq.t.bucket, func(b *meta.Bucket) error {
		if mfaDeleteEnabled(b) {
			return errLifecycleWithMFADelete
		}
		if b.Configs == nil {
			b.Configs = map[string][]byte{}
		}
		b.Configs[lifecycle.ConfigName] = raw
		b.Configs[cfgLifecycleMinSize] = []byte(min)
		return nil
	})
	if err != nil {
		return err
	}
	w.Header().Set(hdrMinObjectSize, min)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucketLifecycle(w http.ResponseWriter, r *http.Request, rq *request) error {
	if _, err := needBucket(rq); err != nil {
		return err
	}
	err := h.obj.Meta().UpdateBucket(r.Context(), rq.t.bucket, func(b *meta.Bucket) error {
		delete(b.Configs, lifecycle.ConfigName)
		delete(b.Configs, cfgLifecycleMinSize)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
