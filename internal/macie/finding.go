package macie

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Finding is a Macie finding in its JSON shape.
type Finding struct {
	AccountID             string                 `json:"accountId"`
	Archived              bool                   `json:"archived"`
	Category              string                 `json:"category"`
	ClassificationDetails *ClassificationDetails `json:"classificationDetails,omitempty"`
	Count                 int64                  `json:"count"`
	CreatedAt             string                 `json:"createdAt"`
	Description           string                 `json:"description"`
	ID                    string                 `json:"id"`
	Partition             string                 `json:"partition"`
	PolicyDetails         *PolicyDetails         `json:"policyDetails,omitempty"`
	Region                string                 `json:"region"`
	ResourcesAffected     ResourcesAffected      `json:"resourcesAffected"`
	Sample                bool                   `json:"sample"`
	SchemaVersion         string                 `json:"schemaVersion"`
	Severity              Severity               `json:"severity"`
	Title                 string                 `json:"title"`
	Type                  string                 `json:"type"`
	UpdatedAt             string                 `json:"updatedAt"`
}

// ClassificationDetails say which job found what.
type ClassificationDetails struct {
	DetailedResultsLocation string               `json:"detailedResultsLocation,omitempty"`
	JobArn                  string               `json:"jobArn,omitempty"`
	JobID                   string               `json:"jobId,omitempty"`
	OriginType              string               `json:"originType"`
	Result                  ClassificationResult `json:"result"`
}

// ClassificationResult is what a scan of one object found.
type ClassificationResult struct {
	AdditionalOccurrences bool                  `json:"additionalOccurrences"`
	CustomDataIdentifiers CustomDataIdentifiers `json:"customDataIdentifiers"`
	MimeType              string                `json:"mimeType"`
	SensitiveData         []SensitiveDataItem   `json:"sensitiveData"`
	SizeClassified        int64                 `json:"sizeClassified"`
	Status                ClassificationStatus  `json:"status"`
}

// CustomDataIdentifiers are the custom identifiers' detections.
type CustomDataIdentifiers struct {
	Detections []CustomDetection `json:"detections"`
	TotalCount int64             `json:"totalCount"`
}

// CustomDetection is one custom identifier's detections.
type CustomDetection struct {
	Arn         string       `json:"arn"`
	Count       int64        `json:"count"`
	Name        string       `json:"name"`
	Occurrences *Occurrences `json:"occurrences,omitempty"`
}

// SensitiveDataItem groups the managed detections of one category.
type SensitiveDataItem struct {
	Category   string             `json:"category"`
	Detections []DefaultDetection `json:"detections"`
	TotalCount int64              `json:"totalCount"`
}

// DefaultDetection is one managed identifier's detections.
type DefaultDetection struct {
	Count       int64        `json:"count"`
	Occurrences *Occurrences `json:"occurrences,omitempty"`
	Type        string       `json:"type"`
}

// Occurrences locate detections (at most 15 of each kind, as Macie).
type Occurrences struct {
	Cells        []Cell   `json:"cells,omitempty"`
	LineRanges   []Range  `json:"lineRanges,omitempty"`
	OffsetRanges []Range  `json:"offsetRanges,omitempty"`
	Pages        []Page   `json:"pages,omitempty"`
	Records      []Record `json:"records,omitempty"`
}

// Cell is a CSV/TSV/xlsx cell.
type Cell struct {
	CellReference string `json:"cellReference,omitempty"`
	Column        int64  `json:"column"`
	ColumnName    string `json:"columnName,omitempty"`
	Row           int64  `json:"row"`
}

// Range is a line or byte range.
type Range struct {
	End         int64 `json:"end"`
	Start       int64 `json:"start"`
	StartColumn int64 `json:"startColumn"`
}

// Page is a PDF page location.
type Page struct {
	LineRange   *Range `json:"lineRange,omitempty"`
	OffsetRange *Range `json:"offsetRange,omitempty"`
	PageNumber  int64  `json:"pageNumber"`
}

// Record is a JSON, JSON Lines or Parquet record location.
type Record struct {
	JSONPath    string `json:"jsonPath,omitempty"`
	RecordIndex int64  `json:"recordIndex"`
}

// ClassificationStatus is COMPLETE, PARTIAL or SKIPPED with a reason.
type ClassificationStatus struct {
	Code   string `json:"code"`
	Reason string `json:"reason,omitempty"`
}

// PolicyDetails describe what made a policy finding.
type PolicyDetails struct {
	Action *struct {
		ActionType string `json:"actionType"`
	} `json:"action,omitempty"`
}

// ResourcesAffected are the bucket and object of a finding.
type ResourcesAffected struct {
	S3Bucket *S3Bucket `json:"s3Bucket,omitempty"`
	S3Object *S3Object `json:"s3Object,omitempty"`
}

