package main

import (
	"context"
	"os"
	"os/signal"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/coffer-io/coffer/internal/awscreds"
	"github.com/coffer-io/coffer/internal/bench"
)

type benchCmd struct {
	Endpoint        string        `help:"S3 endpoint, e.g. https://127.0.0.1:9000." required:"" env:"AWS_ENDPOINT_URL"`
	Region          string        `help:"Region to sign for." default:"us-east-1" env:"AWS_REGION"`
	AccessKey       string        `help:"Access key id (default: the credentials file)." env:"AWS_ACCESS_KEY_ID"`
	SecretKey       string        `help:"Secret access key." env:"AWS_SECRET_ACCESS_KEY"`
	SessionToken    string        `help:"Session token." env:"AWS_SESSION_TOKEN"`
	CredentialsFile string        `help:"Shared credentials file." env:"AWS_SHARED_CREDENTIALS_FILE" type:"path"`
	Profile         string        `help:"Profile in the credentials file." env:"AWS_PROFILE" default:"default"`
	CAFile          string        `name:"ca-file" help:"PEM CA bundle to trust." env:"AWS_CA_BUNDLE" type:"path"`
	Insecure        bool          `help:"Skip TLS certificate verification."`
	Bucket          string        `help:"Bucket (created and removed if missing)."`
	Keep            bool          `help:"Keep the bucket and objects."`
	Prefix          string        `help:"Key prefix." default:"bench/"`
	Op              string        `help:"Operation: put, get, head, list, delete, mixed." default:"put" enum:"put,get,head,list,delete,mixed"`
	Mix             string        `help:"Mix for --op mixed, e.g. get=60,put=30,delete=5,list=5."`
	Size            string        `help:"Object size (e.g. 4KiB, 1MiB)." default:"1MiB"`
	Objects         int           `help:"Key space size." default:"1000"`
	Concurrency     int           `help:"Concurrent workers." default:"16"`
	Duration        time.Duration `help:"Stop after this long." default:"30s"`
	Count           int           `help:"Stop after this many operations (0: no limit)."`
	Payload         string        `help:"Payload signing: unsigned or signed." default:"unsigned" enum:"unsigned,signed"`
	JSON            bool          `name:"json" help:"Print the report as JSON."`
}

func (c *benchCmd) Run() error {
	size, err := humanize.ParseBytes(c.Size)
	if err != nil {
		return err
	}
	ak, sk, tok := c.AccessKey, c.SecretKey, c.SessionToken
	if ak == "" || sk == "" {
		if ak, sk, tok, err = awscreds.Load(c.CredentialsFile, c.Profile); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := bench.Run(ctx, bench.Config{
		Endpoint: c.Endpoint, Region: c.Region, AccessKey: ak, SecretKey: sk, SessionToken: tok,
		CAFile: c.CAFile, Insecure: c.Insecure, Bucket: c.Bucket, Keep: c.Keep, Op: c.Op, Mix: c.Mix,
		ObjectSize: int64(size), Objects: c.Objects, Concurrency: c.Concurrency, Duration: c.Duration,
		Count: c.Count, PayloadMode: c.Payload, Prefix: c.Prefix,
	}, os.Stderr)
	if rep != nil {
		if c.JSON {
			rep.WriteJSON(os.Stdout)
		} else {
			rep.WriteText(os.Stdout)
		}
	}
	return err
}
