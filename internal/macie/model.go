package macie

// Records in Macie's JSON shapes: what the API returns is what is stored,
// so a record read back is a response member as it stands.

// Session is an account's Macie session. Macie is enabled for every
// account from the start: no stored record means ENABLED.
type Session struct {
	CreatedAt                  string `json:"createdAt"`
	FindingPublishingFrequency string `json:"findingPublishingFrequency"`
	ServiceRole                string `json:"serviceRole"`
	Status                     string `json:"status"`
	UpdatedAt                  string `json:"updatedAt"`
}

// CustomDataIdentifier is a custom data identifier.
type CustomDataIdentifier struct {
	Arn                  string            `json:"arn"`
	CreatedAt            string            `json:"createdAt"`
	Deleted              bool              `json:"deleted"`
	Description          string            `json:"description,omitempty"`
	ID                   string            `json:"id"`
	IgnoreWords          []string          `json:"ignoreWords,omitempty"`
	Keywords             []string          `json:"keywords,omitempty"`
	MaximumMatchDistance int               `json:"maximumMatchDistance"`
	Name                 string            `json:"name"`
	Regex                string            `json:"regex"`
	SeverityLevels       []SeverityLevel   `json:"severityLevels"`
	Tags                 map[string]string `json:"tags,omitempty"`
}

// SeverityLevel maps an occurrence count to a finding severity.
type SeverityLevel struct {
	OccurrencesThreshold int64  `json:"occurrencesThreshold"`
	Severity             string `json:"severity"`
}

// AllowList is an allow list: exact words or one pattern whose matches
// are never reported.
type AllowList struct {
	Arn         string            `json:"arn"`
	CreatedAt   string            `json:"createdAt"`
	Criteria    AllowListCriteria `json:"criteria"`
	Description string            `json:"description,omitempty"`
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Status      AllowListStatus   `json:"status"`
	Tags        map[string]string `json:"tags,omitempty"`
	UpdatedAt   string            `json:"updatedAt"`
	// Words are the list's entries. Macie reads them from an S3 object
	// (criteria.s3WordsList); Coffer reads that object when the list is
	// created and keeps the words.
	Words []string `json:"-"`
}

// AllowListCriteria is the regex or the S3 words list of an allow list.
type AllowListCriteria struct {
	Regex       string       `json:"regex,omitempty"`
	S3WordsList *S3WordsList `json:"s3WordsList,omitempty"`
}

// S3WordsList names the object holding an allow list's words.
type S3WordsList struct {
	BucketName string `json:"bucketName"`
	ObjectKey  string `json:"objectKey"`
}

// AllowListStatus is an allow list's status.
type AllowListStatus struct {
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
}

// storedAllowList keeps the words beside the public shape.
type storedAllowList struct {
	AllowList
	StoredWords []string `json:"words,omitempty"`
}
