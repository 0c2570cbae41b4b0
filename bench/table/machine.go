package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine is what the table ran on, for telling one run's figures from
// another's: the same code is several times slower on a loaded machine.
type machine struct {
	cpu, memory, kernel, goVersion, commit string
	cores                                  int
	started                                time.Time
	took                                   time.Duration
	// loadStart and loadEnd are /proc/loadavg's 1, 5 and 15 minute
	// averages before the first benchmark and after the last.
	loadStart, loadEnd string
}

// describe fills in what can be read; what cannot stays "unknown".
func (m *machine) describe(ctx context.Context, root string) {
	m.cores = runtime.NumCPU()
	m.cpu = procField("/proc/cpuinfo", "model name")
	m.memory = "unknown"
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "unknown" {
		if n, err := strconv.ParseInt(strings.TrimSuffix(kb, " kB"), 10, 64); err == nil {
			m.memory = fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
		}
	}
	m.kernel = "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = runtime.GOOS + " " + strings.TrimSpace(string(b))
	}
	m.goVersion = command(ctx, root, "go", "env", "GOVERSION")
	m.commit = command(ctx, root, "git", "describe", "--always", "--dirty")
}

// procField returns the value of the first "name: value" line of a /proc
// file, or "unknown".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func command(ctx context.Context, dir, name string, args ...string) string {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// loadAverage is the 1, 5 and 15 minute load averages, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
