// Package server is Coffer's composition root: it prepares the data
// directory, opens the stores, builds the services and the request
// pipeline, sets up TLS and listeners, and runs the background workers.
// It is the only package that knows the concrete storage implementations.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coffer-io/coffer/internal/accesslog"
	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/audit"
	"github.com/coffer-io/coffer/internal/auth/authn"
	"github.com/coffer-io/coffer/internal/authz"
	"github.com/coffer-io/coffer/internal/cloudtrailapi"
	"github.com/coffer-io/coffer/internal/iam"
	"github.com/coffer-io/coffer/internal/iamapi"
	"github.com/coffer-io/coffer/internal/kms"
	"github.com/coffer-io/coffer/internal/kmsapi"
	"github.com/coffer-io/coffer/internal/lifecycle"
	"github.com/coffer-io/coffer/internal/metrics"
	"github.com/coffer-io/coffer/internal/objects"
	"github.com/coffer-io/coffer/internal/rootkey"
	"github.com/coffer-io/coffer/internal/s3api"
	"github.com/coffer-io/coffer/internal/storage/meta"
)

// Options configure a server.
type Options struct {
	DataDir        string
	Address        string
	HTTPAddress    string // plain HTTP listener, only when set
	Region         string
	Domains        []string
	TLSCert        string // reloaded when the files change, and on SIGHUP
	TLSKey         string
	TLSMinVersion  string // "1.2" (default) or "1.3"
	MaxConnections int
	IdleTimeout    time.Duration // per read/write on a connection
	GCInterval     time.Duration
	GCGrace        time.Duration
	// AccessLogInterval is how often server access logs are delivered
	// (5 minutes if zero).
	AccessLogInterval time.Duration
	// LifecycleInterval is how often lifecycle rules are applied (1 hour
	// if zero); a pass that outlasts it stops and the next resumes.
	LifecycleInterval time.Duration
	// LifecycleDay is the length of a lifecycle day (24 hours if zero);
	// shorter days exist for tests.
	LifecycleDay time.Duration
	// LifecycleRate bounds lifecycle actions per second (100 if zero).
	LifecycleRate int
	Logger        *slog.Logger
	// NetworkEndpoints name client networks (see s3api.NetworkEndpoint).
	NetworkEndpoints []s3api.NetworkEndpoint
	// TrustedProxies are peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// PprofAddress, if set, serves net/http/pprof on its own listener.
	PprofAddress string
	// Ready, if set, receives the bound addresses once listening.
	Ready func(https, http string)
	// KeyLastUsedResolution is how often at most an access key's last
	// use is written (iam.Service.LastUsedResolution; 1 minute if zero).
	KeyLastUsedResolution time.Duration
	// RootKey selects where the KMS root key lives (rootkey.Open); its
	// DataDir is filled in from DataDir. The zero value is
	// DIR/keys/root.key, created on first start.
	RootKey rootkey.Config
	// InsecureDisableEncryptionAtRest writes new object data in clear.
	// It exists only to measure what encryption costs.
	InsecureDisableEncryptionAtRest bool

	// Trail configures the CloudTrail trail (journal durability,
	// delivery and digest intervals, the local copy directory).
	Trail TrailOptions
	// Compliance configures the configuration recorder, the rules and
	// alerting (compliance.go).
	Compliance ComplianceOptions
	Discovery  DiscoveryOptions
}

type adminService struct {
	defaultID string
	accounts  *Accounts
	// iam and auditLog feed the unused-access analysis.
	iam      *iam.Service
	auditLog string
}

func (a *adminService) DefaultAccountID() string { return a.defaultID }

func (a *adminService) CreateAccount(ctx context.Context, name string) (*meta.Account, *meta.AccessKey, error) {
	return a.accounts.Create(ctx, name)
}

func (a *adminService) Analyze(ctx context.Context, accountID string) (*analyze.Report, error) {
	return analyzeAccount(ctx, a.accounts.Meta, a.iam, a.auditLog, accountID, DefaultUnusedWindow)
}

