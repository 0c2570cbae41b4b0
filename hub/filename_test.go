package hub_test

import (
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

func TestValidAssetNameRefusesWhatSystemsReadAsSomethingElse(t *testing.T) {
	for name, ok := range map[string]bool{
		"poster.png": true, "Плакат кампании.png": true, "Жұмыстағы қудалау (kk).mp4": true, "интервью #2 — полное.m4a": true,
		"console.png": true, "COMPANY.pdf": true, "com10.txt": true, "aux-poster.png": true, "nul_ok.txt": true,
		".hidden": true, "a.b.c": true, "Ü.png": true,
		// Bidi overrides and zero-width characters make a name show as another.
		"poster\u202Egnp.exe": false, "poster\u200B.png": false, "po\u2066ster.png": false, "\uFEFFposter.png": false,
		"poster\u200D.png": false, "poster\u00AD.png": false,
		// Windows device names, whatever the extension or case.
		"CON": false, "con.png": false, "Aux.tar.gz": false, "NUL.txt": false, "prn": false, "COM1.jpg": false,
		"lpt9.doc": false, "COM¹.png": false, "lpt³": false, "com0.txt": false, "CON .txt": false,
		// Trailing dots and spaces Windows drops; characters it refuses.
		"poster.": false, "poster..": false, "poster.png ": false, "a:b.png": false, "C:poster.png": false,
		"what?.png": false, "a*b": false, `say "hi".txt`: false, "a<b>.png": false, "a|b": false,
		// As before.
		"": false, ".": false, "..": false, "../poster.png": false, "a/b": false, `a\b`: false, "a\x00b": false,
		"a\nb": false, "a\x7fb": false, " lead": false, "\xff\xfe": false, strings.Repeat("я", 128): false,
	} {
		if err := hub.ValidAssetName(name); (err == nil) != ok {
			t.Errorf("ValidAssetName(%q) = %v, want ok=%v", name, err, ok)
		} else if err != nil && hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("ValidAssetName(%q): code %q", name, hub.ErrorCode(err))
		}
	}
}

func TestNameKeyFoldsCaseAndUnicodeForm(t *testing.T) {
	same := [][2]string{
		{"dup.png", "DUP.png"}, {"Плакат.png", "плакат.PNG"}, {"Straße.png", "STRASSE.png"},
		{"й.png", "и\u0306.png"}, // й precomposed, and и with a combining breve
		{"Қазақ.jpg", "қазақ.jpg"}, {"Ы.mp4", "ы.MP4"},
	}
	for _, p := range same {
		if hub.NameKey(p[0]) != hub.NameKey(p[1]) {
			t.Errorf("%q and %q have different keys", p[0], p[1])
		}
	}
	for _, p := range [][2]string{{"poster.png", "poster.jpg"}, {"и.png", "й.png"}, {"е.png", "ё.png"}} {
		if hub.NameKey(p[0]) == hub.NameKey(p[1]) {
			t.Errorf("%q and %q share a key", p[0], p[1])
		}
	}
}

func TestFileNamesAreValidAndDistinct(t *testing.T) {
	names := []string{"dup.png", "DUP.png", "Dup.png", "a:b.png", "CON.txt", "poster.", "what?.png", "what_.png",
		"poster\u202Egnp.exe", "manifest.json", "й.png", "и\u0306.png", "ok.png", ".env", ".ENV"}
	got := hub.FileNames(names, "manifest.json", "ninjs.json", "CREDITS.txt")
	want := []string{"dup.png", "DUP (2).png", "Dup (3).png", "a_b.png", "CON_.txt", "poster", "what_.png", "what_ (2).png",
		"postergnp.exe", "manifest (2).json", "й.png", "и\u0306 (2).png", "ok.png", ".env", ".ENV (2)"}
	keys := map[string]bool{}
	for i, name := range got {
		if err := hub.ValidAssetName(name); err != nil {
			t.Errorf("%q became %q, which is not valid: %v", names[i], name, err)
		}
		if keys[hub.NameKey(name)] {
			t.Errorf("%q became %q, which another name became too", names[i], name)
		}
		keys[hub.NameKey(name)] = true
		if name != want[i] {
			t.Errorf("%q became %q, want %q", names[i], name, want[i])
		}
	}
	if hub.FileNames([]string{"poster.png"})[0] != "poster.png" {
		t.Error("a valid name is changed")
	}
}
