package server

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsserver"
)

// Config is everything `hub serve` can be told. Each field is a flag and
// an environment variable: HUB_ plus the flag name in upper case with
// dashes as underscores (--s3-endpoint is HUB_S3_ENDPOINT). A flag given
// on the command line wins over the environment. RegisterFlags and
// ApplyEnv are the one place flags and the environment are read.
type Config struct {
	Addr         string
	DataDir      string
	PublicURL    string
	AdminKey     string
	NATSURL      string
	NATSCreds    string
	NATSListen   string
	NATSReplicas int
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
	MaxAssetBytes     int64
	LogLevel          string

	// WebhooksAllowPrivate lets webhooks reach loopback, private and
	// link-local addresses: for tests and closed networks.
	WebhooksAllowPrivate bool
}

// RegisterFlags declares the flags with their defaults.
func (c *Config) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.DataDir, "data-dir", "./hub-data", "directory for the embedded NATS store and local-disk blobs")
	fs.StringVar(&c.PublicURL, "public-url", "", "absolute base URL for links in feeds, events and ninjs hrefs (default http:// + addr)")
	fs.StringVar(&c.AdminKey, "admin-key", "", "admin key recorded on a fresh data dir (default: one is generated and printed once)")
	fs.StringVar(&c.NATSURL, "nats-url", "", "external NATS server URLs, comma-separated (default: run an embedded server)")
	fs.StringVar(&c.NATSCreds, "nats-creds", "", "credentials file for the external NATS")
	fs.StringVar(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "where the embedded NATS accepts outlets' clients (credentials required)")
	fs.StringVar(&c.NATSCalloutSeed, "nats-callout-seed", "", "file with the auth callout issuer's account nkey seed: the hub then admits partners to the external NATS with their API keys")
	fs.StringVar(&c.NATSPartnersAccount, "nats-partners-account", "PARTNERS", "the external NATS account partners land in (deploy/nats/ defines it)")
	fs.DurationVar(&c.NATSGrantLifetime, "nats-grant-lifetime", natsserver.DefaultCalloutLifetime, "longest life of a partner's NATS user JWT from the auth callout (the latest a revoked key's connection ends)")
	fs.IntVar(&c.NATSReplicas, "nats-replicas", 1, "copies a NATS cluster keeps of the hub's buckets and streams")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", "", "S3 endpoint host:port (default: blobs on local disk under the data dir)")
	fs.StringVar(&c.S3Bucket, "s3-bucket", "hub-assets", "S3 bucket, created when missing")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", "", "S3 access key")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", "", "S3 secret key")
	fs.BoolVar(&c.S3Secure, "s3-secure", false, "use TLS to reach S3")
	fs.StringVar(&c.S3Region, "s3-region", "", "S3 region")
	fs.BoolVar(&c.S3Presign, "s3-presign", false, "answer downloads of released assets with a redirect to a 60-second presigned S3 URL")
	fs.Int64Var(&c.MaxAssetBytes, "max-asset-bytes", hub.DefaultMaxAssetBytes, "largest single asset in bytes")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&c.WebhooksAllowPrivate, "webhooks-allow-private", false, "let webhooks point at loopback, private and link-local addresses (tests, closed networks)")
}

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
	if c.NATSReplicas < 1 {
		return fmt.Errorf("HUB_NATS_REPLICAS must be at least 1")
	}
	return nil
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
