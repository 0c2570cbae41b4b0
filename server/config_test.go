package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestConfigFromFlagsAndEnvironment(t *testing.T) {
	var cfg Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"--addr", "0.0.0.0:9000"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HUB_ADDR": "127.0.0.1:1", "HUB_DATA_DIR": "/srv/hub", "HUB_S3_SECURE": "true",
		"HUB_MAX_ASSET_BYTES": "1048576", "HUB_NATS_URL": "nats://a:4222,nats://b:4222",
	}
	if err := ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || cfg.DataDir != "/srv/hub" || !cfg.S3Secure || cfg.MaxAssetBytes != 1<<20 ||
		cfg.NATSURL != "nats://a:4222,nats://b:4222" || cfg.PublicURL != "http://localhost:9000" {
		t.Errorf("config %+v", cfg)
	}
	for _, tc := range []struct{ env, value, want string }{
		{"HUB_S3_SECURE", "maybe", "HUB_S3_SECURE"},
		{"HUB_MAX_ASSET_BYTES", "lots", "HUB_MAX_ASSET_BYTES"},
	} {
		var c Config
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		c.RegisterFlags(fs)
		err := ApplyEnv(fs, func(k string) string {
			if k == tc.env {
				return tc.value
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v", tc.env, tc.value, err)
		}
	}
	for _, c := range []Config{
		{Addr: "nope", MaxAssetBytes: 1, NATSReplicas: 1},
		{Addr: ":1", PublicURL: "ftp://x", MaxAssetBytes: 1, NATSReplicas: 1},
		{Addr: ":1", S3Endpoint: "minio:9000", MaxAssetBytes: 1, NATSReplicas: 1},
		{Addr: ":1", MaxAssetBytes: 200 << 30, NATSReplicas: 1},
	} {
		if err := c.Resolve(); err == nil {
			t.Errorf("%+v resolved without error", c)
		}
	}
}

// TestConfigLimitsAndAudit covers the audit retention, the rate limits,
// the trusted proxies and the upload caps: their defaults, the
// environment, and the values Resolve refuses.
func TestConfigLimitsAndAudit(t *testing.T) {
	var cfg Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.AuditRetention != DefaultAuditRetention || cfg.RateLimitPerKey != 20 || cfg.RateLimitPerKeyBurst != 100 ||
		cfg.RateLimitPerAddr != 10 || cfg.RateLimitPerAddrBurst != 50 || len(cfg.TrustedProxies) != 0 ||
		cfg.MaxUploadsPerKey != 4 || cfg.MaxUploads != 64 {
		t.Errorf("defaults %+v", cfg)
	}
	env := map[string]string{
		"HUB_AUDIT_RETENTION": "720h", "HUB_RATE_LIMIT_PER_KEY": "2.5", "HUB_RATE_LIMIT_PER_KEY_BURST": "5",
		"HUB_RATE_LIMIT_PER_ADDR": "0", "HUB_RATE_LIMIT_PER_ADDR_BURST": "7",
		"HUB_TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.7", "HUB_MAX_UPLOADS_PER_KEY": "2", "HUB_MAX_UPLOADS": "9",
	}
	if err := ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:1"
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	l, err := cfg.limits()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuditRetention != 720*time.Hour || l.PerKey != 2.5 || l.PerKeyBurst != 5 || l.PerAddr != 0 || l.PerAddrBurst != 7 ||
		l.MaxUploadsPerKey != 2 || l.MaxUploads != 9 || len(l.TrustedProxies) != 2 ||
		l.TrustedProxies[0].String() != "10.0.0.0/8" || l.TrustedProxies[1].String() != "192.0.2.7/32" {
		t.Errorf("from the environment: %+v, limits %+v", cfg, l)
	}
	for _, c := range []Config{
		{Addr: ":1", MaxAssetBytes: 1, NATSReplicas: 1, TrustedProxies: []string{"everyone"}},
		{Addr: ":1", MaxAssetBytes: 1, NATSReplicas: 1, RateLimitPerKey: -1},
		{Addr: ":1", MaxAssetBytes: 1, NATSReplicas: 1, MaxUploads: -1},
		{Addr: ":1", MaxAssetBytes: 1, NATSReplicas: 1, AuditRetention: -time.Hour},
	} {
		if err := c.Resolve(); err == nil {
			t.Errorf("%+v resolved without error", c)
		}
	}
}

// TestConfigSweeps covers HUB_SWEEP_EVERY and HUB_SWEEP_GRACE: defaults,
// the environment, and negative values refused.
func TestConfigSweeps(t *testing.T) {
	var cfg Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if cfg.SweepEvery != 10*time.Minute || cfg.SweepGrace != time.Hour {
		t.Errorf("defaults: every %s, grace %s", cfg.SweepEvery, cfg.SweepGrace)
	}
	env := map[string]string{"HUB_SWEEP_EVERY": "90s", "HUB_SWEEP_GRACE": "3h"}
	if err := ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.SweepEvery != 90*time.Second || cfg.SweepGrace != 3*time.Hour {
		t.Errorf("from the environment: every %s, grace %s", cfg.SweepEvery, cfg.SweepGrace)
	}
	for _, c := range []Config{
		{Addr: ":1", MaxAssetBytes: 1, NATSReplicas: 1, SweepEvery: -time.Second},
		{Addr: ":1", MaxAssetBytes: 1, NATSReplicas: 1, SweepGrace: -time.Second},
	} {
		if err := c.Resolve(); err == nil {
			t.Errorf("%+v resolved without error", c)
		}
	}
}

// A host name becomes a replica name resumable upload ids can begin with.
func TestReplicaName(t *testing.T) {
	tests := []struct {
		host string
		err  error
		want string
	}{
		{"hub-1", nil, "hub-1"},
		{"Hub-2.example.org", nil, "hub-2"},
		{"hub_3", nil, "hub-3"},
		{"-a1b2c3d4e5f6-", nil, "a1b2c3d4e5f6"},
		{strings.Repeat("x", 40), nil, strings.Repeat("x", 32)},
		{"___", nil, "hub"},
		{"", errors.New("no host name"), "hub"},
	}
	for _, tt := range tests {
		if got := replicaName(tt.host, tt.err); got != tt.want {
			t.Errorf("replicaName(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

// TestConfigIndexDir: the replica's indexes are under <data-dir>/index
// unless HUB_INDEX_DIR says where, and somewhere of the user's without a
// data dir.
func TestConfigIndexDir(t *testing.T) {
	resolve := func(env map[string]string) Config {
		var cfg Config
		fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
		cfg.RegisterFlags(fs)
		if err := ApplyEnv(fs, func(k string) string { return env[k] }); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Resolve(); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	if got := resolve(map[string]string{"HUB_DATA_DIR": "/srv/hub"}).IndexDir; got != "/srv/hub/index" {
		t.Errorf("default index dir %q", got)
	}
	if got := resolve(map[string]string{"HUB_DATA_DIR": "/srv/hub", "HUB_INDEX_DIR": "/fast/index"}).IndexDir; got != "/fast/index" {
		t.Errorf("HUB_INDEX_DIR gave %q", got)
	}
	c := Config{Addr: "127.0.0.1:0", MaxAssetBytes: 1, NATSReplicas: 1, Replica: "r1"}
	if err := c.Resolve(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.IndexDir, "/syndication-hub/r1/index") {
		t.Errorf("index dir without a data dir: %q", c.IndexDir)
	}
}
