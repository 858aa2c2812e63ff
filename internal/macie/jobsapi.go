package macie

import (
	"context"
	"errors"
	"sort"
	"strings"
)

func (s *Service) createJob(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		AllowListIds                  []string          `json:"allowListIds"`
		ClientToken                   string            `json:"clientToken"`
		CustomDataIdentifierIds       []string          `json:"customDataIdentifierIds"`
		Description                   string            `json:"description"`
		InitialRun                    *bool             `json:"initialRun"`
		JobType                       string            `json:"jobType"`
		ManagedDataIdentifierIds      []string          `json:"managedDataIdentifierIds"`
		ManagedDataIdentifierSelector string            `json:"managedDataIdentifierSelector"`
		Name                          string            `json:"name"`
		S3JobDefinition               S3JobDefinition   `json:"s3JobDefinition"`
		SamplingPercentage            int               `json:"samplingPercentage"`
		ScheduleFrequency             *Schedule         `json:"scheduleFrequency"`
		Tags                          map[string]string `json:"tags"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	// A retried call with the same client token gets the same job.
	if in.ClientToken != "" {
		var found *Job
		jobs, err := listJSON[Job](ctx, s.Store, account, KindJob)
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			if j.ClientToken == in.ClientToken {
				found = j
			}
		}
		if found != nil {
			return map[string]string{"jobArn": found.JobArn, "jobId": found.JobID}, nil
		}
	}
	j := &Job{AllowListIds: in.AllowListIds, ClientToken: in.ClientToken, CustomDataIdentifierIds: in.CustomDataIdentifierIds,
		Description: in.Description, InitialRun: in.InitialRun == nil || *in.InitialRun, JobType: in.JobType,
		ManagedDataIdentifierIds: in.ManagedDataIdentifierIds, ManagedDataIdentifierSelector: in.ManagedDataIdentifierSelector,
		Name: in.Name, S3JobDefinition: in.S3JobDefinition, SamplingPercentage: in.SamplingPercentage,
		ScheduleFrequency: in.ScheduleFrequency, Tags: in.Tags}
	if err := j.validate(account); err != nil {
		return nil, err
	}
	for _, id := range j.CustomDataIdentifierIds {
		if _, err := s.identifier(ctx, account, id); err != nil {
			return nil, err
		}
	}
	for _, id := range j.AllowListIds {
		if _, err := s.allowList(ctx, account, id); err != nil {
			return nil, err
		}
	}
	j.JobID = newID()
	j.JobArn = s.arn(account, "classification-job", j.JobID)
	j.CreatedAt = timestamp(s.now())
	j.JobStatus = JobRunning
	j.LastRunErrorStatus.Code = "NONE"
	if j.JobType == Scheduled && !j.InitialRun {
		j.JobStatus = JobIdle
	}
	if err := putJSON(ctx, s.Store, account, KindJob, j.JobID, j); err != nil {
		return nil, err
	}
	if s.Jobs != nil {
		s.Jobs.Wake()
	}
	return map[string]string{"jobArn": j.JobArn, "jobId": j.JobID}, nil
}

func (s *Service) job(ctx context.Context, account, id string) (*Job, error) {
	j, err := getJSON[Job](ctx, s.Store, account, KindJob, id)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("The classification job " + id + " does not exist.")
	}
	return j, err
}

// describeJob is DescribeClassificationJob: the job without Coffer's
// own fields.
func (s *Service) describeJob(ctx context.Context, account, id string) (*Job, error) {
	j, err := s.job(ctx, account, id)
	if err != nil {
		return nil, err
	}
	j.NextRun = ""
	return j, nil
}

func (s *Service) listJobs(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		FilterCriteria *struct {
			Excludes []jobFilter `json:"excludes"`
			Includes []jobFilter `json:"includes"`
		} `json:"filterCriteria"`
		MaxResults   int    `json:"maxResults"`
		NextToken    string `json:"nextToken"`
		SortCriteria *struct {
			AttributeName string `json:"attributeName"`
			OrderBy       string `json:"orderBy"`
		} `json:"sortCriteria"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	all, err := listJSON[Job](ctx, s.Store, account, KindJob)
	if err != nil {
		return nil, err
	}
	var jobs []*Job
	for _, j := range all {
		ok := true
		if f := in.FilterCriteria; f != nil {
			for _, c := range f.Includes {
				m, err := c.matches(j)
				if err != nil {
					return nil, err
				}
				ok = ok && m
			}
			for _, c := range f.Excludes {
				m, err := c.matches(j)
				if err != nil {
					return nil, err
				}
				ok = ok && !m
			}
		}
		if ok {
			jobs = append(jobs, j)
		}
	}
	attr, desc := "createdAt", true
	if sc := in.SortCriteria; sc != nil {
		switch sc.AttributeName {
		case "createdAt", "jobStatus", "name", "jobType":
			attr = sc.AttributeName
		default:
			return nil, validation("sortCriteria.attributeName must be createdAt, jobStatus, name or jobType.")
		}
		desc = sc.OrderBy != "ASC"
	}
	key := func(j *Job) string {
		return map[string]string{"createdAt": j.CreatedAt, "jobStatus": j.JobStatus, "name": j.Name, "jobType": j.JobType}[attr]
	}
	sort.SliceStable(jobs, func(a, b int) bool {
		if desc {
			return key(jobs[a]) > key(jobs[b])
		}
		return key(jobs[a]) < key(jobs[b])
	})
	items, next, err := page(jobs, in.MaxResults, in.NextToken, 200)
	if err != nil {
		return nil, err
	}
	type summary struct {
		BucketDefinitions  []BucketDefinition `json:"bucketDefinitions"`
		CreatedAt          string             `json:"createdAt"`
		JobID              string             `json:"jobId"`
		JobStatus          string             `json:"jobStatus"`
		JobType            string             `json:"jobType"`
		LastRunErrorStatus LastRunError       `json:"lastRunErrorStatus"`
		Name               string             `json:"name"`
	}
	out := []summary{}
	for _, j := range items {
		out = append(out, summary{j.S3JobDefinition.BucketDefinitions, j.CreatedAt, j.JobID, j.JobStatus, j.JobType, j.LastRunErrorStatus, j.Name})
	}
	return map[string]any{"items": out, "nextToken": nullable(next)}, nil
}

