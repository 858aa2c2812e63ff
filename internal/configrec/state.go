package configrec

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// RecorderState is an account's configuration recorder (AWS Config has at
// most one per account and Region). Every account starts with one,
// named "default", recording.
type RecorderState struct {
	Name               string    `json:"name"`
	RoleARN            string    `json:"roleARN,omitempty"`
	AllSupported       bool      `json:"allSupported"`
	ResourceTypes      []string  `json:"resourceTypes,omitempty"`
	Recording          bool      `json:"recording"`
	LastStartTime      time.Time `json:"lastStartTime,omitzero"`
	LastStopTime       time.Time `json:"lastStopTime,omitzero"`
	LastStatusChange   time.Time `json:"lastStatusChangeTime,omitzero"`
	ExplicitlyReplaced bool      `json:"replaced,omitempty"`
}

const docRecorder = "recorder"

// DefaultRecorderName names the recorder every account starts with.
const DefaultRecorderName = "default"

// ErrNoRecorder is returned for a recorder name the account does not have.
var ErrNoRecorder = errors.New("configrec: no such configuration recorder")

// State returns an account's recorder.
func (r *Recorder) State(ctx context.Context, account string) (*RecorderState, error) {
	raw, err := r.Store.GetDoc(ctx, docRecorder, account)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return &RecorderState{Name: DefaultRecorderName, AllSupported: true, Recording: true}, nil
	}
	var s RecorderState
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (r *Recorder) saveState(ctx context.Context, account string, s *RecorderState) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return r.Store.PutDoc(ctx, docRecorder, account, raw)
}

// recording reports whether the account's recorder records typ now.
func (r *Recorder) recording(ctx context.Context, account, typ string) bool {
	s, err := r.State(ctx, account)
	if err != nil || !s.Recording {
		return false
	}
	if s.AllSupported {
		return true
	}
	for _, t := range s.ResourceTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// PutRecorder creates or updates the account's recorder (its name may
// change only while it is the default one, as AWS allows one recorder).
func (r *Recorder) PutRecorder(ctx context.Context, account, name, role string, allSupported bool, types []string) error {
	s, err := r.State(ctx, account)
	if err != nil {
		return err
	}
	s.Name, s.RoleARN, s.AllSupported, s.ResourceTypes = name, role, allSupported, types
	s.ExplicitlyReplaced = true
	return r.saveState(ctx, account, s)
}

// SetRecording starts or stops the account's recorder; starting records
// whatever changed while it was stopped.
func (r *Recorder) SetRecording(ctx context.Context, account, name string, on bool) error {
	s, err := r.State(ctx, account)
	if err != nil {
		return err
	}
	if s.Name != name {
		return ErrNoRecorder
	}
	now := r.Now().UTC()
	if s.Recording != on {
		s.LastStatusChange = now
	}
	s.Recording = on
	if on {
		s.LastStartTime = now
	} else {
		s.LastStopTime = now
	}
	if err := r.saveState(ctx, account, s); err != nil {
		return err
	}
	if on {
		r.enqueue(job{all: true, op: "StartConfigurationRecorder"})
	}
	return nil
}
