package server

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/time/rate"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/api"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/s3"
	"github.com/syndication-hub/hub/publisher/audit"
)

// Config is everything `hub serve` can be told. Each field is a flag and
// an environment variable: HUB_ plus the flag name in upper case with
// dashes as underscores (--s3-endpoint is HUB_S3_ENDPOINT). A flag given
// on the command line wins over the environment. RegisterFlags and
// ApplyEnv are the one place flags and the environment are read.
type Config struct {
	Addr    string
	DataDir string
	// ScratchDir holds uploads' received bytes while they are scrubbed;
	// "" is <DataDir>/scratch.
	ScratchDir string
	// IndexDir holds this replica's own indexes of the catalog, which it
	// rebuilds from NATS when they are lost: the full-text index under
	// <IndexDir>/search. "" is <DataDir>/index, or with no DataDir a
	// directory in the user's cache (see Resolve). Each replica needs its
	// own; it is a cache, not state to back up.
	IndexDir string
	// Replica names this replica (HUB_REPLICA): it begins the id of every
	// resumable upload staged here, so a proxy routes the upload's later
	// requests back to it. "" is the host name, made to fit
	// api.ReplicaPattern.
	Replica string
	// RenditionWorkers is how many renditions this replica makes at once;
	// 0 is half the CPUs, at least one. RenditionThreads bounds each
	// video job's threads.
	RenditionWorkers int
	RenditionThreads int
	PublicURL        string
	AdminKey         string
	NATSURL          string
	NATSCreds        string
	NATSListen       string
	NATSReplicas     int
	// NATSCalloutSeed is a file holding the account nkey seed an external
	// NATS's auth_callout names as issuer: with it the hub decides on
	// partners' connections there, as on the embedded server.
	NATSCalloutSeed string
	// NATSPartnersAccount is the external NATS account partners land in.
	NATSPartnersAccount string
	// NATSGrantLifetime caps the user JWTs the auth callout issues: how
	// long a lapsed key's connection may stay when the replica that
	// admitted it cannot close it.
	NATSGrantLifetime time.Duration
	S3Endpoint        string
	S3Bucket          string
	S3AccessKey       string
	S3SecretKey       string
	S3Secure          bool
	S3Region          string
	S3Presign         bool
	// S3StallTimeout fails an S3 request that moves no byte for this long
	// (a progress watchdog; transfers that keep moving are never cut off).
	S3StallTimeout time.Duration
	MaxAssetBytes  int64
	LogLevel       string
	// UploadIdleTimeout aborts an upload that sends nothing for this long.
	UploadIdleTimeout time.Duration
	// MetricsAddr is the operator listener: /metrics without a key, for a
	// Prometheus scraper on an internal address. The API's own /metrics
	// needs an admin key.
	MetricsAddr string

	// WebhooksAllowPrivate lets webhooks reach loopback, private and
	// link-local addresses: for tests and closed networks.
	WebhooksAllowPrivate bool

	// AuditRetention is how long the audit log keeps an entry; 0 is
	// audit.DefaultRetention.
	AuditRetention time.Duration

	// Rate limits, per replica: requests per second and burst of one key,
	// and of one client address on keyless calls. Zero (a Config built in
	// code) limits nothing; `hub serve` has the flags' defaults.
	RateLimitPerKey       float64
	RateLimitPerKeyBurst  int
	RateLimitPerAddr      float64
	RateLimitPerAddrBurst int
	// TrustedProxies are CIDRs of reverse proxies whose X-Forwarded-For
	// names the client; none means the connection's peer is the client.
	TrustedProxies []string
	// MaxUploadsPerKey and MaxUploads cap uploads running at once per key
	// and per replica; zero is no cap.
	MaxUploadsPerKey int
	MaxUploads       int

	// SweepEvery is how often the sweeper collects debris (blobs no record
	// names, unfinished writes of the blob store); 0 is DefaultSweepEvery.
	SweepEvery time.Duration
	// SweepGrace is how old debris must be before a sweep removes it; 0 is
	// DefaultSweepGrace. Live uploads are kept however old (hub.Service.Sweep).
	SweepGrace time.Duration
}

