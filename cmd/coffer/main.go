// Command coffer is the Coffer object storage server and its tools: the
// server itself, account administration, the load generator and the
// offline data-directory checker.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/coffer-io/coffer/internal/config"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type cli struct {
	Config string `help:"Configuration file (TOML; keys are the long flag names of the command)." type:"path" env:"COFFER_CONFIG"`

	Server  serverCmd  `cmd:"" help:"Run the S3 server."`
	Admin   adminCmd   `cmd:"" help:"Administer accounts."`
	Bench   benchCmd   `cmd:"" help:"Run the S3 load generator against an endpoint."`
	Fsck    fsckCmd    `cmd:"" help:"Check (and repair) an offline data directory."`
	Analyze analyzeCmd `cmd:"" help:"Report public and cross-account access to buckets, and overly broad policy statements."`
	CSE     cseCmd     `cmd:"" name:"cse" help:"Client-side encryption compatible with the Amazon S3 Encryption Client v2: encrypt and upload, download and decrypt."`
	Trail   trailCmd   `cmd:"" help:"Look up the event history and validate trail log files."`
	Version versionCmd `cmd:"" help:"Print the version."`

	// Configuration history and compliance (compliance.go).
	ConfigHistory configCmd     `cmd:"" name:"config" help:"Query the configuration recorder of a running server."`
	Compliance    complianceCmd `cmd:"" help:"Compliance rules of a running server: reports and the conformance pack."`
	// Sensitive data discovery (discovery.go).
	Discovery discoveryCmd `cmd:"" help:"Sensitive data discovery of a running server: run classification jobs, list findings, identifiers and allow lists."`
}

type serverCmd struct {
	Data              string        `help:"Data directory." default:"./coffer-data" env:"COFFER_DATA" type:"path"`
	Address           string        `help:"HTTPS listen address." default:"127.0.0.1:9000" env:"COFFER_ADDRESS"`
	HTTPAddress       string        `name:"http-address" help:"Also listen with plain HTTP on this address (off unless set)." env:"COFFER_HTTP_ADDRESS"`
	Region            string        `help:"Region this server answers as." default:"us-east-1" env:"COFFER_REGION"`
	Domain            []string      `help:"Base domains for virtual-hosted-style requests (bucket.DOMAIN)." default:"localhost" env:"COFFER_DOMAIN"`
	TLSCert           string        `name:"tls-cert" help:"TLS certificate (PEM); reloaded when the file changes and on SIGHUP. Default: a certificate from the data directory's own CA." env:"COFFER_TLS_CERT" type:"path"`
	TLSKey            string        `name:"tls-key" help:"TLS private key (PEM)." env:"COFFER_TLS_KEY" type:"path"`
	TLSMinVersion     string        `name:"tls-min-version" help:"Lowest TLS version accepted: 1.2 or 1.3." default:"1.2" env:"COFFER_TLS_MIN_VERSION"`
	MaxConnections    int           `help:"Maximum concurrent connections." default:"1024" env:"COFFER_MAX_CONNECTIONS"`
	IdleTimeout       time.Duration `help:"Cut a connection that sends or receives nothing for this long." default:"60s" env:"COFFER_IDLE_TIMEOUT"`
	GCInterval        time.Duration `name:"gc-interval" help:"How often unreferenced data is reclaimed." default:"10m" env:"COFFER_GC_INTERVAL"`
	AccessLogInterval time.Duration `name:"access-log-interval" help:"How often server access logs are delivered to their target buckets." default:"5m" env:"COFFER_ACCESS_LOG_INTERVAL"`
	LifecycleInterval time.Duration `name:"lifecycle-interval" help:"How often lifecycle rules are applied (1s to 24h)." default:"1h" env:"COFFER_LIFECYCLE_INTERVAL"`
	LifecycleDay      time.Duration `name:"lifecycle-day" help:"Length of a lifecycle day (whole seconds, 1s to 24h). Shorter days are for tests." default:"24h" env:"COFFER_LIFECYCLE_DAY"`
	LifecycleRate     int           `name:"lifecycle-rate" help:"Most lifecycle actions (expirations, aborted uploads) per second (1 to 100000)." default:"100" env:"COFFER_LIFECYCLE_RATE"`
	LogLevel          string        `help:"Log level: debug, info, warn, error." default:"info" env:"COFFER_LOG_LEVEL" enum:"debug,info,warn,error"`
	NetworkEndpoint   []string      `name:"network-endpoint" help:"A named client network, as ENDPOINT[:VPC]=CIDR[,CIDR...]: requests from it carry aws:SourceVpce (and aws:SourceVpc) like requests through an AWS VPC endpoint. Repeatable." env:"COFFER_NETWORK_ENDPOINT" sep:";"`
	TrustedProxy      []string      `name:"trusted-proxy" help:"CIDR of a reverse proxy whose X-Forwarded-For names the client (aws:SourceIp, audit). Repeatable; forwarded headers from anyone else are ignored." env:"COFFER_TRUSTED_PROXY"`
	PprofAddress      string        `name:"pprof-address" help:"Serve Go profiling endpoints (net/http/pprof) on this separate address; off unless set. Keep it on loopback." env:"COFFER_PPROF_ADDRESS"`

	// Encryption at rest: where the KMS root key lives (keys.go).
	rootKeyFlags
	// The CloudTrail trail (trail.go).
	trailFlags
	InsecureDisableEncryptionAtRest bool `name:"insecure-disable-encryption-at-rest" help:"Write new object data unencrypted. Only for measuring the cost of encryption; never for real data." hidden:""`
	// Configuration recorder, compliance rules, alerts (compliance.go).
	complianceFlags
	// Sensitive data discovery (discovery.go).
	discoveryFlags
}