// jobFilter is a ListJobsFilterTerm.
type jobFilter struct {
	Comparator string   `json:"comparator"`
	Key        string   `json:"key"`
	Values     []string `json:"values"`
}

func (f jobFilter) matches(j *Job) (bool, error) {
	var got string
	switch f.Key {
	case "jobType":
		got = j.JobType
	case "jobStatus":
		got = j.JobStatus
	case "name":
		got = j.Name
	case "createdAt":
		got = j.CreatedAt
	default:
		return false, validation("filterCriteria key must be jobType, jobStatus, name or createdAt.")
	}
	switch f.Comparator {
	case "", "EQ":
		for _, v := range f.Values {
			if got == v {
				return true, nil
			}
		}
		return false, nil
	case "NE":
		for _, v := range f.Values {
			if got == v {
				return false, nil
			}
		}
		return true, nil
	case "CONTAINS":
		for _, v := range f.Values {
			if strings.Contains(got, v) {
				return true, nil
			}
		}
		return false, nil
	case "GT", "GTE", "LT", "LTE":
		if len(f.Values) != 1 {
			return false, validation("A " + f.Comparator + " filter takes one value.")
		}
		v := f.Values[0]
		return map[string]bool{"GT": got > v, "GTE": got >= v, "LT": got < v, "LTE": got <= v}[f.Comparator], nil
	}
	return false, validation("filterCriteria comparator " + f.Comparator + " is not supported.")
}

// updateJob changes a job's status: CANCELLED, USER_PAUSED or RUNNING
// (resume).
func (s *Service) updateJob(ctx context.Context, account, id string, body []byte) error {
	var in struct {
		JobStatus string `json:"jobStatus"`
	}
	if err := decode(body, &in); err != nil {
		return err
	}
	return s.mutateJob(ctx, account, id, func(j *Job) error {
		switch {
		case j.JobStatus == JobCancelled || j.JobStatus == JobComplete:
			return validation("The job is " + j.JobStatus + " and cannot change status.")
		case in.JobStatus == JobCancelled:
			j.JobStatus = JobCancelled
		case in.JobStatus == JobPaused && (j.JobStatus == JobRunning || j.JobStatus == JobIdle):
			j.JobStatus = JobPaused
		case in.JobStatus == JobRunning && j.JobStatus == JobPaused:
			j.JobStatus = JobRunning
			if j.JobType == Scheduled {
				j.JobStatus = JobIdle
			}
		default:
			return validation("jobStatus must be CANCELLED, USER_PAUSED, or RUNNING to resume a paused job.")
		}
		return nil
	})
}

// mutateJob reads, changes and writes a job under the service's lock
// (the runner changes jobs too).
func (s *Service) mutateJob(ctx context.Context, account, id string, fn func(*Job) error) error {
	s.jobMu.Lock()
	defer s.jobMu.Unlock()
	j, err := s.job(ctx, account, id)
	if err != nil {
		return err
	}
	if err := fn(j); err != nil {
		return err
	}
	if err := putJSON(ctx, s.Store, account, KindJob, id, j); err != nil {
		return err
	}
	if s.Jobs != nil {
		s.Jobs.Wake()
	}
	return nil
}