// Sweeper defaults.
const (
	DefaultSweepEvery = 10 * time.Minute
	DefaultSweepGrace = time.Hour
)

// RegisterFlags declares the flags with their defaults.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	c.RegisterStateFlags(fs)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	fs.IntVar(&c.RenditionWorkers, "rendition-workers", 0, "how many renditions this replica makes at once (default: half the CPUs, at least 1; negative: none, for a replica that only serves)")
	fs.IntVar(&c.RenditionThreads, "rendition-threads", 1, "threads each video rendition may use (ffmpeg -threads)")
	fs.StringVar(&c.IndexDir, "index-dir", "", "this replica's own indexes (full-text search under <index-dir>/search), rebuilt from NATS when missing; one per replica, not to back up (default <data-dir>/index)")
	fs.StringVar(&c.ScratchDir, "scratch-dir", "", "where uploads wait while identifying metadata is removed, before anything is stored; room for twice the largest asset (default <data-dir>/scratch)")
	fs.StringVar(&c.Replica, "replica", "", "this replica's name, lowercase letters, digits and dashes: resumable upload ids begin with it, and the proxy routes /v1/uploads/<replica>.* to it (default: the host name)")
	fs.StringVar(&c.PublicURL, "public-url", "", "absolute base URL for links in feeds, events and ninjs hrefs (default http:// + addr)")
	fs.StringVar(&c.AdminKey, "admin-key", "", "admin key recorded on a fresh data dir (default: one is generated and printed once)")
	fs.StringVar(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "where the embedded NATS accepts outlets' clients (credentials required)")
	fs.StringVar(&c.NATSCalloutSeed, "nats-callout-seed", "", "file with the auth callout issuer's account nkey seed: the hub then admits partners to the external NATS with their API keys")
	fs.StringVar(&c.NATSPartnersAccount, "nats-partners-account", "PARTNERS", "the external NATS account partners land in (deploy/nats/ defines it)")
	fs.DurationVar(&c.NATSGrantLifetime, "nats-grant-lifetime", natsserver.DefaultCalloutLifetime, "longest life of a partner's NATS user JWT from the auth callout (the latest a revoked key's connection ends)")
	fs.BoolVar(&c.S3Presign, "s3-presign", false, "answer downloads of released assets with a redirect to a 60-second presigned S3 URL")
	fs.Int64Var(&c.MaxAssetBytes, "max-asset-bytes", hub.DefaultMaxAssetBytes, "largest single asset in bytes")
	fs.DurationVar(&c.UploadIdleTimeout, "upload-idle-timeout", api.DefaultUploadIdleTimeout, "abort an upload when no byte of it arrived for this long")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "operator listener serving /metrics without a key, e.g. 127.0.0.1:9090 (default: none; the API's /metrics needs an admin key)")
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", false, "let webhooks point at loopback, private and link-local addresses (tests, closed networks)")
	fs.DurationVar(&c.AuditRetention, "audit-retention", DefaultAuditRetention, "how long the audit log keeps an entry")
	fs.Float64Var(&c.RateLimitPerKey, "rate-limit-per-key", 20, "requests per second one key may make, per replica (0: no limit)")
	fs.IntVar(&c.RateLimitPerKeyBurst, "rate-limit-per-key-burst", 100, "requests one key may make at once before its rate applies")
	fs.Float64Var(&c.RateLimitPerAddr, "rate-limit-per-addr", 10, "requests per second one client address may make without a key, per replica (0: no limit)")
	fs.IntVar(&c.RateLimitPerAddrBurst, "rate-limit-per-addr-burst", 50, "keyless requests one address may make at once before its rate applies")
	fs.StringSliceVar(&c.TrustedProxies, "trusted-proxies", nil, "CIDRs of reverse proxies whose X-Forwarded-For names the client, comma-separated (default: none, X-Forwarded-For is ignored)")
	fs.IntVar(&c.MaxUploadsPerKey, "max-uploads-per-key", 4, "uploads one key may run at once, per replica (0: no cap)")
	fs.IntVar(&c.MaxUploads, "max-uploads", 64, "uploads a replica takes at once (0: no cap)")
	fs.DurationVar(&c.SweepEvery, "sweep-every", DefaultSweepEvery, "how often debris of dead uploads (unrecorded blobs, temporary files, incomplete multipart uploads) is collected")
	fs.DurationVar(&c.SweepGrace, "sweep-grace", DefaultSweepGrace, "how old such debris must be before it is removed (live uploads are kept however long they run)")
}

