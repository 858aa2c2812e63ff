package s3api

// This file sorts after handler.go: its init must run after the one that
// fills the handler table.

// AWS Config (credential scope service "config", X-Amz-Target
// StarlingDoveService.<Op>) is a JSON-protocol service like KMS; its
// front door is internal/configapi.

// configMaxBody bounds an AWS Config request: the largest member is a
// rule's CEL expression or a conformance pack template (AWS: 51,200
// bytes).
const configMaxBody = 256 << 10

func init() {
	opTable[OpConfig] = opInfo{name: "Config", action: "config:*", scope: scopeService, maxBody: configMaxBody}
	handlers[OpConfig] = (*Handler).serveJSON
}

// jsonName names a JSON-protocol service in messages.
func (o Op) jsonName() string {
	if o == OpConfig {
		return "AWS Config"
	}
	return "KMS"
}
