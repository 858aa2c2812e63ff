package server

import (
	"net/http"

	"github.com/coffer-io/coffer/internal/clock"
)

// dataClock is the data-protection clock: Object Lock retention, default
// retention, object timestamps and the trail's delivery and digest
// periods read it. Authentication, TOTP, STS and
// TLS never do. Normal builds use the real clock; builds with the
// coffertest tag replace it with one tests can move forward
// (testclock_coffertest.go).
var dataClock clock.Clock = clock.Real

// testRoutes adds test-only endpoints. It is nil except in builds with
// the coffertest tag, so a normal binary has no way to move its clock.
var testRoutes func(mux *http.ServeMux)