// RegisterStateFlags declares the flags that say where the hub's state
// lives (data dir, NATS, S3) and the log level: all that `hub backup`,
// `hub restore` and `hub migrate` need, read as `hub serve` reads them.
func (c *Config) RegisterStateFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "./hub-data", "directory for the embedded NATS store and local-disk blobs")
	fs.StringVar(&c.NATSURL, "nats-url", "", "external NATS server URLs, comma-separated (default: run an embedded server)")
	fs.StringVar(&c.NATSCreds, "nats-creds", "", "credentials file for the external NATS")
	fs.IntVar(&c.NATSReplicas, "nats-replicas", 1, "copies a NATS cluster keeps of the hub's buckets and streams")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", "", "S3 endpoint host:port (default: blobs on local disk under the data dir)")
	fs.StringVar(&c.S3Bucket, "s3-bucket", "hub-assets", "S3 bucket, created when missing")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", "", "S3 access key")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", "", "S3 secret key")
	fs.BoolVar(&c.S3Secure, "s3-secure", false, "use TLS to reach S3")
	fs.StringVar(&c.S3Region, "s3-region", "", "S3 region")
	fs.DurationVar(&c.S3StallTimeout, "s3-stall-timeout", s3.DefaultStallTimeout, "fail an S3 request when no byte of it moved for this long (the store is then answered as not answering: 503)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
}

// DefaultAuditRetention is the audit log's retention unless configured:
// 400 days, so last year's campaign can still be asked about.
const DefaultAuditRetention = audit.DefaultRetention

// MaxAuditRetention bounds the retention at ten years, where the stream's
// age arithmetic is still far from overflowing.
const MaxAuditRetention = 10 * 365 * 24 * time.Hour

// EnvName is the environment variable for a flag.
func EnvName(flag string) string {
	return "HUB_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// ApplyEnv fills every flag not set on the command line from its
// environment variable: the one place where the environment is read.
func ApplyEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(f.Name), v, e)
			}
		}
	})
	return err
}

