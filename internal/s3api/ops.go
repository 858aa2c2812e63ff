package s3api

// Op identifies an S3 operation. Every request is classified into exactly
// one Op before anything else happens; the table below is the one place that
// says, per operation, which IAM action it needs and how it is handled.
type Op int

// The operations Coffer recognises. Names follow the S3 API reference.
const (
	OpUnknown Op = iota
	OpListBuckets
	OpCreateBucket
	OpHeadBucket
	OpDeleteBucket
	OpGetBucketLocation
	OpListObjects
	OpListObjectsV2
	OpListObjectVersions
	OpListMultipartUploads
	OpGetBucketVersioning
	OpPutBucketVersioning
	OpGetBucketTagging
	OpPutBucketTagging
	OpDeleteBucketTagging
	OpGetBucketCors
	OpPutBucketCors
	OpDeleteBucketCors
	OpGetBucketAcl
	OpPutBucketAcl
	OpGetBucketPolicy
	OpPutBucketPolicy
	OpDeleteBucketPolicy
	OpGetBucketPolicyStatus
	OpDeleteObjects
	OpPostObject
	OpPutObject
	OpCopyObject
	OpGetObject
	OpHeadObject
	OpDeleteObject
	OpGetObjectAttributes
	OpGetObjectTagging
	OpPutObjectTagging
	OpDeleteObjectTagging
	OpGetObjectAcl
	OpPutObjectAcl
	OpCreateMultipartUpload
	OpUploadPart
	OpUploadPartCopy
	OpCompleteMultipartUpload
	OpAbortMultipartUpload
	OpListParts
	// Data protection: Object Lock and lifecycle.
	OpGetObjectLockConfiguration
	OpPutObjectLockConfiguration
	OpGetObjectRetention
	OpPutObjectRetention
	OpGetObjectLegalHold
	OpPutObjectLegalHold
	OpGetBucketLifecycleConfiguration
	OpPutBucketLifecycleConfiguration
	OpDeleteBucketLifecycle
	OpPreflight // CORS OPTIONS
	OpGetBucketEncryption
	OpPutBucketEncryption
	OpDeleteBucketEncryption
	// Server access logging.
	OpGetBucketLogging
	OpPutBucketLogging
	// OpNotImplemented is a recognised S3 operation that Coffer does not
	// serve yet; it is answered with NotImplemented after authentication.
	OpNotImplemented
	// Operations outside the S3 REST API proper, on the same pipeline.
	OpGetPublicAccessBlock
	OpPutPublicAccessBlock
	OpDeletePublicAccessBlock
	OpGetBucketOwnershipControls
	OpPutBucketOwnershipControls
	OpDeleteBucketOwnershipControls
	OpGetAccountPublicAccessBlock // S3 Control
	OpPutAccountPublicAccessBlock
	OpDeleteAccountPublicAccessBlock
	OpAdminCreateAccount // admin API
	OpAdminAnalyze
	OpIAM // Query protocol
	OpSTS
	OpKMS        // JSON protocol
	OpCloudTrail // JSON protocol
	OpConfig     // JSON protocol
	OpMacie      // REST-JSON protocol
	numAllOps
)

// Resource scopes for building the resource ARN.
const (
	scopeService = iota
	scopeBucket
	scopeObject
)

type opInfo struct {
	name   string
	action string // IAM action
	scope  int
	// maxBody bounds the request body for operations whose body is a
	// document (XML); 0 means the body is object data or must be empty.
	maxBody int64
	// readOnly is used by audit (CloudTrail readOnly).
	readOnly bool
}

const docLimit = 1 << 20

