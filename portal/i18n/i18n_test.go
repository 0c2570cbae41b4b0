package i18n

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/feature/plural"
)

// pluralForms are the forms each language's cardinal rule uses for whole
// numbers, by x/text.
func pluralForms(l Lang) []string {
	seen := map[string]bool{"other": true}
	for n := range 200 {
		switch plural.Cardinal.MatchPlural(l.tag(), n, 0, 0, 0, 0) {
		case plural.One:
			seen["one"] = true
		case plural.Few:
			seen["few"] = true
		case plural.Many:
			seen["many"] = true
		}
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

func placeholders(m string) []string {
	p := placeholder.FindAllString(m, -1)
	slices.Sort(p)
	return slices.Compact(p)
}

// TestCatalogsComplete fails when a message lacks a language, a plural
// message lacks a form its language needs, or the languages' versions of
// a message have different placeholders.
func TestCatalogsComplete(t *testing.T) {
	base := map[string]bool{}
	for _, msgs := range catalogs {
		for k := range msgs {
			b, _, _ := strings.Cut(k, "#")
			base[b] = true
		}
	}
	for b := range base {
		var want []string
		for _, l := range Langs() {
			msgs := catalogs[l]
			var forms []string
			if _, ok := msgs[b]; ok {
				forms = []string{b}
			} else {
				for _, f := range pluralForms(l) {
					forms = append(forms, b+"#"+f)
				}
			}
			for _, k := range forms {
				m, ok := msgs[k]
				if !ok || strings.TrimSpace(m) == "" {
					t.Errorf("%s: no %s message %q", l, l.Name(), k)
					continue
				}
				got := placeholders(m)
				if strings.Contains(k, "#") {
					got = slices.DeleteFunc(got, func(p string) bool { return p == "{n}" })
				}
				if want == nil {
					want = got
				} else if !slices.Equal(got, want) {
					t.Errorf("%s %q has placeholders %v, other languages %v", l, k, got, want)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		cookie, accept string
		want           Lang
	}{
		{"", "kk-KZ,kk;q=0.9,ru;q=0.8", KK},
		{"", "ky", KY},
		{"", "ru-RU,ru;q=0.9", RU},
		{"", "en-US,en;q=0.9", EN},
		{"", "de", RU},
		{"", "", RU},
		{"", "*", RU},
		{"kk", "en", KK},
		{"fr", "ky", KY},
		{"", "be", RU},
	}
	for _, tt := range tests {
		if got := Match(tt.cookie, tt.accept); got != tt.want {
			t.Errorf("Match(%q, %q) = %s, want %s", tt.cookie, tt.accept, got, tt.want)
		}
	}
}

func TestPluralsAndNumbers(t *testing.T) {
	tests := []struct {
		lang Lang
		n    int
		want string
	}{
		{RU, 1, "Открыт 1 сеанс"},
		{RU, 3, "Открыто 3 сеанса"},
		{RU, 5, "Открыто 5 сеансов"},
		{RU, 21, "Открыт 21 сеанс"},
		{EN, 1, "1 session open"},
		{EN, 1234, "1,234 sessions open"},
		{KK, 2, "2 сеанс ашық"},
		{KY, 1234, "1\u00a0234 сеанс ачык"},
	}
	for _, tt := range tests {
		if got := For(tt.lang).N("sessions.count", tt.n); got != tt.want {
			t.Errorf("%s %d: %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestDates(t *testing.T) {
	at := time.Date(2026, 1, 5, 14, 7, 0, 0, time.UTC)
	tests := []struct {
		lang           Lang
		date, dateTime string
	}{
		{RU, "5 янв. 2026 г.", "5 янв. 2026 г., 14:07"},
		{KK, "2026 ж. 05 қаң.", "2026 ж. 05 қаң., 14:07"},
		{KY, "2026-ж., 5-янв.", "2026-ж., 5-янв. 14:07"},
		{EN, "Jan 5, 2026", "Jan 5, 2026, 2:07 PM"},
	}
	for _, tt := range tests {
		p := For(tt.lang)
		if got := p.Date(at); got != tt.date {
			t.Errorf("%s date %q, want %q", tt.lang, got, tt.date)
		}
		if got := p.DateTime(at); got != tt.dateTime {
			t.Errorf("%s date and time %q, want %q", tt.lang, got, tt.dateTime)
		}
	}
}

func TestFill(t *testing.T) {
	if got := For(KK).T("link.title", "name", "Айгерім"); got != "Айгерім ретінде кіру" {
		t.Errorf("got %q", got)
	}
	if got := For(EN).T("no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key shows %q", got)
	}
}

// Each key belongs to one area's catalog, so that merging them loses
// nothing.
func TestAreaKeys(t *testing.T) {
	for l, parts := range map[Lang][]map[string]string{
		KK: {kk, packagesKK, producerKK, adminKK, partnerKK}, KY: {ky, packagesKY, producerKY, adminKY, partnerKY},
		RU: {ru, packagesRU, producerRU, adminRU, partnerRU}, EN: {en, packagesEN, producerEN, adminEN, partnerEN},
	} {
		seen := map[string]int{}
		for i, part := range parts {
			for k := range part {
				if j, ok := seen[k]; ok {
					t.Errorf("%s: %q is in catalog %d and %d", l, k, j, i)
				}
				seen[k] = i
			}
		}
	}
}