// Run starts the server and blocks until ctx is cancelled, then shuts down
// gracefully.
func Run(ctx context.Context, o Options, out io.Writer) error {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 1024
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.GCInterval <= 0 {
		o.GCInterval = 10 * time.Minute
	}
	if o.AccessLogInterval <= 0 {
		o.AccessLogInterval = 5 * time.Minute
	}
	if o.GCGrace <= 0 {
		o.GCGrace = time.Hour
	}
	if err := lifecycleOptions(&o); err != nil {
		return err
	}
	minTLS, err := tlsMinVersion(o.TLSMinVersion)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	st, err := OpenDataDir(dir)
	if err != nil {
		return err
	}
	defer st.Close()

	credPath := filepath.Join(dir, "credentials")
	acct, created, err := bootstrap(ctx, st, credPath)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(credPath); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("credentials file is readable by others; restricting it to 0600", "path", credPath)
		_ = os.Chmod(credPath, 0o600)
	}

	// TLS.
	var cert tls.Certificate
	var reloader *certReloader
	caPath := filepath.Join(dir, "tls", "ca.pem")
	if o.TLSCert != "" || o.TLSKey != "" {
		if o.TLSCert == "" || o.TLSKey == "" {
			return errors.New("--tls-cert and --tls-key go together")
		}
		if reloader, err = newCertReloader(o.TLSCert, o.TLSKey, log); err != nil {
			return err
		}
		caPath = ""
	} else {
		ca, caKey, err := localCA(filepath.Join(dir, "tls"))
		if err != nil {
			return err
		}
		host, _, _ := net.SplitHostPort(o.Address)
		hosts := []string{host}
		for _, d := range o.Domains {
			hosts = append(hosts, d, "*."+d)
		}
		if cert, err = serverCertificate(ca, caKey, hosts); err != nil {
			return err
		}
	}

	reg := &metrics.Registry{}
	sink, err := audit.OpenFile(filepath.Join(dir, "audit", "audit.log"), time.Second)
	if err != nil {
		return err
	}
	defer sink.Close()
	comp, err := startCompliance(dir, o.Region, st.Meta, o.Compliance, log)
	if err != nil {
		return err
	}
	defer comp.close()
	discovery, err := openDiscovery(dir, o.Region, time.Now, log)
	if err != nil {
		return err
	}
	defer discovery.close()

	svc := objects.New(st.Meta, st.Blobs, dataClock.Now, log)
	// The CloudTrail trail journals every request's records before the
	// response leaves (see package trail) and delivers configured trails.
	trails, err := openTrail(dir, o.Region, o.Trail, svc, log)
	if err != nil {
		return err
	}
	defer trails.Journal().Close()
	o.RootKey.DataDir, o.RootKey.Logger = dir, log
	keySource, err := rootkey.Open(o.RootKey)
	if err != nil {
		return err
	}
	rootKey, err := loadRootKey(ctx, keySource, dir, st.Meta.KMS(), log)
	if err != nil {
		return err
	}
	sealer, err := kms.NewLocalSealer(rootKey)
	clear(rootKey)
	if err != nil {
		return err
	}
	// Key policies are decided by the policy engine, built below; the
	// KMS consults it only for calls made on a principal's behalf.
	var authorizer *authz.Engine
	keys, err := kms.New(kms.Config{Store: st.Meta.KMS(), Sealer: sealer, Region: o.Region,
		Authorize: func(ctx context.Context, r *kms.AuthzRequest) error { return kmsapi.KeyPolicyHook(authorizer)(ctx, r) }})
	if err != nil {
		return err
	}
	// Reading needs the KMS whatever the setting: data written encrypted
	// stays encrypted.
	svc.EnableEncryption(keys)
	if o.InsecureDisableEncryptionAtRest {
		svc.DisableNewEncryption()
		log.Warn("!!! --insecure-disable-encryption-at-rest: new object data is written UNENCRYPTED. " +
			"This setting exists only to measure the cost of encryption; never use it for real data.")
	}
	iamSvc := &iam.Service{Store: st.Meta.IAM(), Validate: validatePolicy, LastUsedResolution: o.KeyLastUsedResolution}
	// Access keys' last use is noted in memory by authentication and
	// written in the background, at most once per key per resolution.
	keyUse := iam.NewKeyUseTracker(iamSvc, log)
	defer keyUse.Close() // on early returns; the normal path closes it below
	users := iamDirectory{svc: iamSvc}
	sessions, err := loadSessionKey(filepath.Join(dir, "sts.key"))
	if err != nil {
		return err
	}
	// Server access logs: spooled from the audit events, delivered into
	// the target buckets through the object service.
	accessLogs, err := accesslog.NewSink(filepath.Join(dir, "accesslog"), o.Region,
		func(ctx context.Context, id string) (string, error) {
			a, err := st.Meta.GetAccount(ctx, id)
			if err != nil {
				return "", err
			}
			return a.CanonicalID, nil
		}, &s3api.LogStore{Objects: svc})
	if err != nil {
		return err
	}
	defer accessLogs.Close()
	reg.GaugeFunc("coffer_accesslog_pending_bytes", "Server access log data spooled and not yet delivered.",
		func() float64 { return float64(accessLogs.PendingBytes()) })
	authorizer = &authz.Engine{Identity: users, Cache: &authz.PolicyCache{}, Log: log}
	queryAPI := &iamapi.Handler{IAM: iamSvc, Accounts: st.Meta, Logger: log, Sessions: sessions, Authorizer: authorizer,
		AccessHistory: auditHistory{path: filepath.Join(dir, "audit", "audit.log"), region: o.Region}}
	// Every sink sees every event: the audit log, server access logs, the
	// configuration recorder and alerting, and the trail (which makes a
	// request wait for its record's sync).
	auditSink := auditSinks(audit.Multi(append([]audit.Sink{sink, accessLogs, discovery}, comp.sinks()...)), trails, o.Trail, log)
	comp.start(auditSink, st.Meta, log)
	discovery.start(o.Discovery, st.Meta, svc, comp.alerts, log)
	h := s3api.New(s3api.Config{
		Region:         o.Region,
		BaseDomains:    o.Domains,
		Networks:       o.NetworkEndpoints,
		TrustedProxies: o.TrustedProxies,
		Objects:        svc,
		Keys:           &authn.Resolver{Store: st.Meta, Users: users, Sessions: sessions},
		Authorizer:     authorizer,
		Audit:          auditSink,
		Admin:          &adminService{defaultID: acct.ID, accounts: &Accounts{Meta: st.Meta}, iam: iamSvc, auditLog: filepath.Join(dir, "audit", "audit.log")},
		Query:          map[string]s3api.QueryService{"iam": queryAPI.IAMAPI(), "sts": queryAPI.STSAPI()},
		JSON: map[string]s3api.JSONService{
			"kms":        (&kmsapi.Handler{KMS: keys, Region: o.Region, Logger: log}).API(),
			"cloudtrail": (&cloudtrailapi.Handler{Trails: trails, Logger: log}).API(),
			"config":     comp.api,
		},
		REST:      map[string]s3api.RESTService{"macie2": discovery.API()},
		Logger:    log,
		KeyUse:    keyUse,
		DataClock: dataClock,
		MFA:       rootMFA{iamSvc},
	})
	mux := http.NewServeMux()
	// Health and metrics. Other components add their gauges to reg.
	hc := &health{meta: st.Meta, blobs: st.Blobs, accountID: acct.ID, keys: func() bool { return keys != nil }}
	mux.HandleFunc("GET /_coffer/health", hc.live)
	mux.HandleFunc("GET /_coffer/health/live", hc.live)
	mux.HandleFunc("GET /_coffer/health/ready", hc.ready)
	mux.HandleFunc("GET /_coffer/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		h.Metrics().WritePrometheus(w)
		reg.WritePrometheus(w)
		trails.WritePrometheus(w)
		comp.writeMetrics(w)
	})
	if testRoutes != nil {
		testRoutes(mux)
		log.Warn("!!! test build: the data-protection clock can be moved with POST /_coffer/test/clock; never use this binary for real data")
	}
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_coffer/") && !strings.HasPrefix(r.URL.Path, "/_coffer/admin/") {
			mux.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	newServer := func() *http.Server {
		return &http.Server{
			Handler:           root,
			ReadHeaderTimeout: 15 * time.Second,
			IdleTimeout:       o.IdleTimeout,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
	}

	ln, err := net.Listen("tcp", o.Address)
	if err != nil {
		return err
	}
	tlsSrv := newServer()
	var getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	if reloader != nil {
		getCert = reloader.GetCertificate
	}
	tlsSrv.TLSConfig = tlsConfig(cert, getCert, minTLS)
	tlsLn := tls.NewListener(newLimitListener(ln, o.MaxConnections, o.IdleTimeout), tlsSrv.TLSConfig)
	errc := make(chan error, 2)
	go func() { errc <- tlsSrv.Serve(tlsLn) }()

	var plainSrv *http.Server
	plainAddr := ""
	if o.HTTPAddress != "" {
		pl, err := net.Listen("tcp", o.HTTPAddress)
		if err != nil {
			tlsSrv.Close()
			return err
		}
		plainAddr = pl.Addr().String()
		plainSrv = newServer()
		log.Warn("plain-HTTP listener enabled: credentials are protected by signatures, but request and response bodies travel unencrypted", "address", plainAddr)
		go func() { errc <- plainSrv.Serve(newLimitListener(pl, o.MaxConnections, o.IdleTimeout)) }()
	}

	if o.PprofAddress != "" {
		pl, err := net.Listen("tcp", o.PprofAddress)
		if err != nil {
			tlsSrv.Close()
			return err
		}
		pm := http.NewServeMux()
		pm.HandleFunc("/debug/pprof/", pprof.Index)
		pm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pm.HandleFunc("/debug/pprof/trace", pprof.Trace)
		pm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		log.Warn("profiling endpoints enabled; they expose internals, keep them on loopback", "address", pl.Addr().String())
		pprofSrv := &http.Server{Handler: pm, ReadHeaderTimeout: 15 * time.Second}
		go pprofSrv.Serve(pl)
		defer pprofSrv.Close()
	}

	endpoint := "https://" + ln.Addr().String()
	fmt.Fprintf(out, "Coffer is serving S3 at %s (region %s)\n", endpoint, o.Region)
	if plainAddr != "" {
		fmt.Fprintf(out, "Plain HTTP (not recommended): http://%s\n", plainAddr)
	}
	if created {
		fmt.Fprintf(out, "Created the default account %s; its root credentials are in %s\n", acct.ID, credPath)
	} else {
		fmt.Fprintf(out, "Credentials file: %s\n", credPath)
	}
	if caPath != "" {
		fmt.Fprintf(out, "TLS CA certificate: %s\n", caPath)
		fmt.Fprintf(out, "Try: AWS_SHARED_CREDENTIALS_FILE=%s AWS_CA_BUNDLE=%s aws --endpoint-url %s s3 ls\n", credPath, caPath, endpoint)
	}
	if o.Ready != nil {
		o.Ready(ln.Addr().String(), plainAddr)
	}

	// Lifecycle rules run on their own schedule, on the data-protection
	// clock, deleting through the object service so that Object Lock
	// applies to them as to any request, at a bounded rate, and leaving an
	// audit record per action.
	if o.LifecycleDay != lifecycle.DefaultDay {
		log.Warn("lifecycle days are not 24 hours long: objects expire early; this setting is for tests", "lifecycle_day", o.LifecycleDay)
	}
	lc := &lifecycle.Worker{Objects: svc, Log: log, Audit: auditSink, Day: o.LifecycleDay, Limit: lifecycle.NewLimiter(o.LifecycleRate)}
	lcDone := make(chan struct{})
	gcDone := make(chan struct{})
	gcCtx, gcCancel := context.WithCancel(context.Background())
	accessLogDone := make(chan struct{})
	go func() {
		defer close(accessLogDone)
		accessLogs.Run(gcCtx, o.AccessLogInterval, log)
	}()
	go func() {
		defer close(gcDone)
		t := time.NewTicker(o.GCInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				n, err := collectGarbage(gcCtx, st.Meta, st.Blobs, o.GCGrace, time.Now(), log)
				if err != nil {
					log.Warn("garbage collection failed", "err", err)
				} else if n > 0 {
					log.Info("garbage collection removed unreferenced data", "blobs", n)
				}
				// KMS keys due for automatic rotation (the aws/s3 keys
				// yearly) get new material; old material stays, so data
				// keys sealed before still unseal.
				if rotated, err := keys.RotateDue(gcCtx, time.Now()); err != nil {
					log.Warn("KMS key rotation failed", "err", err)
				} else if len(rotated) > 0 {
					log.Info("rotated KMS keys", "keys", rotated)
				}
			case <-gcCtx.Done():
				return
			}
		}
	}()

	go func() {
		defer close(lcDone)
		t := time.NewTicker(o.LifecycleInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				runLifecycle(gcCtx, lc, o.LifecycleInterval, log)
			case <-gcCtx.Done():
				return
			}
		}
	}()
	trailDone := make(chan struct{})
	go func() { defer close(trailDone); trails.Run(gcCtx) }()

	// SIGHUP reloads the certificate files (and never stops the server,
	// as it would by default).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				if reloader != nil {
					reloader.Reload("SIGHUP")
				} else {
					log.Info("SIGHUP: nothing to reload (the certificate is issued by the data directory's CA)")
				}
			case <-gcCtx.Done():
				return
			}
		}
	}()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	hc.stopping.Store(true)
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = tlsSrv.Shutdown(shutCtx)
	if plainSrv != nil {
		_ = plainSrv.Shutdown(shutCtx)
	}
	gcCancel()
	<-gcDone
	<-accessLogDone
	<-lcDone
	<-trailDone
	// The listeners are drained: write the last uses before the stores
	// close.
	_ = keyUse.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// lifecycleOptions fills in and checks the lifecycle settings.
