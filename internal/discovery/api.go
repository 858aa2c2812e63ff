// Package discovery is Coffer's sensitive-data detection engine: managed
// data identifiers (Amazon Macie's ids and categories), custom identifiers,
// allow lists, and the format readers that turn an object's bytes into text,
// cells and records with Macie's occurrence locations. It is pure: it reads
// an io.Reader and returns a Result; jobs, findings and storage live
// elsewhere.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Category is Macie's SensitiveDataItemCategory.
type Category string

// Categories of sensitive data.
const (
	CategoryCredentials Category = "CREDENTIALS"
	CategoryFinancial   Category = "FINANCIAL_INFORMATION"
	CategoryPersonal    Category = "PERSONAL_INFORMATION"
	CategoryCustom      Category = "CUSTOM_IDENTIFIER"
)

// ManagedIdentifier describes one managed data identifier, as
// ListManagedDataIdentifiers returns it.
type ManagedIdentifier struct {
	ID       string   `json:"id"`
	Category Category `json:"category"`
}

// Selection is Macie's ManagedDataIdentifierSelector.
type Selection string

// Managed identifier selection modes.
const (
	SelectAll         Selection = "ALL"
	SelectExclude     Selection = "EXCLUDE"
	SelectInclude     Selection = "INCLUDE"
	SelectNone        Selection = "NONE"
	SelectRecommended Selection = "RECOMMENDED"
)

// CustomIdentifier is a custom data identifier (CreateCustomDataIdentifier).
type CustomIdentifier struct {
	ID                   string   // Macie's id; reported in Detection.CustomID
	ARN                  string   // reported in Detection.ARN
	Name                 string   // reported in Detection.Name
	Regex                string   // RE2, at most 512 characters
	Keywords             []string // at most 50, each 3–90 characters; one must precede the match
	IgnoreWords          []string // at most 10, each 4–90 characters, case-sensitive
	MaximumMatchDistance int      // 1–300; 0 means the default 50
}

// AllowList excludes text from results: exact words and/or one regex.
type AllowList struct {
	ID    string
	Words []string // exact strings (an s3WordsList's lines)
	Regex string   // RE2, at most 512 characters
}

// Limits bound the work one object may cost, so a hostile file cannot
// exhaust the scanner. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	MaxExpandedBytes int64         // total bytes produced by decompression and extraction
	MaxBufferedBytes int64         // largest single member held in memory (zip, docx, xlsx, pdf)
	MaxDepth         int           // archive nesting depth (0 = the object itself)
	MaxEntries       int           // archive members in total
	MaxRatio         int64         // expansion ratio of a compressed stream over its input
	MaxLineBytes     int           // longest line (or cell) kept whole; longer ones are cut with overlap
	Timeout          time.Duration // wall-clock time for one object
}

// DefaultLimits are the budgets applied when Config.Limits leaves a field zero.
var DefaultLimits = Limits{
	MaxExpandedBytes: 1 << 30,
	MaxBufferedBytes: 64 << 20,
	MaxDepth:         5,
	MaxEntries:       10000,
	MaxRatio:         200,
	MaxLineBytes:     1 << 20,
	Timeout:          10 * time.Minute,
}

// Config selects identifiers and budgets for an Engine.
type Config struct {
	Selection   Selection // "" means ALL
	ManagedIDs  []string  // for INCLUDE and EXCLUDE
	Custom      []CustomIdentifier
	AllowLists  []AllowList
	Limits      Limits
	MaxFindings int // occurrence locations kept per detection; 0 = 15 (Macie's)
}

// LineRange is Macie's Range for lineRanges and offsetRanges (1-based lines
// and columns; offsets are 0-based byte offsets).
type LineRange struct {
	Start       int64  `json:"start"`
	End         int64  `json:"end"`
	StartColumn int64  `json:"startColumn"`
	Entry       string `json:"-"` // archive member the occurrence is in, "" for the object itself
}

// Cell is Macie's Cell (row and column are 1-based; the header row is row 1).
type Cell struct {
	Row           int64  `json:"row"`
	Column        int64  `json:"column"`
	ColumnName    string `json:"columnName,omitempty"`
	CellReference string `json:"cellReference,omitempty"`
	Entry         string `json:"-"`
}

// Record is Macie's Record (record index from 0).
type Record struct {
	RecordIndex int64  `json:"recordIndex"`
	JSONPath    string `json:"jsonPath"`
	Entry       string `json:"-"`
}

