package s3api

// This file sorts after handler.go: its init must run after the one that
// fills the handler table.

// CloudTrail's JSON API (credential scope service "cloudtrail",
// X-Amz-Target com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.*)
// is served by the JSON-protocol path; its requests are small documents.
func init() {
	opTable[OpCloudTrail] = opInfo{name: "CloudTrail", action: "cloudtrail:*", scope: scopeService, maxBody: 256 << 10}
	handlers[OpCloudTrail] = (*Handler).serveJSON
}
