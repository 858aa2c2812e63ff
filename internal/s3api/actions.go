package s3api

// IAMActionOf returns the IAM action of an operation as audit events name
// it ("GetObject" → "s3:GetObject", "ListObjectsV2" → "s3:ListBucket"),
// or "" for a name that is not an S3 operation. Actions refined by
// arguments (a version) are reported as the base action.
func IAMActionOf(operation string) string {
	for op := Op(1); op < numAllOps; op++ {
		if opTable[op].name == operation {
			return opTable[op].action
		}
	}
	return ""
}
