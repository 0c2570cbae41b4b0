package deploy_test

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// installedHub is where hub.service expects the binary.
const installedHub = "/usr/local/bin/hub"

// TestSystemdUnit runs `systemd-analyze verify` on hub.service. It needs
// no running systemd (it works in a container whose PID 1 is anything),
// but it checks that ExecStart's program exists: the unit is copied with
// that path pointing at a stand-in executable, every other line as it is.
// verify reports a misspelt directive or a value it cannot parse as a
// warning ("..., ignoring") and still exits 0, so any line it prints about
// the unit fails the test.
func TestSystemdUnit(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "apt-get install -y --no-install-recommends systemd (or run .ci/install-tools)")
	unit := standInUnit(t)
	out, err := exec.Command(analyze, "verify", "--man=no", unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify hub.service: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case line == "":
		case strings.Contains(line, unit), strings.HasPrefix(line, "hub.service"):
			t.Errorf("systemd-analyze verify: %s", line)
		default:
			// About another unit of this machine (its dependencies).
			t.Logf("systemd-analyze verify: %s", line)
		}
	}
}

// TestSystemdVerifyRefuses keeps TestSystemdUnit honest: the warnings
// verify prints for a misspelt directive and an unparsable value name the
// unit, so they fail it.
func TestSystemdVerifyRefuses(t *testing.T) {
	analyze := tool(t, "systemd-analyze", "apt-get install -y --no-install-recommends systemd (or run .ci/install-tools)")
	unit := standInUnit(t)
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	spoilt := strings.Replace(string(b), "ProtectProc=invisible", "ProtectProc=invisibl\nProtectKernelTunable=yes", 1)
	if err := os.WriteFile(unit, []byte(spoilt), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(analyze, "verify", "--man=no", unit).CombinedOutput()
	for _, want := range []string{unit + ":", "invisibl", "ProtectKernelTunable"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("systemd-analyze verify on a spoilt unit printed:\n%s\nwant %q in it", out, want)
		}
	}
}

// standInUnit writes hub.service into a temporary directory with its
// ExecStart running a stand-in for the hub, and returns its path.
func standInUnit(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("hub.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hub")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	execs := 0
	for i, line := range lines {
		if rest, ok := strings.CutPrefix(line, "ExecStart="+installedHub+" "); ok {
			lines[i] = "ExecStart=" + bin + " " + rest
			execs++
		}
	}
	if execs != 1 {
		t.Fatalf("hub.service has %d lines ExecStart=%s ..., want 1", execs, installedHub)
	}
	unit := filepath.Join(dir, "hub.service")
	if err := os.WriteFile(unit, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return unit
}

// TestHubEnvExample: hub.env.example, the file hub.service reads, shows
// every setting of `hub serve` (its header says so), each commented out
// with a value the hub accepts (with the unit's own Environment= lines),
// and names none the hub does not know.
func TestHubEnvExample(t *testing.T) {
	example, err := os.ReadFile("hub.env.example")
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("hub.service")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	shown := map[string]bool{}
	for _, line := range strings.Split(string(example), "\n") {
		m := envAssignment.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		shown[m[1]] = true
		_, value, _ := strings.Cut(line, "=")
		// A placeholder such as <host name> is not a value to try.
		if !placeholder.MatchString(value) {
			env[m[1]] = value
		}
	}
	for _, line := range strings.Split(string(unit), "\n") {
		if kv, ok := strings.CutPrefix(line, "Environment="); ok {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	for _, name := range slices.Sorted(maps.Keys(hubSettings())) {
		if !shown[name] {
			t.Errorf("hub.env.example does not show %s", name)
		}
	}
	if err := checkHubEnv(env); err != nil {
		t.Errorf("hub.env.example with every setting uncommented, and hub.service's Environment=: %v", err)
	}
	if !slices.Contains(strings.Split(string(unit), "\n"), "EnvironmentFile=-/etc/hub/hub.env") {
		t.Error("hub.service does not read /etc/hub/hub.env, where its header installs hub.env.example")
	}
}

var placeholder = regexp.MustCompile(`^<.*>$`)
