// Package i18n holds the portal's languages: Kazakh, Kyrgyz, Russian and
// English message catalogs (one file each, the keys shared), the choice
// of a visitor's language, plural forms and numbers by golang.org/x/text,
// and dates by CLDR tables of our own (cldr.go).
//
// A message is looked up by key; {name} placeholders are filled from
// name/value pairs. A plural message has one key per form the language
// needs, "key#one", "key#few", "key#many", "key#other", and is asked for
// with N. The test in this package fails when a message misses a
// language or its placeholders differ between languages.
package i18n

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Lang is a language the portal speaks, by its BCP 47 code.
type Lang string

// The portal's languages.
const (
	KK Lang = "kk"
	KY Lang = "ky"
	RU Lang = "ru"
	EN Lang = "en"
)

// Default is the language of a visitor whose browser names none of ours:
// Russian is the one language every partner outlet in both countries reads.
const Default = RU

// Langs returns the portal's languages in the switcher's order.
func Langs() []Lang { return []Lang{KK, KY, RU, EN} }

// Valid reports whether l is one of the portal's languages.
func Valid(l Lang) bool {
	_, ok := catalogs[l]
	return ok
}

// Name is the language's name in itself, for the switcher.
func (l Lang) Name() string {
	return map[Lang]string{KK: "Қазақша", KY: "Кыргызча", RU: "Русский", EN: "English"}[l]
}

func (l Lang) tag() language.Tag {
	return map[Lang]language.Tag{KK: language.Kazakh, KY: language.Kirghiz, RU: language.Russian, EN: language.English}[l]
}

// catalogs are the messages by language: the portal's frame in kk.go,
// ky.go, ru.go and en.go, and each area's own pages in <area>_<lang>.go
// (packages: what partners and the public read; producer: making and
// releasing packages; admin: running the hub; partner: an outlet's own
// set-up and reports). A key belongs to one area.
var catalogs = map[Lang]map[string]string{
	KK: merged(kk, packagesKK, producerKK, adminKK, partnerKK),
	KY: merged(ky, packagesKY, producerKY, adminKY, partnerKY),
	RU: merged(ru, packagesRU, producerRU, adminRU, partnerRU),
	EN: merged(en, packagesEN, producerEN, adminEN, partnerEN),
}

// merged is the union of catalogs; a key in two of them is a mistake the
// catalog test finds (areaKeys), so which one wins does not matter.
func merged(parts ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, part := range parts {
		for k, v := range part {
			out[k] = v
		}
	}
	return out
}

// matcher picks among the portal's languages; Default first, since
// x/text's matcher falls back to the first tag.
var matcher = language.NewMatcher([]language.Tag{language.Russian, language.Kazakh, language.Kirghiz, language.English})

var matched = []Lang{RU, KK, KY, EN}

// Match returns the visitor's language: the one the cookie names when it
// is ours, else the best of the Accept-Language header, else Default. A
// language x/text only guesses at (No confidence: "de" becomes English,
// "uk" Russian) is taken as no choice, so the visitor gets Default.
func Match(cookie, acceptLanguage string) Lang {
	if l := Lang(cookie); Valid(l) {
		return l
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return matched[i]
}

// Printer speaks one language.
type Printer struct {
	lang Lang
	msgs map[string]string
	num  *message.Printer
}

// For returns the printer of l (Default for a language not ours).
func For(l Lang) *Printer {
	if !Valid(l) {
		l = Default
	}
	return &Printer{lang: l, msgs: catalogs[l], num: message.NewPrinter(l.tag())}
}

// Lang is the printer's language.
func (p *Printer) Lang() Lang { return p.lang }

// Keys returns every message key of any language, sorted, plural forms
// as "key#form" (the forms differ between languages): for the tests that
// look for messages left in another language on a page.
func Keys() []string {
	all := map[string]bool{}
	for _, msgs := range catalogs {
		for k := range msgs {
			all[k] = true
		}
	}
	return slices.Sorted(maps.Keys(all))
}

// T returns message key with its placeholders filled from name/value
// pairs: T("link.title", "name", "Aigerim"). A missing key shows itself,
// so a page never hides that it lacks a message.
func (p *Printer) T(key string, args ...any) string {
	m, ok := p.msgs[key]
	if !ok {
		return key
	}
	return p.fill(m, args)
}

// N returns the plural message key in the form count n takes, with {n}
// filled as a number and the other placeholders as in T.
func (p *Printer) N(key string, n int, args ...any) string {
	form := plural.Cardinal.MatchPlural(p.lang.tag(), n, 0, 0, 0, 0)
	name := map[plural.Form]string{plural.One: "one", plural.Few: "few", plural.Many: "many"}[form]
	m, ok := p.msgs[key+"#"+name]
	if name == "" || !ok {
		m, ok = p.msgs[key+"#other"]
	}
	if !ok {
		return key
	}
	return p.fill(m, append([]any{"n", p.Number(n)}, args...))
}

func (p *Printer) fill(m string, args []any) string {
	if len(args) == 0 {
		return m
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(m)
}

// Number formats n with the language's digit grouping (a no-break space
// in kk, ky and ru, a comma in en).
func (p *Printer) Number(n int) string { return p.num.Sprintf("%d", n) }

// Date formats t as CLDR's medium date of the language.
func (p *Printer) Date(t time.Time) string {
	return formatCLDR(dateTables[p.lang], dateTables[p.lang].medium, t)
}

// DateTime formats t as the medium date and the short time, joined as
// CLDR joins them in the language.
func (p *Printer) DateTime(t time.Time) string {
	d := dateTables[p.lang]
	return strings.NewReplacer("{1}", formatCLDR(d, d.medium, t), "{0}", formatCLDR(d, d.time, t)).Replace(d.dateTime)
}
