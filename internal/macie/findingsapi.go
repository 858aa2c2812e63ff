package macie

import (
	"context"
	"sort"
	"strings"
)

// findingFields are the criteria and groupBy fields Coffer filters on:
// Macie's common ones. Others are refused rather than ignored.
var findingFields = map[string]bool{
	"accountId": true, "archived": true, "category": true, "count": true, "createdAt": true, "id": true,
	"region": true, "sample": true, "severity.description": true, "severity.score": true, "type": true,
	"updatedAt":                                                          true,
	"classificationDetails.jobId":                                        true,
	"classificationDetails.jobArn":                                       true,
	"classificationDetails.originType":                                   true,
	"classificationDetails.result.mimeType":                              true,
	"classificationDetails.result.sizeClassified":                        true,
	"classificationDetails.result.status.code":                           true,
	"classificationDetails.result.sensitiveData.category":                true,
	"classificationDetails.result.sensitiveData.detections.type":         true,
	"classificationDetails.result.sensitiveData.totalCount":              true,
	"classificationDetails.result.customDataIdentifiers.detections.arn":  true,
	"classificationDetails.result.customDataIdentifiers.detections.name": true,
	"resourcesAffected.s3Bucket.name":                                    true,
	"resourcesAffected.s3Bucket.arn":                                     true,
	"resourcesAffected.s3Bucket.publicAccess.effectivePermission":        true,
	"resourcesAffected.s3Bucket.owner.id":                                true,
	"resourcesAffected.s3Object.key":                                     true,
	"resourcesAffected.s3Object.extension":                               true,
	"resourcesAffected.s3Object.size":                                    true,
	"resourcesAffected.s3Object.versionId":                               true,
	"resourcesAffected.s3Object.publicAccess":                            true,
	"resourcesAffected.s3Object.serverSideEncryption.encryptionType":     true,
}

type findingCriteria struct {
	Criterion map[string]Criterion `json:"criterion"`
}

func (c *findingCriteria) check() error {
	if c == nil {
		return nil
	}
	for k := range c.Criterion {
		if !findingFields[k] {
			return validation("findingCriteria field " + k + " is not supported.")
		}
	}
	return nil
}

// Findings returns the account's findings that match criteria, sorted.
func (s *Service) Findings(ctx context.Context, account string, criteria map[string]Criterion, sc *SortCriteria) ([]*Finding, error) {
	all, err := listJSON[Finding](ctx, s.Store, account, KindFinding)
	if err != nil {
		return nil, err
	}
	// Archived findings are hidden unless a criterion asks for them, as
	// in Macie's console; the API returns them only when asked too.
	if _, ok := criteria["archived"]; !ok {
		if criteria == nil {
			criteria = map[string]Criterion{}
		}
		criteria = clone(criteria)
		criteria["archived"] = Criterion{Eq: []string{"false"}}
	}
	var out []*Finding
	for _, f := range all {
		if matches(asDoc(f), criteria) {
			out = append(out, f)
		}
	}
	sortFindings(out, sc)
	return out, nil
}

func clone(m map[string]Criterion) map[string]Criterion {
	c := make(map[string]Criterion, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func checkSort(sc *SortCriteria) error {
	if sc == nil {
		return nil
	}
	if sc.AttributeName != "" && !findingFields[sc.AttributeName] {
		return validation("sortCriteria.attributeName " + sc.AttributeName + " is not supported.")
	}
	if sc.OrderBy != "" && sc.OrderBy != "ASC" && sc.OrderBy != "DESC" {
		return validation("sortCriteria.orderBy must be ASC or DESC.")
	}
	return nil
}

func (s *Service) listFindings(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		FindingCriteria *findingCriteria `json:"findingCriteria"`
		MaxResults      int              `json:"maxResults"`
		NextToken       string           `json:"nextToken"`
		SortCriteria    *SortCriteria    `json:"sortCriteria"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := in.FindingCriteria.check(); err != nil {
		return nil, err
	}
	if err := checkSort(in.SortCriteria); err != nil {
		return nil, err
	}
	var crit map[string]Criterion
	if in.FindingCriteria != nil {
		crit = in.FindingCriteria.Criterion
	}
	fs, err := s.Findings(ctx, account, crit, in.SortCriteria)
	if err != nil {
		return nil, err
	}
	items, next, err := page(fs, in.MaxResults, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, f := range items {
		ids = append(ids, f.ID)
	}
	return map[string]any{"findingIds": ids, "nextToken": nullable(next)}, nil
}

func (s *Service) getFindings(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		FindingIds   []string      `json:"findingIds"`
		SortCriteria *SortCriteria `json:"sortCriteria"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if len(in.FindingIds) == 0 || len(in.FindingIds) > 50 {
		return nil, validation("findingIds must hold 1 to 50 ids.")
	}
	if err := checkSort(in.SortCriteria); err != nil {
		return nil, err
	}
	// Unknown ids are left out of the answer, as in Macie.
	out := []*Finding{}
	for _, id := range in.FindingIds {
		f, err := getJSON[Finding](ctx, s.Store, account, KindFinding, id)
		if err == nil {
			out = append(out, f)
		} else if err != ErrNotFound {
			return nil, err
		}
	}
	if in.SortCriteria != nil {
		sortFindings(out, in.SortCriteria)
	}
	return map[string]any{"findings": out}, nil
}

var groupByFields = map[string]bool{
	"resourcesAffected.s3Bucket.name": true, "type": true, "classificationDetails.jobId": true, "severity.description": true,
}

func (s *Service) findingStatistics(ctx context.Context, account string, body []byte) (any, error) {
	var in struct {
		FindingCriteria *findingCriteria `json:"findingCriteria"`
		GroupBy         string           `json:"groupBy"`
		Size            int              `json:"size"`
		SortCriteria    *struct {
			AttributeName string `json:"attributeName"`
			OrderBy       string `json:"orderBy"`
		} `json:"sortCriteria"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !groupByFields[in.GroupBy] {
		return nil, validation("groupBy must be resourcesAffected.s3Bucket.name, type, classificationDetails.jobId or severity.description.")
	}
	if err := in.FindingCriteria.check(); err != nil {
		return nil, err
	}
	var crit map[string]Criterion
	if in.FindingCriteria != nil {
		crit = in.FindingCriteria.Criterion
	}
	fs, err := s.Findings(ctx, account, crit, nil)
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, f := range fs {
		for _, v := range fieldValues(asDoc(f), strings.Split(in.GroupBy, ".")) {
			// Macie counts occurrences of findings (a finding's count).
			counts[str(v)] += max(f.Count, 1)
		}
	}
	type group struct {
		Count    int64  `json:"count"`
		GroupKey string `json:"groupKey"`
	}
	out := []group{}
	for k, n := range counts {
		out = append(out, group{n, k})
	}
	byKey, desc := false, true
	if sc := in.SortCriteria; sc != nil {
		switch sc.AttributeName {
		case "", "count":
		case "groupKey":
			byKey = true
		default:
			return nil, validation("sortCriteria.attributeName must be groupKey or count.")
		}
		desc = sc.OrderBy != "ASC"
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !byKey && a.Count != b.Count {
			return (a.Count > b.Count) == desc
		}
		if byKey {
			return (a.GroupKey > b.GroupKey) == desc
		}
		return a.GroupKey < b.GroupKey
	})
	if in.Size > 0 && len(out) > in.Size {
		out = out[:in.Size]
	}
	return map[string]any{"countsByGroup": out}, nil
}
