package server

import (
	"strings"
	"testing"

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
