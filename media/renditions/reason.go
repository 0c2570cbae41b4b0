package renditions

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"unicode"
)

// maxReason bounds what of a tool's complaint a reason quotes.
const maxReason = 240

// reason is a sentence for a producer: what failed, and why as far as it
// can be told without paths, stacks or pages of tool output. The whole
// error goes to the log.
func (j *job) reason(what string, err error) string {
	j.m.logger.Info("renditions: "+what, "type", j.base, "err", err)
	if j.ctx.Err() != nil {
		return "the hub stopped before it was made"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return what + ": it took longer than the hub allows"
	}
	var msg string
	var exit *exec.ExitError
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			switch ws.Signal() {
			case syscall.SIGXCPU:
				return what + ": it needed more processor time than the hub allows"
			case syscall.SIGKILL:
				return what + ": it needed more processor time or memory than the hub allows"
			}
			return what + ": the program reading it crashed (it may need more memory than the hub allows)"
		}
		// tools.Run says "<program>: exit status N: <the end of its complaint>".
		if _, complaint, ok := strings.Cut(err.Error(), exit.Error()+": "); ok {
			msg = complaint
		}
	case errors.As(err, &pathErr):
		msg = pathErr.Err.Error()
	default:
		msg = err.Error()
	}
	if msg = j.clean(msg); msg == "" {
		return what
	}
	return what + ": " + msg
}

// clean turns a tool's or a decoder's complaint into a clause: the file's
// and the directory's names out, ffmpeg's "[demuxer @ 0x...]" prefixes
// out, the first two distinct lines, printable, bounded.
func (j *job) clean(msg string) string {
	var names []string
	for _, p := range []string{j.src, j.dir} {
		names = append(names, p)
		if abs, err := filepath.Abs(p); err == nil {
			names = append(names, abs)
		}
	}
	for _, p := range names {
		if p == "" || p == "." || p == "/" {
			continue
		}
		msg = strings.ReplaceAll(msg, "file:"+p, "the file")
		msg = strings.ReplaceAll(msg, p, "the file")
	}
	var lines []string
	for line := range strings.Lines(msg) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			if end := strings.Index(line, "] "); end > 0 && strings.Contains(line[:end], " @ ") {
				line = strings.TrimSpace(line[end+2:])
			}
		}
		line = strings.TrimRight(line, ".")
		if line == "" || (strings.HasPrefix(line, "...") && len(lines) == 0 && strings.Contains(msg, "\n")) {
			continue // the cut start of a long complaint
		}
		if !containsLine(lines, line) {
			lines = append(lines, line)
		}
		if len(lines) == 2 {
			break
		}
	}
	out := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.Join(lines, "; "))
	if r := []rune(out); len(r) > maxReason {
		out = string(r[:maxReason]) + "..."
	}
	return out
}

func containsLine(lines []string, line string) bool {
	for _, l := range lines {
		if strings.EqualFold(l, line) {
			return true
		}
	}
	return false
}