func logger(level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func (c *serverCmd) Run() error {
	var networks []s3api.NetworkEndpoint
	for _, s := range c.NetworkEndpoint {
		ne, err := s3api.ParseNetworkEndpoint(s)
		if err != nil {
			return err
		}
		networks = append(networks, ne)
	}
	var proxies []netip.Prefix
	for _, s := range c.TrustedProxy {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("--trusted-proxy %q: %w", s, err)
		}
		proxies = append(proxies, p.Masked())
	}
	comp, err := c.complianceFlags.options()
	if err != nil {
		return err
	}
	disc, err := c.discoveryFlags.options()
	if err != nil {
		return err
	}
	// Zero means "the default" to server.Run; given here, it is a mistake.
	switch {
	case c.LifecycleInterval <= 0:
		return fmt.Errorf("--lifecycle-interval %v: must be between 1s and 24h", c.LifecycleInterval)
	case c.LifecycleDay <= 0:
		return fmt.Errorf("--lifecycle-day %v: must be a whole number of seconds between 1s and 24h", c.LifecycleDay)
	case c.LifecycleRate <= 0:
		return fmt.Errorf("--lifecycle-rate %d: must be between 1 and 100000 actions per second", c.LifecycleRate)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Run(ctx, server.Options{
		DataDir: c.Data, Address: c.Address, HTTPAddress: c.HTTPAddress, Region: c.Region,
		Domains: c.Domain, TLSCert: c.TLSCert, TLSKey: c.TLSKey, TLSMinVersion: c.TLSMinVersion, MaxConnections: c.MaxConnections,
		IdleTimeout: c.IdleTimeout, GCInterval: c.GCInterval, Logger: logger(c.LogLevel),
		LifecycleInterval: c.LifecycleInterval, LifecycleDay: c.LifecycleDay, LifecycleRate: c.LifecycleRate,
		PprofAddress: c.PprofAddress, NetworkEndpoints: networks, TrustedProxies: proxies,
		RootKey:                         c.rootKeyConfig(c.Data),
		AccessLogInterval:               c.AccessLogInterval,
		InsecureDisableEncryptionAtRest: c.InsecureDisableEncryptionAtRest,
		Trail:                           c.trailOptions(),
		Compliance:                      comp,
		Discovery:                       disc,
	}, os.Stdout)
}

type fsckCmd struct {
	Data   string `help:"Data directory." default:"./coffer-data" env:"COFFER_DATA" type:"path"`
	Repair bool   `help:"Remove unreferenced data files and leftovers."`
}

func (c *fsckCmd) Run() error {
	rep, err := server.Fsck(context.Background(), c.Data, c.Repair, os.Stdout)
	if err != nil {
		return err
	}
	if len(rep.Missing) > 0 {
		return fmt.Errorf("%d object versions have missing data", len(rep.Missing))
	}
	return nil
}

type versionCmd struct{}

func (versionCmd) Run() error { fmt.Println("coffer", version); return nil }

func main() {
	var c cli
	var opts []kong.Option
	opts = append(opts, kong.Name("coffer"), kong.Description("Coffer: a secure-by-default, S3-compatible object storage server."), kong.UsageOnError())
	if path := config.FindPath(os.Args[1:]); path != "" {
		f, err := config.Load(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "coffer:", err)
			os.Exit(2)
		}
		opts = append(opts, kong.Resolvers(f.Resolver()))
	}
	ctx := kong.Parse(&c, opts...)
	if err := ctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "coffer:", strings.TrimSpace(err.Error()))
		os.Exit(1)
	}
}
