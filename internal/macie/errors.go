package macie

import (
	"errors"
	"net/http"
	"time"
)

// apiError is an error with its Macie exception name and status.
type apiError struct {
	code   string
	status int
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func validation(msg string) error {
	return &apiError{"ValidationException", http.StatusBadRequest, msg}
}

func notFound(msg string) error {
	return &apiError{"ResourceNotFoundException", http.StatusNotFound, msg}
}

func conflict(msg string) error {
	return &apiError{"ConflictException", http.StatusConflict, msg}
}

var errNotEnabled = &apiError{"AccessDeniedException", http.StatusForbidden, "Macie is not enabled for this account."}

// toWire is the one place that decides what a client sees of an error:
// Macie's own exceptions pass; a missing record is ResourceNotFound;
// anything else is an InternalServerException whose cause stays in the
// log.
func toWire(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ErrNotFound):
		return notFound("The specified resource wasn't found.").(*apiError)
	}
	return &apiError{"InternalServerException", http.StatusInternalServerError, "An internal error occurred."}
}

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