// Page is Macie's Page.
type Page struct {
	PageNumber  int64      `json:"pageNumber"`
	LineRange   *LineRange `json:"lineRange,omitempty"`
	OffsetRange *LineRange `json:"offsetRange,omitempty"`
	Entry       string     `json:"-"`
}

// Occurrences is Macie's Occurrences: where a detection was found.
type Occurrences struct {
	LineRanges   []LineRange `json:"lineRanges,omitempty"`
	OffsetRanges []LineRange `json:"offsetRanges,omitempty"`
	Cells        []Cell      `json:"cells,omitempty"`
	Records      []Record    `json:"records,omitempty"`
	Pages        []Page      `json:"pages,omitempty"`
}

func (o *Occurrences) len() int {
	return len(o.LineRanges) + len(o.OffsetRanges) + len(o.Cells) + len(o.Records) + len(o.Pages)
}

// Detection is one identifier's matches in an object.
type Detection struct {
	Type     string   // managed identifier id ("" for a custom one)
	CustomID string   // custom identifier id ("" for a managed one)
	ARN      string   // custom identifier ARN
	Name     string   // custom identifier name
	Category Category // CUSTOM_IDENTIFIER for custom identifiers
	Count    int64    // every match, including those beyond the kept occurrences
	// Occurrences keeps at most Config.MaxFindings locations.
	Occurrences Occurrences
}

// Status is Macie's ClassificationResultStatus code.
type Status string

// Result status codes.
const (
	StatusComplete Status = "COMPLETE"
	StatusPartial  Status = "PARTIAL"
	StatusSkipped  Status = "SKIPPED"
)

// ErrorKind classifies a per-object error.
type ErrorKind string

// Per-object error kinds; Reason strings follow Macie's where one exists.
const (
	ErrBudget      ErrorKind = "BUDGET_EXCEEDED"
	ErrMalformed   ErrorKind = "MALFORMED"
	ErrUnsupported ErrorKind = "UNSUPPORTED"
)

// ObjectError says why an object was scanned only in part or not at all.
// Its text names the budget or defect, never object content.
type ObjectError struct {
	Kind   ErrorKind
	Reason string // Macie-style reason, e.g. ARCHIVE_EXCEEDS_SIZE_LIMIT, UNSUPPORTED_FILE_TYPE
	Entry  string // archive member concerned, if any
	Detail string
}

func (e *ObjectError) Error() string {
	s := string(e.Kind) + ": " + e.Reason
	if e.Entry != "" {
		s += " (" + e.Entry + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Result is what one object's scan found.
type Result struct {
	MIMEType       string
	SizeClassified int64 // bytes of content examined (after decompression)
	Status         Status
	Err            *ObjectError // set when Status is not COMPLETE
	Detections     []Detection  // managed first, then custom; sorted by id
	// AdditionalOccurrences is true when some detection has more matches than kept locations.
	AdditionalOccurrences bool
}

// Total counts all matches of a category (use CategoryCustom for custom identifiers).
func (r *Result) Total(c Category) int64 {
	var n int64
	for _, d := range r.Detections {
		if d.Category == c {
			n += d.Count
		}
	}
	return n
}

// ErrInvalidConfig wraps configuration errors from New and the Validate methods.
var ErrInvalidConfig = errors.New("discovery: invalid configuration")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
}

// Scan reads one object and reports its sensitive data. name (the object
// key) helps pick the format; size may be -1 when unknown. The returned
// error is only for the context ending or the reader failing; problems with
// the object itself are in Result.Err with Status PARTIAL or SKIPPED.
func (e *Engine) Scan(ctx context.Context, r io.Reader, name string, size int64) (*Result, error) {
	return e.scan(ctx, r, name, size)
}

// RecordReader reads a columnar file held in memory and calls emit for
// every non-null value with its record index (from 0) and column path
// ("$.a.b"); an error from emit stops it and is returned. Content it
// cannot read gives an error wrapping ErrMalformedRecords.
type RecordReader func(ctx context.Context, data []byte, emit func(record int64, path string, value []byte) error) error

// ErrMalformedRecords marks content a RecordReader could not read.
var ErrMalformedRecords = errors.New("discovery: malformed records")

var parquetReader RecordReader

// RegisterParquet installs the Parquet reader. It lives in package
// discovery/parquetrec, which registers itself when imported, because its
// compression dependencies pull in net/http and this package stays pure.
// Without it Parquet objects are SKIPPED as UNSUPPORTED_FILE_TYPE.
func RegisterParquet(r RecordReader) { parquetReader = r }
