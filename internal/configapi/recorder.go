package configapi

import (
	"regexp"
	"time"

	"github.com/coffer-io/coffer/internal/configrec"
)

func init() {
	ops["PutConfigurationRecorder"] = (*Handler).putRecorder
	ops["DescribeConfigurationRecorders"] = (*Handler).describeRecorders
	ops["DescribeConfigurationRecorderStatus"] = (*Handler).describeRecorderStatus
	ops["StartConfigurationRecorder"] = func(h *Handler, c *call) (any, error) { return h.setRecording(c, true) }
	ops["StopConfigurationRecorder"] = func(h *Handler, c *call) (any, error) { return h.setRecording(c, false) }
}

var recorderName = regexp.MustCompile(`^.{1,256}$`)

type recordingGroup struct {
	AllSupported               bool     `json:"allSupported"`
	IncludeGlobalResourceTypes bool     `json:"includeGlobalResourceTypes"`
	ResourceTypes              []string `json:"resourceTypes"`
}

type recorderOut struct {
	Name           string         `json:"name"`
	RoleARN        string         `json:"roleARN,omitempty"`
	RecordingGroup recordingGroup `json:"recordingGroup"`
	RecordingMode  struct {
		RecordingFrequency string `json:"recordingFrequency"`
	} `json:"recordingMode"`
}

func (h *Handler) putRecorder(c *call) (any, error) {
	var in struct {
		ConfigurationRecorder *struct {
			Name           string          `json:"name"`
			RoleARN        string          `json:"roleARN"`
			RecordingGroup *recordingGroup `json:"recordingGroup"`
		}
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	r := in.ConfigurationRecorder
	if r == nil || !recorderName.MatchString(r.Name) {
		return nil, validation("1 validation error detected: Value at 'configurationRecorder.name' failed to satisfy constraint: Member must have length between 1 and 256")
	}
	st, err := h.Recorder.State(c.ctx, c.account)
	if err != nil {
		return nil, err
	}
	if st.ExplicitlyReplaced && st.Name != r.Name {
		return nil, &Error{"MaxNumberOfConfigurationRecordersExceededException",
			"Failed to put configuration recorder '" + r.Name + "' because the maximum number of configuration recorders: 1 is reached."}
	}
	all, types := true, []string(nil)
	if g := r.RecordingGroup; g != nil {
		all, types = g.AllSupported, g.ResourceTypes
		for _, t := range types {
			if t != configrec.TypeBucket && t != configrec.TypeAccountPAB {
				return nil, invalid("The resource type " + t + " is not supported; this recorder records AWS::S3::Bucket and AWS::S3::AccountPublicAccessBlock.")
			}
		}
		if !all && len(types) == 0 {
			return nil, invalid("The recording group must record all supported resource types or list some.")
		}
	}
	c.resource = r.Name
	return nil, h.Recorder.PutRecorder(c.ctx, c.account, r.Name, r.RoleARN, all, types)
}

func (h *Handler) describeRecorders(c *call) (any, error) {
	var in struct {
		ConfigurationRecorderNames []string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	st, err := h.Recorder.State(c.ctx, c.account)
	if err != nil {
		return nil, err
	}
	for _, n := range in.ConfigurationRecorderNames {
		if n != st.Name {
			return nil, &Error{"NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '" + n + "'."}
		}
	}
	out := recorderOut{Name: st.Name, RoleARN: st.RoleARN,
		RecordingGroup: recordingGroup{AllSupported: st.AllSupported, ResourceTypes: st.ResourceTypes}}
	if out.RecordingGroup.ResourceTypes == nil {
		out.RecordingGroup.ResourceTypes = []string{}
	}
	out.RecordingMode.RecordingFrequency = "CONTINUOUS"
	return map[string]any{"ConfigurationRecorders": []recorderOut{out}}, nil
}

func (h *Handler) describeRecorderStatus(c *call) (any, error) {
	var in struct {
		ConfigurationRecorderNames []string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	st, err := h.Recorder.State(c.ctx, c.account)
	if err != nil {
		return nil, err
	}
	for _, n := range in.ConfigurationRecorderNames {
		if n != st.Name {
			return nil, &Error{"NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '" + n + "'."}
		}
	}
	s := map[string]any{"name": st.Name, "recording": st.Recording, "lastStatus": "SUCCESS"}
	for k, t := range map[string]time.Time{"lastStartTime": st.LastStartTime, "lastStopTime": st.LastStopTime, "lastStatusChangeTime": st.LastStatusChange} {
		if !t.IsZero() {
			s[k] = epoch(t)
		}
	}
	return map[string]any{"ConfigurationRecordersStatus": []any{s}}, nil
}

func (h *Handler) setRecording(c *call, on bool) (any, error) {
	var in struct {
		ConfigurationRecorderName string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	c.resource = in.ConfigurationRecorderName
	err := h.Recorder.SetRecording(c.ctx, c.account, in.ConfigurationRecorderName, on)
	if err == configrec.ErrNoRecorder {
		return nil, &Error{"NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '" + in.ConfigurationRecorderName + "'."}
	}
	return nil, err
}
