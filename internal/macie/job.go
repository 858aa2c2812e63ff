package macie

import (
	"fmt"
	"strings"
)

// Job is a classification job as DescribeClassificationJob returns it.
type Job struct {
	AllowListIds                  []string          `json:"allowListIds,omitempty"`
	ClientToken                   string            `json:"clientToken,omitempty"`
	CreatedAt                     string            `json:"createdAt"`
	CustomDataIdentifierIds       []string          `json:"customDataIdentifierIds,omitempty"`
	Description                   string            `json:"description,omitempty"`
	InitialRun                    bool              `json:"initialRun"`
	JobArn                        string            `json:"jobArn"`
	JobID                         string            `json:"jobId"`
	JobStatus                     string            `json:"jobStatus"`
	JobType                       string            `json:"jobType"`
	LastRunErrorStatus            LastRunError      `json:"lastRunErrorStatus"`
	LastRunTime                   string            `json:"lastRunTime,omitempty"`
	ManagedDataIdentifierIds      []string          `json:"managedDataIdentifierIds,omitempty"`
	ManagedDataIdentifierSelector string            `json:"managedDataIdentifierSelector"`
	Name                          string            `json:"name"`
	S3JobDefinition               S3JobDefinition   `json:"s3JobDefinition"`
	SamplingPercentage            int               `json:"samplingPercentage"`
	ScheduleFrequency             *Schedule         `json:"scheduleFrequency,omitempty"`
	Statistics                    JobStatistics     `json:"statistics"`
	Tags                          map[string]string `json:"tags,omitempty"`
	// NextRun is when a scheduled job runs next (Coffer's own field,
	// cleared before a job is returned).
	NextRun string `json:"nextRun,omitempty"`
}

// LastRunError says whether the last run failed for some objects.
type LastRunError struct {
	Code string `json:"code"`
}

// JobStatistics are a job's progress figures.
type JobStatistics struct {
	ApproximateNumberOfObjectsToProcess float64 `json:"approximateNumberOfObjectsToProcess"`
	NumberOfRuns                        float64 `json:"numberOfRuns"`
}

// S3JobDefinition says which objects a job analyses.
type S3JobDefinition struct {
	BucketDefinitions []BucketDefinition `json:"bucketDefinitions,omitempty"`
	BucketCriteria    any                `json:"bucketCriteria,omitempty"`
	Scoping           *Scoping           `json:"scoping,omitempty"`
}

// BucketDefinition names buckets of one account.
type BucketDefinition struct {
	AccountID string   `json:"accountId"`
	Buckets   []string `json:"buckets"`
}

// Scoping is Macie's JobScopingBlock pair: objects must match every
// include term and no exclude term.
type Scoping struct {
	Excludes *ScopeBlock `json:"excludes,omitempty"`
	Includes *ScopeBlock `json:"includes,omitempty"`
}

// ScopeBlock is a list of terms joined by AND.
type ScopeBlock struct {
	And []ScopeTerm `json:"and"`
}

// ScopeTerm is one object condition.
type ScopeTerm struct {
	SimpleScopeTerm *SimpleScopeTerm `json:"simpleScopeTerm,omitempty"`
	TagScopeTerm    *TagScopeTerm    `json:"tagScopeTerm,omitempty"`
}

// SimpleScopeTerm compares an object property.
type SimpleScopeTerm struct {
	Comparator string   `json:"comparator"`
	Key        string   `json:"key"`
	Values     []string `json:"values"`
}

// TagScopeTerm compares an object's tags.
type TagScopeTerm struct {
	Comparator string     `json:"comparator"`
	Key        string     `json:"key"`
	TagValues  []TagValue `json:"tagValues"`
	Target     string     `json:"target"`
}

// TagValue is one tag pair of a TagScopeTerm.
type TagValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Schedule is a scheduled job's frequency.
type Schedule struct {
	DailySchedule  *struct{} `json:"dailySchedule,omitempty"`
	WeeklySchedule *struct {
		DayOfWeek string `json:"dayOfWeek"`
	} `json:"weeklySchedule,omitempty"`
	MonthlySchedule *struct {
		DayOfMonth int `json:"dayOfMonth"`
	} `json:"monthlySchedule,omitempty"`
}

// Job statuses and types.
const (
	JobRunning   = "RUNNING"
	JobPaused    = "USER_PAUSED"
	JobCancelled = "CANCELLED"
	JobComplete  = "COMPLETE"
	JobIdle      = "IDLE"
	OneTime      = "ONE_TIME"
	Scheduled    = "SCHEDULED"
)

var selectors = map[string]bool{"ALL": true, "NONE": true, "INCLUDE": true, "EXCLUDE": true, "RECOMMENDED": true}

