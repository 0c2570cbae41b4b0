// Package mediatest finds the media tools the tests plant metadata with
// and read it back through (exiftool, ffmpeg, ffprobe, pdftoppm), the same
// way everywhere: under CI=true a missing tool fails the test, elsewhere
// the test is skipped with a message saying how to get it.
package mediatest

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Debian packages that hold each tool, for the skip message.
var debianPackage = map[string]string{
	"exiftool": "libimage-exiftool-perl",
	"ffmpeg":   "ffmpeg",
	"ffprobe":  "ffmpeg",
	"pdftoppm": "poppler-utils",
}

// Tool returns the path of a media tool, skipping the test (failing it
// under CI=true) when it is not installed.
func Tool(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	hint := "apt-get install -y --no-install-recommends " + debianPackage[name] + " (or run .ci/install-tools)"
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is not installed (CI=true: media tests may not be skipped): %s", name, hint)
	}
	tb.Skipf("%s is not installed; %s", name, hint)
	return ""
}

// Run runs a tool and returns its standard output, failing the test with
// its standard error when it fails.
func Run(tb testing.TB, name string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(Tool(tb, name), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// Plant writes tags into file with exiftool, in place (-overwrite_original),
// e.g. Plant(t, f, "-GPSLatitude=43.2416", "-Artist=Aigerim").
func Plant(tb testing.TB, file string, tags ...string) {
	tb.Helper()
	args := append([]string{"-q", "-overwrite_original", "-m"}, tags...)
	Run(tb, "exiftool", append(args, file)...)
}

// Tags reads every tag exiftool finds in file, embedded documents and
// unknown tags included, as "Group:Tag" -> value.
func Tags(tb testing.TB, file string) map[string]any {
	tb.Helper()
	out := Run(tb, "exiftool", "-j", "-G1", "-a", "-u", "-ee", "-n", "-b", "-q", "-q", file)
	var docs []map[string]any
	if err := json.Unmarshal(out, &docs); err != nil {
		tb.Fatalf("exiftool -j %s: %v\n%s", file, err, out)
	}
	if len(docs) != 1 {
		tb.Fatalf("exiftool -j %s: %d documents", file, len(docs))
	}
	return docs[0]
}

// TagsOf writes b to a file named name in a temporary directory and reads
// its tags.
func TagsOf(tb testing.TB, name string, b []byte) map[string]any {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return Tags(tb, path)
}

// Picture is a picture with enough detail that a re-encode would show.
func Picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), uint8((x ^ y) * 7), 255})
		}
	}
	return img
}

// ReadFile reads a file the test made.
func ReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