// S3Bucket describes a bucket as findings do.
type S3Bucket struct {
	Arn                         string                `json:"arn"`
	CreatedAt                   string                `json:"createdAt,omitempty"`
	DefaultServerSideEncryption *ServerSideEncryption `json:"defaultServerSideEncryption,omitempty"`
	Name                        string                `json:"name"`
	Owner                       *Owner                `json:"owner,omitempty"`
	PublicAccess                *PublicAccess         `json:"publicAccess,omitempty"`
	// AllowsUnencryptedObjectUploads is TRUE, FALSE or UNKNOWN.
	AllowsUnencryptedObjectUploads string `json:"allowsUnencryptedObjectUploads,omitempty"`
}

// ServerSideEncryption is an encryption setting.
type ServerSideEncryption struct {
	EncryptionType string `json:"encryptionType"`
	KMSMasterKeyID string `json:"kmsMasterKeyId,omitempty"`
}

// Owner is a bucket's owner.
type Owner struct {
	DisplayName string `json:"displayName,omitempty"`
	ID          string `json:"id"`
}

// PublicAccess is a bucket's effective public access.
type PublicAccess struct {
	// EffectivePermission is PUBLIC, NOT_PUBLIC or UNKNOWN.
	EffectivePermission string `json:"effectivePermission"`
}

// S3Object describes an object as findings do.
type S3Object struct {
	BucketArn            string                `json:"bucketArn"`
	ETag                 string                `json:"eTag,omitempty"`
	Extension            string                `json:"extension,omitempty"`
	Key                  string                `json:"key"`
	LastModified         string                `json:"lastModified,omitempty"`
	Path                 string                `json:"path"`
	PublicAccess         bool                  `json:"publicAccess"`
	ServerSideEncryption *ServerSideEncryption `json:"serverSideEncryption,omitempty"`
	Size                 int64                 `json:"size"`
	StorageClass         string                `json:"storageClass,omitempty"`
	Tags                 []TagValue            `json:"tags,omitempty"`
	VersionID            string                `json:"versionId,omitempty"`
}

// Severity is a finding's severity.
type Severity struct {
	Description string `json:"description"`
	Score       int    `json:"score"`
}

var severityScore = map[string]int{"Low": 1, "Medium": 2, "High": 3}

func severity(d string) Severity { return Severity{Description: d, Score: severityScore[d]} }

// raise returns s one level higher (High stays High).
func raise(s Severity) Severity {
	switch s.Description {
	case "Low":
		return severity("Medium")
	default:
		return severity("High")
	}
}

// Managed categories as Macie names them.
const (
	CategoryCredentials = "CREDENTIALS"
	CategoryFinancial   = "FINANCIAL_INFORMATION"
	CategoryPersonal    = "PERSONAL_INFORMATION"
	CategoryCustom      = "CUSTOM_IDENTIFIER"
)

// classificationType and base severity of a result, following Macie's
// scoring: credentials are High at once; financial data Medium below 100
// occurrences and High from there; personal data Low below 100,
// Medium from 100 and High from 1000 (with only a few identifiers'
// types); custom identifiers use their severityLevels (default Medium
// from one occurrence); several categories make a Multiple finding
// rated by its most severe part.
func classify(r *ClassificationResult, custom map[string]*CustomDataIdentifier) (string, Severity) {
	cats := map[string]bool{}
	best := 0
	note := func(cat string, s int) {
		cats[cat] = true
		if s > best {
			best = s
		}
	}
	for _, sd := range r.SensitiveData {
		if sd.TotalCount == 0 {
			continue
		}
		switch sd.Category {
		case CategoryCredentials:
			note(sd.Category, 3)
		case CategoryFinancial:
			note(sd.Category, pick(sd.TotalCount, 2, 100, 3, 1<<62, 3))
		default:
			note(CategoryPersonal, pick(sd.TotalCount, 1, 100, 2, 1000, 3))
		}
	}
	for _, d := range r.CustomDataIdentifiers.Detections {
		if d.Count == 0 {
			continue
		}
		s := 2
		if c := custom[d.Arn]; c != nil && len(c.SeverityLevels) > 0 {
			s = 0
			for _, l := range c.SeverityLevels {
				if d.Count >= l.OccurrencesThreshold && severityScore[titleCase(l.Severity)] > s {
					s = severityScore[titleCase(l.Severity)]
				}
			}
			if s == 0 {
				// Below every threshold: Macie reports nothing for it.
				continue
			}
		}
		note(CategoryCustom, s)
	}
	if len(cats) == 0 {
		return "", Severity{}
	}
	names := map[int]string{1: "Low", 2: "Medium", 3: "High"}
	if len(cats) > 1 {
		return "SensitiveData:S3Object/Multiple", severity(names[best])
	}
	for c := range cats {
		return "SensitiveData:S3Object/" + map[string]string{
			CategoryCredentials: "Credentials", CategoryFinancial: "Financial",
			CategoryPersonal: "Personal", CategoryCustom: "CustomIdentifier",
		}[c], severity(names[best])
	}
	return "", Severity{}
}

