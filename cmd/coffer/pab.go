package main

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// The account-level Block Public Access settings, through the S3 Control
// API that `aws s3control` speaks (which needs the account id prefixed to
// the host name; this command talks to the endpoint directly).

type pabCmd struct {
	Get pabGetCmd `cmd:"" help:"Print the account's Block Public Access settings."`
	Put pabPutCmd `cmd:"" help:"Set the account's Block Public Access settings."`
}

type pabConfig struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

const pabPath = "/v20180820/configuration/publicAccessBlock"

type pabGetCmd struct {
	AccountID string `name:"account-id" required:"" help:"The caller's 12-digit account id."`
	remoteFlags
}

func (c *pabGetCmd) Run() error {
	if c.Endpoint == "" {
		return errors.New("give --endpoint")
	}
	raw, err := c.signedCall(http.MethodGet, pabPath, nil, "s3", map[string]string{"X-Amz-Account-Id": c.AccountID})
	if err != nil {
		return err
	}
	var cfg pabConfig
	if err := xml.Unmarshal(raw, &cfg); err != nil {
		return err
	}
	fmt.Printf("BlockPublicAcls=%t IgnorePublicAcls=%t BlockPublicPolicy=%t RestrictPublicBuckets=%t\n",
		cfg.BlockPublicAcls, cfg.IgnorePublicAcls, cfg.BlockPublicPolicy, cfg.RestrictPublicBuckets)
	return nil
}

type pabPutCmd struct {
	AccountID             string `name:"account-id" required:"" help:"The caller's 12-digit account id."`
	BlockPublicAcls       bool   `name:"block-public-acls" negatable:"" default:"true" help:"Refuse requests that set public ACLs."`
	IgnorePublicAcls      bool   `name:"ignore-public-acls" negatable:"" default:"true" help:"Ignore public ACL grants."`
	BlockPublicPolicy     bool   `name:"block-public-policy" negatable:"" default:"true" help:"Refuse public bucket policies."`
	RestrictPublicBuckets bool   `name:"restrict-public-buckets" negatable:"" default:"true" help:"Limit public bucket policies to the owner's account and services."`
	remoteFlags
}

func (c *pabPutCmd) Run() error {
	if c.Endpoint == "" {
		return errors.New("give --endpoint")
	}
	body, err := xml.Marshal(pabConfig{Xmlns: "http://awss3control.amazonaws.com/doc/2018-08-20/",
		BlockPublicAcls: c.BlockPublicAcls, IgnorePublicAcls: c.IgnorePublicAcls,
		BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets})
	if err != nil {
		return err
	}
	if _, err := c.signedCall(http.MethodPut, pabPath, body, "s3", map[string]string{"X-Amz-Account-Id": c.AccountID}); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "updated:", strings.TrimSpace(string(body)))
	return nil
}