// validate checks a job as created, for the caller's account.
func (j *Job) validate(account string) error {
	if j.Name == "" || len(j.Name) > 500 {
		return validation("name must be 1 to 500 characters.")
	}
	switch j.JobType {
	case OneTime:
		if j.ScheduleFrequency != nil {
			return validation("A ONE_TIME job cannot have a scheduleFrequency.")
		}
	case Scheduled:
		s := j.ScheduleFrequency
		if s == nil || count(s.DailySchedule != nil, s.WeeklySchedule != nil, s.MonthlySchedule != nil) != 1 {
			return validation("A SCHEDULED job needs exactly one of dailySchedule, weeklySchedule or monthlySchedule.")
		}
		if w := s.WeeklySchedule; w != nil && !validDay(w.DayOfWeek) {
			return validation("weeklySchedule.dayOfWeek must be a day such as MONDAY.")
		}
		if m := s.MonthlySchedule; m != nil && (m.DayOfMonth < 1 || m.DayOfMonth > 31) {
			return validation("monthlySchedule.dayOfMonth must be 1 to 31.")
		}
	default:
		return validation("jobType must be ONE_TIME or SCHEDULED.")
	}
	if j.SamplingPercentage == 0 {
		j.SamplingPercentage = 100
	}
	if j.SamplingPercentage < 1 || j.SamplingPercentage > 100 {
		return validation("samplingPercentage must be 1 to 100.")
	}
	if j.ManagedDataIdentifierSelector == "" {
		j.ManagedDataIdentifierSelector = "RECOMMENDED"
	}
	if !selectors[j.ManagedDataIdentifierSelector] {
		return validation("managedDataIdentifierSelector must be ALL, EXCLUDE, INCLUDE, NONE or RECOMMENDED.")
	}
	switch sel := j.ManagedDataIdentifierSelector; {
	case (sel == "INCLUDE" || sel == "EXCLUDE") && len(j.ManagedDataIdentifierIds) == 0:
		return validation("managedDataIdentifierIds is required when managedDataIdentifierSelector is " + sel + ".")
	case sel != "INCLUDE" && sel != "EXCLUDE" && len(j.ManagedDataIdentifierIds) > 0:
		return validation("managedDataIdentifierIds is allowed only when managedDataIdentifierSelector is INCLUDE or EXCLUDE.")
	case sel == "NONE" && len(j.CustomDataIdentifierIds) == 0:
		return validation("A job whose managedDataIdentifierSelector is NONE needs customDataIdentifierIds.")
	}
	d := j.S3JobDefinition
	if d.BucketCriteria != nil {
		return validation("bucketCriteria is not supported; name the buckets in bucketDefinitions.")
	}
	if len(d.BucketDefinitions) == 0 {
		return validation("s3JobDefinition.bucketDefinitions is required.")
	}
	for _, b := range d.BucketDefinitions {
		if b.AccountID != account {
			return validation("bucketDefinitions can name only the caller's own account's buckets.")
		}
		if len(b.Buckets) == 0 {
			return validation("Each bucketDefinition needs at least one bucket.")
		}
	}
	if s := d.Scoping; s != nil {
		for _, blk := range []*ScopeBlock{s.Includes, s.Excludes} {
			if blk == nil {
				continue
			}
			for _, t := range blk.And {
				if err := t.validate(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func validDay(d string) bool {
	switch d {
	case "SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY":
		return true
	}
	return false
}

// Supported scope keys and comparators: the common ones. Anything else
// is refused rather than ignored, so a job never scans more than asked.
var simpleComparators = map[string]map[string]bool{
	"OBJECT_EXTENSION":     {"EQ": true, "NE": true},
	"OBJECT_KEY":           {"STARTS_WITH": true},
	"OBJECT_SIZE":          {"EQ": true, "GT": true, "GTE": true, "LT": true, "LTE": true, "NE": true},
	"OBJECT_LAST_MODIFIED": {"EQ": true, "GT": true, "GTE": true, "LT": true, "LTE": true, "NE": true},
}

func (t ScopeTerm) validate() error {
	switch {
	case t.SimpleScopeTerm != nil && t.TagScopeTerm == nil:
		s := t.SimpleScopeTerm
		cmp, ok := simpleComparators[s.Key]
		if !ok {
			return validation(fmt.Sprintf("simpleScopeTerm key %q is not supported; use OBJECT_EXTENSION, OBJECT_KEY, OBJECT_SIZE or OBJECT_LAST_MODIFIED.", s.Key))
		}
		if !cmp[s.Comparator] {
			return validation(fmt.Sprintf("Comparator %q is not supported for %s.", s.Comparator, s.Key))
		}
		if len(s.Values) == 0 {
			return validation("simpleScopeTerm values are required.")
		}
		if s.Key == "OBJECT_SIZE" || s.Key == "OBJECT_LAST_MODIFIED" {
			if len(s.Values) != 1 {
				return validation(s.Key + " takes one value.")
			}
			if _, err := scopeNumber(s.Key, s.Values[0]); err != nil {
				return err
			}
		}
	case t.TagScopeTerm != nil && t.SimpleScopeTerm == nil:
		g := t.TagScopeTerm
		if g.Key != "TAG" || (g.Target != "" && g.Target != "S3_OBJECT") {
			return validation("tagScopeTerm needs key TAG and target S3_OBJECT.")
		}
		if g.Comparator != "EQ" && g.Comparator != "NE" {
			return validation("tagScopeTerm comparator must be EQ or NE.")
		}
		if len(g.TagValues) == 0 {
			return validation("tagScopeTerm tagValues are required.")
		}
	default:
		return validation("Each scope term needs exactly one of simpleScopeTerm or tagScopeTerm.")
	}
	return nil
}

func extension(key string) string {
	i := strings.LastIndexByte(key, '.')
	if i < 0 || strings.Contains(key[i:], "/") {
		return ""
	}
	return strings.ToLower(key[i+1:])
}
