package awscreds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	const file = `# shared credentials
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret/default+1

; a second profile, with a session token and odd spacing
[ bench ]
AWS_ACCESS_KEY_ID=AKIDBENCH
	aws_secret_access_key   =  s3cr3t=with=equals
aws_session_token = tok/en+==
region = eu-west-1

[profile cfgstyle]
aws_access_key_id = AKIDCFG
aws_secret_access_key = cfgsecret

[nosecret]
aws_access_key_id = AKIDNOSECRET

[broken]
this line has no equals sign
`
	tests := []struct {
		name, profile, content string
		env                    map[string]string
		wantKey, wantSecret    string
		wantToken              string
		wantErr                string
	}{
		{name: "default profile", wantKey: "AKIDDEFAULT", wantSecret: "secret/default+1"},
		{name: "named profile with token", profile: "bench",
			wantKey: "AKIDBENCH", wantSecret: "s3cr3t=with=equals", wantToken: "tok/en+=="},
		{name: "profile from environment", env: map[string]string{"AWS_PROFILE": "bench"},
			wantKey: "AKIDBENCH", wantSecret: "s3cr3t=with=equals", wantToken: "tok/en+=="},
		{name: "config-file style header", profile: "cfgstyle", wantKey: "AKIDCFG", wantSecret: "cfgsecret"},
		{name: "byte order mark", content: "\ufeff[default]\naws_access_key_id=A\naws_secret_access_key=S\n",
			wantKey: "A", wantSecret: "S"},
		{name: "missing profile", profile: "nope", wantErr: `profile "nope" not found`},
		{name: "missing secret", profile: "nosecret", wantErr: "lacks"},
		{name: "malformed line", profile: "broken", wantErr: "line 21"},
		{name: "malformed header", content: "[default\n", wantErr: "section header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_PROFILE", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			content := tc.content
			if content == "" {
				content = file
			}
			path := filepath.Join(t.TempDir(), "credentials")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			key, secret, token, err := Load(path, tc.profile)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key != tc.wantKey || secret != tc.wantSecret || token != tc.wantToken {
				t.Errorf("got %q %q %q, want %q %q %q", key, secret, token, tc.wantKey, tc.wantSecret, tc.wantToken)
			}
		})
	}
}

func TestLoadCredentialsFileDefaultPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "creds")
	if err := os.WriteFile(path, []byte("[ci]\naws_access_key_id=K\naws_secret_access_key=S\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", path)
	t.Setenv("AWS_PROFILE", "ci")
	key, secret, _, err := Load("", "")
	if err != nil || key != "K" || secret != "S" {
		t.Fatalf("got %q %q %v", key, secret, err)
	}

	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "missing"))
	if _, _, _, err := Load("", "ci"); err == nil {
		t.Fatal("missing file: no error")
	}
}