func lifecycleOptions(o *Options) error {
	if o.LifecycleInterval == 0 {
		o.LifecycleInterval = time.Hour
	}
	if o.LifecycleDay == 0 {
		o.LifecycleDay = lifecycle.DefaultDay
	}
	if o.LifecycleRate == 0 {
		o.LifecycleRate = 100
	}
	switch {
	case o.LifecycleInterval < time.Second || o.LifecycleInterval > 24*time.Hour:
		return fmt.Errorf("--lifecycle-interval %v: must be between 1s and 24h", o.LifecycleInterval)
	case o.LifecycleDay < time.Second || o.LifecycleDay > lifecycle.DefaultDay || o.LifecycleDay%time.Second != 0:
		return fmt.Errorf("--lifecycle-day %v: must be a whole number of seconds between 1s and 24h", o.LifecycleDay)
	case o.LifecycleRate < 1 || o.LifecycleRate > 100000:
		return fmt.Errorf("--lifecycle-rate %d: must be between 1 and 100000 actions per second", o.LifecycleRate)
	}
	return nil
}

// runLifecycle makes one lifecycle pass, given at most one interval: the
// rate bound can make a large expiry outlast it, and the next pass then
// resumes where this one stopped.
func runLifecycle(ctx context.Context, lc *lifecycle.Worker, budget time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	rep, err := lc.Run(ctx, dataClock.Now())
	if err != nil {
		log.Warn("lifecycle pass failed", "err", err)
		return
	}
	if rep != (lifecycle.Report{}) {
		log.Info("lifecycle", "expired", rep.Expired, "noncurrent_expired", rep.NoncurrentExpired,
			"delete_markers_removed", rep.MarkersRemoved, "uploads_aborted", rep.UploadsAborted,
			"kept_by_object_lock", rep.Protected, "incomplete", rep.Incomplete)
	}
}
