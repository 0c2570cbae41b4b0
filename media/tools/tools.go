// Package tools finds the media programs the hub runs (ffmpeg, ffprobe,
// pdftoppm) and runs them the one safe way: never through a shell, with
// no standard input, at lower priority, under a deadline, a CPU-time cap
// and an address-space limit. The files they read are hostile; what keeps
// a file that is really a playlist from making ffmpeg read local files or
// fetch URLs is in the arguments each caller gives (a forced demuxer,
// -protocol_whitelist file,pipe), and this package insists on none of
// that, so callers must.
package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Tools holds the path of each program, "" when it is not installed: the
// hub runs without them (renditions become unavailable, and in anonymized
// packages what only they could scrub is refused).
type Tools struct {
	FFmpeg   string
	FFprobe  string
	Pdftoppm string
	// prlimit and nice apply the limits; without them a tool runs under
	// its deadline only.
	prlimit string
	nice    string
}

// Find looks the programs up on PATH.
func Find() Tools {
	look := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			return ""
		}
		return p
	}
	return Tools{FFmpeg: look("ffmpeg"), FFprobe: look("ffprobe"), Pdftoppm: look("pdftoppm"),
		prlimit: look("prlimit"), nice: look("nice")}
}

// Report says which programs were found, for /readyz and the start-up
// log: name -> path, or "missing".
func (t Tools) Report() map[string]string {
	out := map[string]string{}
	for name, path := range map[string]string{"ffmpeg": t.FFmpeg, "ffprobe": t.FFprobe, "pdftoppm": t.Pdftoppm} {
		if path == "" {
			path = "missing"
		}
		out[name] = path
	}
	return out
}

// Limits bound one run.
type Limits struct {
	// Timeout ends the run (the process is killed); 0 means a minute.
	Timeout time.Duration
	// CPUSeconds caps the processor time it may use; 0 means no cap.
	CPUSeconds int
	// MemoryBytes caps its address space; 0 means 1 GiB.
	MemoryBytes int64
}

// ErrMissing is a program that is not installed.
var ErrMissing = errors.New("not installed")

// Run runs the program at path with args under limits and returns its
// standard output. A failure carries the end of its standard error.
func (t Tools) Run(ctx context.Context, limits Limits, path string, args ...string) ([]byte, error) {
	if path == "" {
		return nil, ErrMissing
	}
	if limits.Timeout <= 0 {
		limits.Timeout = time.Minute
	}
	if limits.MemoryBytes <= 0 {
		limits.MemoryBytes = 1 << 30
	}
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	argv := append([]string{path}, args...)
	if t.nice != "" {
		argv = append([]string{t.nice, "-n", "10"}, argv...)
	}
	if t.prlimit != "" {
		pre := []string{t.prlimit, "--as=" + strconv.FormatInt(limits.MemoryBytes, 10)}
		if limits.CPUSeconds > 0 {
			pre = append(pre, "--cpu="+strconv.Itoa(limits.CPUSeconds))
		}
		argv = append(append(pre, "--"), argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = nil // /dev/null
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedBuffer{max: 64 << 10, buf: &stderr}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil && err != nil {
		return nil, fmt.Errorf("%s: gave up after %s: %w", base(path), limits.Timeout, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", base(path), err, tail(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func base(path string) string {
	return path[strings.LastIndex(path, "/")+1:]
}

// tail is the last lines of a tool's complaint, enough to say why.
func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 400 {
		s = "..." + s[len(s)-400:]
	}
	return s
}

// limitedBuffer keeps the first max bytes written to it and drops the rest:
// a tool may print without end about a hostile file.
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
