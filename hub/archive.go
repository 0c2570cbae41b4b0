package hub

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Archive returns package id as the caller may download it whole: the
// version the caller sees (the live one for partners, the working copy
// for producers) with that version's assets. The checks are those of a
// single asset's download (see Asset): nothing before the embargo, nothing
// of a withdrawn package for partners. Returns ENOTFOUND for a package the
// caller may not see or fetch from.
func (s *Service) Archive(ctx context.Context, k *Key, id string) (*Package, error) {
	sg, err := s.sight(ctx, k, id)
	if err != nil {
		return nil, err
	}
	if !sg.mayDownload() {
		return nil, notFound(id)
	}
	return sg.view, nil
}

// maxArchiveNameRunes keeps a zip's file name short enough for every file
// system and browser, with room for a version and ".zip".
const maxArchiveNameRunes = 80

// ArchiveName returns the file name of p's zip: its first headline, made
// safe as a file name on Windows, macOS and Linux, with the version after
// the first, else its id. The name keeps its script: "Домогательства на
// работе — это преступление.zip".
func ArchiveName(p *Package) string {
	base := ""
	if len(p.Headlines) > 0 {
		base = fileNameOf(p.Headlines[0].Value)
	}
	if base == "" {
		base = p.ID
	}
	if p.Version > 1 {
		base += " v" + strconv.Itoa(p.Version)
	}
	return base + ".zip"
}

// fileNameOf turns a headline into a file name: characters that some file
// system reserves or a shell would trip on become spaces, runs of space
// collapse, and it is cut at a word near maxArchiveNameRunes. Returns ""
// when nothing usable is left, or the name is one Windows reserves.
func fileNameOf(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || strings.ContainsRune(`<>:"/\|?*`, r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	name := b.String()
	if utf8.RuneCountInString(name) > maxArchiveNameRunes {
		runes := []rune(name)[:maxArchiveNameRunes]
		name = string(runes)
		if i := strings.LastIndexByte(name, ' '); i > len(name)/2 {
			name = name[:i]
		}
	}
	// Windows refuses names ending in a dot or a space.
	name = strings.TrimRight(name, ". ")
	switch strings.ToUpper(name) {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return ""
	}
	return name
}

// Credits returns the text of CREDITS.txt in p's zip: what a newsroom
// must carry with the material (credit line, usage terms, copyright,
// content warning) and, per asset, its own credit and caption. uri is
// the package's address at the hub.
func Credits(p *Package, uri string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	or := func(v, none string) string {
		if strings.TrimSpace(v) == "" {
			return none
		}
		return v
	}
	if len(p.Headlines) > 0 {
		line("%s", p.Headlines[0].Value)
		line("")
	}
	line("Package:         %s, version %d, language %s, campaign %s", p.ID, p.Version, p.Language, p.Campaign)
	line("At:              %s", uri)
	line("Credit:          %s", or(p.By, "(none given)"))
	line("Copyright:       %s", or(p.CopyrightNotice, "(none given)"))
	line("Usage terms:     %s", or(p.UsageTerms, "(none given; ask the producer before republishing)"))
	line("Content warning: %s", or(p.ContentWarning, "none"))
	if p.Anonymized {
		line("Anonymized:      yes; the people in this package are anonymized, keep it so")
	}
	switch p.Status {
	case StatusWithdrawn:
		line("")
		line("WITHDRAWN: this package was withdrawn. Do not publish it; take down what you published.")
	case StatusDraft, StatusScheduled:
		line("")
		line("NOT RELEASED: this is the producer's %s copy, not for publication.", p.Status)
	}
	if len(p.Assets) > 0 {
		line("")
		line("Files:")
	}
	for _, a := range p.Assets {
		line("")
		line("  %s", a.Name)
		line("    %s, %s, %d bytes, sha256 %s", a.Type, a.ContentType, a.Size, a.SHA256)
		if a.Credit != "" {
			line("    Credit:  %s", a.Credit)
		}
		if a.Caption != "" {
			line("    Caption: %s", a.Caption)
		}
	}
	return b.String()
}