func pick(n int64, lo int, t1 int64, mid int, t2 int64, hi int) int {
	switch {
	case n >= t2:
		return hi
	case n >= t1:
		return mid
	}
	return lo
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

// Criterion is one findingCriteria condition.
type Criterion struct {
	Eq           []string `json:"eq,omitempty"`
	EqExactMatch []string `json:"eqExactMatch,omitempty"`
	Neq          []string `json:"neq,omitempty"`
	Gt           *float64 `json:"gt,omitempty"`
	Gte          *float64 `json:"gte,omitempty"`
	Lt           *float64 `json:"lt,omitempty"`
	Lte          *float64 `json:"lte,omitempty"`
}

// asDoc turns a finding into the generic document criteria are
// evaluated on: criteria name fields by their JSON paths.
func asDoc(f *Finding) map[string]any {
	b, _ := json.Marshal(f)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// fieldValues collects the values at a dotted path, flattening arrays
// (resourcesAffected.s3Object.tags.key, classificationDetails.result.
// sensitiveData.category, …).
func fieldValues(v any, path []string) []any {
	if len(path) == 0 {
		if a, ok := v.([]any); ok {
			return a
		}
		if v == nil {
			return nil
		}
		return []any{v}
	}
	switch t := v.(type) {
	case map[string]any:
		return fieldValues(t[path[0]], path[1:])
	case []any:
		var out []any
		for _, e := range t {
			out = append(out, fieldValues(e, path)...)
		}
		return out
	}
	return nil
}

func str(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return strconvFloat(t)
	case bool:
		if t {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}

func strconvFloat(f float64) string {
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprint(f)
}

// num reads a value as a number; times (createdAt, …) compare as epoch
// milliseconds, as Macie's criteria give them.
func num(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case string:
		if tm, err := parseTime(t); err == nil {
			return float64(tm.UnixMilli()), true
		}
	}
	return 0, false
}

// matches reports whether a finding satisfies every criterion.
func matches(doc map[string]any, criteria map[string]Criterion) bool {
	for field, c := range criteria {
		vals := fieldValues(doc, strings.Split(field, "."))
		if !c.match(vals) {
			return false
		}
	}
	return true
}

func (c Criterion) match(vals []any) bool {
	has := func(list []string, fold bool) bool {
		for _, v := range vals {
			for _, w := range list {
				if str(v) == w || (fold && strings.EqualFold(str(v), w)) {
					return true
				}
			}
		}
		return false
	}
	if len(c.Eq) > 0 && !has(c.Eq, true) {
		return false
	}
	if len(c.EqExactMatch) > 0 && !has(c.EqExactMatch, false) {
		return false
	}
	if len(c.Neq) > 0 && has(c.Neq, true) {
		return false
	}
	for _, b := range []struct {
		bound *float64
		ok    func(x, b float64) bool
	}{
		{c.Gt, func(x, b float64) bool { return x > b }},
		{c.Gte, func(x, b float64) bool { return x >= b }},
		{c.Lt, func(x, b float64) bool { return x < b }},
		{c.Lte, func(x, b float64) bool { return x <= b }},
	} {
		if b.bound == nil {
			continue
		}
		found := false
		for _, v := range vals {
			if x, ok := num(v); ok && b.ok(x, *b.bound) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// SortCriteria orders findings.
type SortCriteria struct {
	AttributeName string `json:"attributeName"`
	OrderBy       string `json:"orderBy"`
}

// sortFindings orders findings (default: newest update first).
func sortFindings(fs []*Finding, sc *SortCriteria) {
	attr, desc := "updatedAt", true
	if sc != nil && sc.AttributeName != "" {
		attr, desc = sc.AttributeName, sc.OrderBy != "ASC"
	}
	key := func(f *Finding) (float64, string) {
		vs := fieldValues(asDoc(f), strings.Split(attr, "."))
		if len(vs) == 0 {
			return 0, ""
		}
		if n, ok := num(vs[0]); ok {
			return n, ""
		}
		return 0, str(vs[0])
	}
	sort.SliceStable(fs, func(i, j int) bool {
		ni, si := key(fs[i])
		nj, sj := key(fs[j])
		less := ni < nj || (ni == nj && si < sj)
		if desc {
			less = ni > nj || (ni == nj && si > sj)
		}
		if ni == nj && si == sj {
			return fs[i].ID < fs[j].ID
		}
		return less
	})
}
