// Package awscreds reads the AWS shared-credentials file format, which
// Coffer writes on first start and which every AWS tool reads; the CLI, the
// load generator and the test harnesses all parse it here.
package awscreds

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load reads keys from an AWS shared-credentials file:
//
//	[profile]
//	aws_access_key_id = ...
//	aws_secret_access_key = ...
//	aws_session_token = ...   (optional)
//
// An empty path means $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials;
// an empty profile means $AWS_PROFILE, else "default". A "[profile name]"
// header (the ~/.aws/config spelling) is accepted as well.
func Load(path, profile string) (accessKey, secret, token string, err error) {
	if path == "" {
		path = os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", "", fmt.Errorf("locate credentials file: %w", err)
		}
		path = filepath.Join(home, ".aws", "credentials")
	}
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	if profile == "" {
		profile = "default"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", "", fmt.Errorf("read credentials file: %w", err)
	}
	accessKey, secret, token, found, err := parse(data, profile)
	switch {
	case err != nil:
		return "", "", "", fmt.Errorf("%s: %w", path, err)
	case !found:
		return "", "", "", fmt.Errorf("%s: profile %q not found", path, profile)
	case accessKey == "" || secret == "":
		return "", "", "", fmt.Errorf("%s: profile %q lacks aws_access_key_id or aws_secret_access_key", path, profile)
	}
	return accessKey, secret, token, nil
}

// Parse reads one profile from credentials-file text, such as the section
// `coffer admin account create` prints.
func Parse(data []byte, profile string) (accessKey, secret, token string, err error) {
	accessKey, secret, token, found, err := parse(data, profile)
	switch {
	case err != nil:
		return "", "", "", err
	case !found:
		return "", "", "", fmt.Errorf("profile %q not found", profile)
	case accessKey == "" || secret == "":
		return "", "", "", fmt.Errorf("profile %q lacks aws_access_key_id or aws_secret_access_key", profile)
	}
	return accessKey, secret, token, nil
}

func parse(data []byte, profile string) (accessKey, secret, token string, found bool, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	inProfile := false
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\ufeff") // editors on Windows add a BOM
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return "", "", "", false, fmt.Errorf("line %d: malformed section header", lineNo)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if rest, ok := strings.CutPrefix(name, "profile "); ok {
				name = strings.TrimSpace(rest)
			}
			inProfile = name == profile
			found = found || inProfile
			continue
		}
		if !inProfile {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return "", "", "", false, fmt.Errorf("line %d: want key = value", lineNo)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "aws_access_key_id":
			accessKey = value
		case "aws_secret_access_key":
			secret = value
		case "aws_session_token":
			token = value
		}
	}
	return accessKey, secret, token, found, sc.Err()
}
