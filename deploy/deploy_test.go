// Package deploy_test validates what deploy/ ships the way the tools that
// run it would, on a machine without a Docker engine, a Kubernetes cluster
// or systemd as PID 1: the compose file as `docker compose config` loads
// it, the Kubernetes manifests with kubeconform against the API's schemas,
// the systemd unit with `systemd-analyze verify`, the NATS configs with the
// nats-server library; and every hub setting any of them names is one
// `hub serve` knows, with a value it accepts.
//
// kubeconform and systemd-analyze are found on PATH or in
// $HOME/.cache/hub-tools/bin (.ci/install-tools puts them there); a test
// whose tool is missing skips and says how to get it, or fails under
// CI=true.
package deploy_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/syndication-hub/hub/server"
)

// tool returns the path of an external program a test runs, skipping the
// test (failing it under CI=true) when it is not installed; hint says how
// to get it.
func tool(t *testing.T, name, hint string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "hub-tools", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (CI=true: deploy/ checks may not be skipped): %s", name, hint)
	}
	t.Skipf("%s is not installed; %s", name, hint)
	return ""
}

// hubSettings are the environment variables `hub serve` reads: one per
// flag of server.Config.
func hubSettings() map[string]bool {
	var cfg server.Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	names := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { names[server.EnvName(f.Name)] = true })
	return names
}

// checkHubEnv reports what `hub serve` would refuse in env, the settings
// of one hub process as a deployment file gives them: a HUB_ name it does
// not know (a misspelt setting is silently ignored by the hub, so only
// this catches it), or a value its flags or Config.Resolve reject.
func checkHubEnv(env map[string]string) error {
	known := hubSettings()
	var errs []error
	var names []string
	for name := range env {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if strings.HasPrefix(name, "HUB_") && !known[name] {
			errs = append(errs, fmt.Errorf("%s is not a setting of hub serve (server.Config has no such flag)", name))
		}
	}
	var cfg server.Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := server.ApplyEnv(fs, func(name string) string { return env[name] }); err != nil {
		errs = append(errs, err)
	} else if err := cfg.Resolve(); err != nil {
		errs = append(errs, err)
	} else if _, err := cfg.Logger(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// TestCheckHubEnvRefuses keeps the setting check honest: a misspelt name
// and a value the hub would refuse are both reported.
func TestCheckHubEnvRefuses(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HUB_S3_BUKET": "assets"}, "HUB_S3_BUKET is not a setting"},
		{map[string]string{"HUB_SWEEP_EVERY": "10 minutes"}, "HUB_SWEEP_EVERY"},
		{map[string]string{"HUB_TRUSTED_PROXIES": "172.16.0.0/33"}, "HUB_TRUSTED_PROXIES"},
		{map[string]string{"HUB_REPLICA": "Hub_1"}, "HUB_REPLICA"},
	} {
		err := checkHubEnv(tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("checkHubEnv(%v) = %v, want an error naming %s", tc.env, err, tc.want)
		}
	}
	if err := checkHubEnv(map[string]string{"HUB_S3_BUCKET": "assets", "GOMEMLIMIT": "256MiB"}); err != nil {
		t.Errorf("a known setting and a non-hub variable: %v", err)
	}
}