// Resolve fills defaults that depend on other settings and checks the
// rest; Start expects a resolved Config.
func (c *Config) Resolve() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("HUB_ADDR %q is not host:port: %w", c.Addr, err)
	}
	if c.PublicURL == "" && port == "0" {
		// A free port is picked when listening; Start derives the public
		// URL from it then.
	} else if err := c.derivePublicURL(host, port); err != nil {
		return err
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		return fmt.Errorf("HUB_S3_ENDPOINT is set, so HUB_S3_ACCESS_KEY and HUB_S3_SECRET_KEY are needed too")
	}
	if c.MaxAssetBytes <= 0 || c.MaxAssetBytes > 150<<30 {
		return fmt.Errorf("HUB_MAX_ASSET_BYTES must be between 1 and %d (16 MiB multipart parts cap an S3 object near 156 GiB)", int64(150<<30))
	}
	if c.NATSGrantLifetime == 0 {
		c.NATSGrantLifetime = natsserver.DefaultCalloutLifetime
	}
	if c.NATSGrantLifetime < time.Second {
		return fmt.Errorf("HUB_NATS_GRANT_LIFETIME must be at least 1s")
	}
	if c.S3StallTimeout < 0 {
		return fmt.Errorf("HUB_S3_STALL_TIMEOUT must not be negative (0 is the default, %s)", s3.DefaultStallTimeout)
	}
	if c.NATSReplicas < 1 {
		return fmt.Errorf("HUB_NATS_REPLICAS must be at least 1")
	}
	if c.AuditRetention < 0 || c.AuditRetention > MaxAuditRetention {
		return fmt.Errorf("HUB_AUDIT_RETENTION must be between 0 (the default, %s) and %s", DefaultAuditRetention, MaxAuditRetention)
	}
	switch {
	case c.RateLimitPerKey < 0, c.RateLimitPerAddr < 0, c.RateLimitPerKeyBurst < 0, c.RateLimitPerAddrBurst < 0:
		return fmt.Errorf("HUB_RATE_LIMIT_* must not be negative (0 turns a limit off)")
	case c.MaxUploadsPerKey < 0, c.MaxUploads < 0:
		return fmt.Errorf("HUB_MAX_UPLOADS and HUB_MAX_UPLOADS_PER_KEY must not be negative (0 turns a cap off)")
	}
	if c.Replica == "" {
		c.Replica = replicaName(os.Hostname())
	}
	c.IndexDir = c.indexDir()
	if !api.ReplicaPattern.MatchString(c.Replica) {
		return fmt.Errorf("HUB_REPLICA %q must be 1 to 32 lowercase letters, digits and dashes, beginning with a letter or digit", c.Replica)
	}
	if c.SweepEvery < 0 || c.SweepGrace < 0 {
		return fmt.Errorf("HUB_SWEEP_EVERY and HUB_SWEEP_GRACE must not be negative (0 is the default, %s and %s)", DefaultSweepEvery, DefaultSweepGrace)
	}
	if _, err := c.trustedProxies(); err != nil {
		return err
	}
	return nil
}

// indexDir is IndexDir or its default: <DataDir>/index, or without a
// DataDir (a Config built in code) the replica's directory in the user's
// cache, else in the temporary directory.
func (c *Config) indexDir() string {
	switch {
	case c.IndexDir != "":
		return c.IndexDir
	case c.DataDir != "":
		return filepath.Join(c.DataDir, "index")
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "syndication-hub", cmp.Or(c.Replica, "hub"), "index")
}

// trustedProxies parses TrustedProxies; a single address is its /32 or
// /128.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("HUB_TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8: %w", s, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// limits is the API's view of the rate limits and upload caps.
func (c *Config) limits() (api.Limits, error) {
	proxies, err := c.trustedProxies()
	if err != nil {
		return api.Limits{}, err
	}
	return api.Limits{
		PerKey: rate.Limit(c.RateLimitPerKey), PerKeyBurst: c.RateLimitPerKeyBurst,
		PerAddr: rate.Limit(c.RateLimitPerAddr), PerAddrBurst: c.RateLimitPerAddrBurst,
		TrustedProxies: proxies, MaxUploadsPerKey: c.MaxUploadsPerKey, MaxUploads: c.MaxUploads,
	}, nil
}

// derivePublicURL defaults the public URL to http:// + the listen
// address (localhost for a wildcard host) and checks it.
func (c *Config) derivePublicURL(host, port string) error {
	if c.PublicURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		return fmt.Errorf("HUB_PUBLIC_URL %q must start with http:// or https://", c.PublicURL)
	}
	return nil
}

// Logger returns the text logger on stderr at the configured level.
func (c *Config) Logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("HUB_LOG_LEVEL %q: %w", c.LogLevel, err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil
}

// replicaName makes a host name into a replica name: lowercase, other
// characters as dashes, at most 32 of them; "hub" when there is none.
func replicaName(host string, err error) string {
	if err != nil {
		return "hub"
	}
	host, _, _ = strings.Cut(strings.ToLower(host), ".")
	name := []byte(host)
	for i, b := range name {
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9') {
			name[i] = '-'
		}
	}
	out := strings.Trim(string(name), "-")
	if len(out) > 32 {
		out = strings.TrimRight(out[:32], "-")
	}
	if out == "" {
		return "hub"
	}
	return out
}
