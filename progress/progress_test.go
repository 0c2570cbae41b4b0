package progress_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/progress"
)

func TestLogLinesOffATerminal(t *testing.T) {
	var logs bytes.Buffer
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := progress.Auto(f, slog.New(slog.NewTextHandler(&logs, nil)))
	if _, ok := r.(progress.Log); !ok {
		t.Fatalf("a file got %T, want log lines", r)
	}
	tr := r.Start("Плакат.png", 1000, 400)
	tr.Write(make([]byte, 600))
	tr.Finish(nil)
	tr = r.Start("видео.mp4", 10, 0)
	tr.Finish(errors.New("connection reset"))
	for _, want := range []string{`msg=resuming file=Плакат.png bytes=1000 from=400`, `msg=transferred file=Плакат.png bytes=1000`,
		`msg="transfer stopped" file=видео.mp4 done=0 err="connection reset"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestBarsDrawTheTransfer(t *testing.T) {
	var out bytes.Buffer
	tr := progress.Bars{Out: &out}.Start("poster.png", 2<<20, 0)
	tr.Write(make([]byte, 2<<20))
	tr.Finish(nil)
	if s := out.String(); !strings.Contains(s, "poster.png") || !strings.Contains(s, "100%") || !strings.Contains(s, "2.1/2.1 MB") {
		t.Errorf("bar output %q", s)
	}
}