var opTable = [numAllOps]opInfo{
	OpUnknown:                 {name: "Unknown", scope: scopeService},
	OpListBuckets:             {name: "ListBuckets", action: "s3:ListAllMyBuckets", scope: scopeService, readOnly: true},
	OpCreateBucket:            {name: "CreateBucket", action: "s3:CreateBucket", scope: scopeBucket, maxBody: docLimit},
	OpHeadBucket:              {name: "HeadBucket", action: "s3:ListBucket", scope: scopeBucket, readOnly: true},
	OpDeleteBucket:            {name: "DeleteBucket", action: "s3:DeleteBucket", scope: scopeBucket},
	OpGetBucketLocation:       {name: "GetBucketLocation", action: "s3:GetBucketLocation", scope: scopeBucket, readOnly: true},
	OpListObjects:             {name: "ListObjects", action: "s3:ListBucket", scope: scopeBucket, readOnly: true},
	OpListObjectsV2:           {name: "ListObjectsV2", action: "s3:ListBucket", scope: scopeBucket, readOnly: true},
	OpListObjectVersions:      {name: "ListObjectVersions", action: "s3:ListBucketVersions", scope: scopeBucket, readOnly: true},
	OpListMultipartUploads:    {name: "ListMultipartUploads", action: "s3:ListBucketMultipartUploads", scope: scopeBucket, readOnly: true},
	OpGetBucketVersioning:     {name: "GetBucketVersioning", action: "s3:GetBucketVersioning", scope: scopeBucket, readOnly: true},
	OpPutBucketVersioning:     {name: "PutBucketVersioning", action: "s3:PutBucketVersioning", scope: scopeBucket, maxBody: docLimit},
	OpGetBucketTagging:        {name: "GetBucketTagging", action: "s3:GetBucketTagging", scope: scopeBucket, readOnly: true},
	OpPutBucketTagging:        {name: "PutBucketTagging", action: "s3:PutBucketTagging", scope: scopeBucket, maxBody: docLimit},
	OpDeleteBucketTagging:     {name: "DeleteBucketTagging", action: "s3:PutBucketTagging", scope: scopeBucket},
	OpGetBucketCors:           {name: "GetBucketCors", action: "s3:GetBucketCORS", scope: scopeBucket, readOnly: true},
	OpPutBucketCors:           {name: "PutBucketCors", action: "s3:PutBucketCORS", scope: scopeBucket, maxBody: docLimit},
	OpDeleteBucketCors:        {name: "DeleteBucketCors", action: "s3:PutBucketCORS", scope: scopeBucket},
	OpGetBucketAcl:            {name: "GetBucketAcl", action: "s3:GetBucketAcl", scope: scopeBucket, readOnly: true},
	OpPutBucketAcl:            {name: "PutBucketAcl", action: "s3:PutBucketAcl", scope: scopeBucket, maxBody: docLimit},
	OpGetBucketPolicy:         {name: "GetBucketPolicy", action: "s3:GetBucketPolicy", scope: scopeBucket, readOnly: true},
	OpPutBucketPolicy:         {name: "PutBucketPolicy", action: "s3:PutBucketPolicy", scope: scopeBucket, maxBody: maxBucketPolicy + 1024},
	OpDeleteBucketPolicy:      {name: "DeleteBucketPolicy", action: "s3:DeleteBucketPolicy", scope: scopeBucket},
	OpGetBucketPolicyStatus:   {name: "GetBucketPolicyStatus", action: "s3:GetBucketPolicyStatus", scope: scopeBucket, readOnly: true},
	OpDeleteObjects:           {name: "DeleteObjects", action: "s3:DeleteObject", scope: scopeBucket, maxBody: 2 * docLimit},
	OpPostObject:              {name: "PostObject", action: "s3:PutObject", scope: scopeObject},
	OpPutObject:               {name: "PutObject", action: "s3:PutObject", scope: scopeObject},
	OpCopyObject:              {name: "CopyObject", action: "s3:PutObject", scope: scopeObject},
	OpGetObject:               {name: "GetObject", action: "s3:GetObject", scope: scopeObject, readOnly: true},
	OpHeadObject:              {name: "HeadObject", action: "s3:GetObject", scope: scopeObject, readOnly: true},
	OpDeleteObject:            {name: "DeleteObject", action: "s3:DeleteObject", scope: scopeObject},
	OpGetObjectAttributes:     {name: "GetObjectAttributes", action: "s3:GetObjectAttributes", scope: scopeObject, readOnly: true},
	OpGetObjectTagging:        {name: "GetObjectTagging", action: "s3:GetObjectTagging", scope: scopeObject, readOnly: true},
	OpPutObjectTagging:        {name: "PutObjectTagging", action: "s3:PutObjectTagging", scope: scopeObject, maxBody: docLimit},
	OpDeleteObjectTagging:     {name: "DeleteObjectTagging", action: "s3:DeleteObjectTagging", scope: scopeObject},
	OpGetObjectAcl:            {name: "GetObjectAcl", action: "s3:GetObjectAcl", scope: scopeObject, readOnly: true},
	OpPutObjectAcl:            {name: "PutObjectAcl", action: "s3:PutObjectAcl", scope: scopeObject, maxBody: docLimit},
	OpCreateMultipartUpload:   {name: "CreateMultipartUpload", action: "s3:PutObject", scope: scopeObject},
	OpUploadPart:              {name: "UploadPart", action: "s3:PutObject", scope: scopeObject},
	OpUploadPartCopy:          {name: "UploadPartCopy", action: "s3:PutObject", scope: scopeObject},
	OpCompleteMultipartUpload: {name: "CompleteMultipartUpload", action: "s3:PutObject", scope: scopeObject, maxBody: 4 * docLimit},
	OpAbortMultipartUpload:    {name: "AbortMultipartUpload", action: "s3:AbortMultipartUpload", scope: scopeObject},
	OpListParts:               {name: "ListParts", action: "s3:ListMultipartUploadParts", scope: scopeObject, readOnly: true},
	OpPreflight:               {name: "PreflightRequest", scope: scopeObject, readOnly: true},
	OpGetBucketEncryption:     {name: "GetBucketEncryption", action: "s3:GetEncryptionConfiguration", scope: scopeBucket, readOnly: true},
	OpPutBucketEncryption:     {name: "PutBucketEncryption", action: "s3:PutEncryptionConfiguration", scope: scopeBucket, maxBody: docLimit},
	OpDeleteBucketEncryption:  {name: "DeleteBucketEncryption", action: "s3:PutEncryptionConfiguration", scope: scopeBucket},
	OpNotImplemented:          {name: "NotImplemented", scope: scopeService},

	// Data protection: Object Lock and lifecycle.
	OpGetObjectLockConfiguration:      {name: "GetObjectLockConfiguration", action: "s3:GetBucketObjectLockConfiguration", scope: scopeBucket, readOnly: true},
	OpPutObjectLockConfiguration:      {name: "PutObjectLockConfiguration", action: "s3:PutBucketObjectLockConfiguration", scope: scopeBucket, maxBody: docLimit},
	OpGetObjectRetention:              {name: "GetObjectRetention", action: "s3:GetObjectRetention", scope: scopeObject, readOnly: true},
	OpPutObjectRetention:              {name: "PutObjectRetention", action: "s3:PutObjectRetention", scope: scopeObject, maxBody: docLimit},
	OpGetObjectLegalHold:              {name: "GetObjectLegalHold", action: "s3:GetObjectLegalHold", scope: scopeObject, readOnly: true},
	OpPutObjectLegalHold:              {name: "PutObjectLegalHold", action: "s3:PutObjectLegalHold", scope: scopeObject, maxBody: docLimit},
	OpGetBucketLifecycleConfiguration: {name: "GetBucketLifecycleConfiguration", action: "s3:GetLifecycleConfiguration", scope: scopeBucket, readOnly: true},
	OpPutBucketLifecycleConfiguration: {name: "PutBucketLifecycleConfiguration", action: "s3:PutLifecycleConfiguration", scope: scopeBucket, maxBody: docLimit},
	OpDeleteBucketLifecycle:           {name: "DeleteBucketLifecycle", action: "s3:PutLifecycleConfiguration", scope: scopeBucket},

	// Server access logging.
	OpGetBucketLogging: {name: "GetBucketLogging", action: "s3:GetBucketLogging", scope: scopeBucket, readOnly: true},
	OpPutBucketLogging: {name: "PutBucketLogging", action: "s3:PutBucketLogging", scope: scopeBucket, maxBody: docLimit},
}

// String returns the S3 operation name.
func (o Op) String() string { return opTable[o].name }
