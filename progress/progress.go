// Package progress shows file transfers to the person running a tool: a
// bar per file when the output is a terminal, plain log lines otherwise
// (a service's journal, a CI log), where redrawn bars would be noise.
package progress

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Reporter starts the display of one file's transfer.
type Reporter interface {
	// Start begins a transfer of total bytes (-1: unknown) of which done
	// are already there (a resumed download). The Transfer counts what
	// is written to it.
	Start(name string, total, done int64) Transfer
}

// Transfer is one file's transfer in progress.
type Transfer interface {
	io.Writer
	// Finish ends the display; err is the transfer's outcome.
	Finish(err error)
}

// Auto returns bars on w when w is a terminal, else log lines on log.
func Auto(w *os.File, log *slog.Logger) Reporter {
	if w != nil && term.IsTerminal(int(w.Fd())) {
		return Bars{Out: w}
	}
	return Log{Logger: log}
}

// Bars draws a progress bar per file on Out.
type Bars struct{ Out io.Writer }

// Start implements Reporter.
func (b Bars) Start(name string, total, done int64) Transfer {
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetDescription(name),
		progressbar.OptionSetWriter(b.Out),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { io.WriteString(b.Out, "\n") }),
	)
	if done > 0 {
		bar.Set64(done)
	}
	return &barTransfer{bar: bar, out: b.Out}
}

type barTransfer struct {
	bar *progressbar.ProgressBar
	out io.Writer
}

func (t *barTransfer) Write(p []byte) (int, error) {
	t.bar.Add64(int64(len(p)))
	return len(p), nil
}

func (t *barTransfer) Finish(err error) {
	if err != nil {
		t.bar.Exit()
		io.WriteString(t.out, "\n")
		return
	}
	t.bar.Finish()
}

// Log writes a line when a transfer starts and one when it ends, and one
// every Every (default 30 s) in between for long transfers.
type Log struct {
	Logger *slog.Logger
	Every  time.Duration
}

// Start implements Reporter.
func (l Log) Start(name string, total, done int64) Transfer {
	log := l.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	every := l.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	if done > 0 {
		log.Info("resuming", "file", name, "bytes", total, "from", done)
	} else {
		log.Info("transferring", "file", name, "bytes", total)
	}
	now := time.Now()
	return &logTransfer{log: log, name: name, total: total, done: done, start: now, last: now, every: every}
}

type logTransfer struct {
	log         *slog.Logger
	name        string
	total, done int64
	start, last time.Time
	every       time.Duration
}

func (t *logTransfer) Write(p []byte) (int, error) {
	t.done += int64(len(p))
	if now := time.Now(); now.Sub(t.last) >= t.every {
		t.last = now
		t.log.Info("transferring", "file", t.name, "bytes", t.total, "done", t.done)
	}
	return len(p), nil
}

func (t *logTransfer) Finish(err error) {
	if err != nil {
		t.log.Warn("transfer stopped", "file", t.name, "done", t.done, "err", err)
		return
	}
	t.log.Info("transferred", "file", t.name, "bytes", t.done, "took", time.Since(t.start).Round(time.Millisecond))
}

// None shows nothing.
type None struct{}

// Start implements Reporter.
func (None) Start(string, int64, int64) Transfer { return noTransfer{} }

type noTransfer struct{}

func (noTransfer) Write(p []byte) (int, error) { return len(p), nil }
func (noTransfer) Finish(error)                {}
