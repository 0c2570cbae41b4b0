package hub

import (
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Asset names are what people see and save files as, on every system an
// outlet runs: Windows, macOS and Linux newsrooms, and the zip tools in
// between. A name is refused when one of them would read it as something
// else, and two names that one of them would store as one file are one
// name (NameKey).

// windowsRefuses are the characters Windows does not allow in a file name
// (the slash and backslash are refused as path separators already).
const windowsRefuses = `<>:"|?*`

// reservedStem reports whether stem (a name up to its first dot) is one
// of the device names Windows reserves whatever the extension: CON, PRN,
// AUX, NUL, COM0-9 and LPT0-9, the superscript-digit forms COM¹ to LPT³
// included, in any case, with trailing spaces or dots ignored.
func reservedStem(stem string) bool {
	stem = strings.ToUpper(strings.TrimRight(stem, " ."))
	switch stem {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	for _, dev := range []string{"COM", "LPT"} {
		digit, ok := strings.CutPrefix(stem, dev)
		if !ok {
			continue
		}
		switch digit {
		case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
			return true
		}
	}
	return false
}

// invisible reports whether r changes how a name shows without showing
// itself: bidi controls (a name can then read "gpj.exe" as "exe.jpg"),
// zero-width characters and other format characters (Unicode Cf).
func invisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// ValidAssetName checks a user-chosen asset name. Names are shown to people
// and used as download file names, never as storage paths; still, they are
// refused when a file system or a zip tool would read them as a path or a
// device, or when they would show as something they are not. Cyrillic,
// Kazakh, spaces and other printable Unicode are welcome.
func ValidAssetName(name string) error {
	stem, _, _ := strings.Cut(name, ".")
	switch {
	case name == "":
		return Errorf(EINVALID, "the asset name is empty")
	case len(name) > 255:
		return Errorf(EINVALID, "the asset name is longer than 255 bytes")
	case !utf8.ValidString(name):
		return Errorf(EINVALID, "the asset name is not valid UTF-8")
	case name == "." || name == "..":
		return Errorf(EINVALID, "the asset name %q is not a file name", name)
	case strings.ContainsAny(name, `/\`):
		return Errorf(EINVALID, "the asset name %q contains a slash; give a plain file name such as \"poster.png\"", name)
	case strings.ContainsFunc(name, unicode.IsControl):
		return Errorf(EINVALID, "the asset name contains a control character")
	case strings.ContainsFunc(name, invisible):
		i := strings.IndexFunc(name, invisible)
		r := []rune(name[i:])[0]
		return Errorf(EINVALID, "the asset name contains the invisible formatting character U+%04X, which can make a name show as another", r)
	case strings.ContainsAny(name, windowsRefuses):
		return Errorf(EINVALID, "the asset name %q contains one of %s, which Windows does not allow in file names", name, windowsRefuses)
	case strings.TrimSpace(name) != name:
		return Errorf(EINVALID, "the asset name %q starts or ends with a space", name)
	case strings.HasSuffix(name, "."):
		return Errorf(EINVALID, "the asset name %q ends with a dot, which Windows drops", name)
	case reservedStem(stem):
		return Errorf(EINVALID, "the asset name %q is a device name on Windows (%s), whatever its extension; choose another", name, strings.TrimRight(stem, " ."))
	}
	return nil
}

// folder folds case the Unicode way (ß and ss, Kazakh and Turkish dotted
// letters the same on every system), without a locale.
var folder = cases.Fold()

// NameKey is what two names share when Windows, macOS or a zip tool would
// store them as one file: the same letters in another case, or the same
// text in another Unicode normal form (й as one code point or as и and a
// combining breve). A package holds at most one asset per key.
func NameKey(name string) string {
	return folder.String(norm.NFC.String(name))
}

// FileNames returns, for names (a package's asset names, in order), the
// file name each is saved as in a zip or an outlet's folder: the name
// itself when it is a valid one, else made valid (characters Windows
// refuses and invisible ones replaced or dropped, a device name or a
// trailing dot or space mended); and names that would be one file on
// some system made distinct with " (2)", " (3)" before the extension. A
// package made before these rules can so hold "dup.png" and "DUP.png",
// and both reach every outlet. Names in taken (lower-cased keys by
// NameKey, such as "manifest.json") are never given.
func FileNames(names []string, taken ...string) []string {
	used := map[string]bool{}
	for _, t := range taken {
		used[NameKey(t)] = true
	}
	out := make([]string, len(names))
	for i, name := range names {
		base := portable(name)
		candidate := base
		for n := 2; used[NameKey(candidate)]; n++ {
			ext := path.Ext(base)
			if len(ext) == len(base) { // ".env": no stem to number
				ext = ""
			}
			candidate = strings.TrimSuffix(base, ext) + " (" + strconv.Itoa(n) + ")" + ext
		}
		used[NameKey(candidate)] = true
		out[i] = candidate
	}
	return out
}

// portable returns name as a valid asset name, changing as little as it
// can.
func portable(name string) string {
	if ValidAssetName(name) == nil {
		return name
	}
	name = strings.ToValidUTF8(name, "_")
	var b strings.Builder
	for _, r := range name {
		switch {
		case invisible(r):
		case unicode.IsControl(r), strings.ContainsRune(windowsRefuses+`/\`, r):
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.TrimRight(strings.TrimSpace(b.String()), ". ")
	if name == "" || name == "." || name == ".." {
		name = "_"
	}
	if stem, rest, _ := strings.Cut(name, "."); reservedStem(stem) {
		name = strings.TrimRight(stem, " .") + "_"
		if rest != "" {
			name += "." + rest
		}
	}
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if ValidAssetName(name) != nil {
		return "asset" // nothing of the name survives; FileNames numbers it
	}
	return name
}
