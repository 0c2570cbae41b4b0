package portal

import (
	"html/template"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Bodies come from producers as they typed or pasted them: the hub stores
// and serves them unchanged (hub.Package.Validate checks only that they are
// text). A page shows one as HTML only after keeping the few elements an
// article needs and dropping every attribute but a link's address, so no
// script, style, form, frame or event handler of a producer's reaches a
// reader's browser.

// bodyElements are the elements a body keeps. h1 becomes h2: the page's
// own heading is the headline.
var bodyElements = map[atom.Atom]atom.Atom{
	atom.P: atom.P, atom.Br: atom.Br, atom.Hr: atom.Hr,
	atom.Strong: atom.Strong, atom.B: atom.Strong, atom.Em: atom.Em, atom.I: atom.Em, atom.U: atom.U,
	atom.Ul: atom.Ul, atom.Ol: atom.Ol, atom.Li: atom.Li, atom.Blockquote: atom.Blockquote, atom.Q: atom.Q,
	atom.H1: atom.H2, atom.H2: atom.H2, atom.H3: atom.H3, atom.H4: atom.H4, atom.H5: atom.H4, atom.H6: atom.H4,
	atom.Sub: atom.Sub, atom.Sup: atom.Sup, atom.Cite: atom.Cite, atom.A: atom.A,
}

// droppedWhole are elements whose content goes with them: code, styles,
// embedded documents and form controls are no article text.
var droppedWhole = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Template: true, atom.Noscript: true, atom.Svg: true, atom.Math: true, atom.Textarea: true,
	atom.Select: true, atom.Title: true, atom.Head: true, atom.Frameset: true, atom.Noembed: true,
	atom.Noframes: true, atom.Xmp: true, atom.Plaintext: true,
}

// safeHref returns href when it is an absolute http, https or mailto
// address, else "": a javascript: or data: link must not survive.
func safeHref(href string) string {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return ""
		}
	case "mailto":
	default:
		return ""
	}
	return u.String()
}

// sanitizeBody returns a producer's HTML with only bodyElements kept,
// well nested, text escaped.
func sanitizeBody(s string) template.HTML {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	var open []atom.Atom // the kept elements open now, innermost last
	skip := 0            // depth inside a droppedWhole element
	closeTo := func(a atom.Atom) {
		for i := len(open) - 1; i >= 0; i-- {
			if open[i] == a {
				for j := len(open) - 1; j >= i; j-- {
					b.WriteString("</" + open[j].String() + ">")
				}
				open = open[:i]
				return
			}
		}
	}
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF, or input the tokenizer gave up on: what came before stands
		}
		tok := z.Token()
		switch tt {
		case html.TextToken:
			if skip == 0 {
				b.WriteString(html.EscapeString(tok.Data))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			if droppedWhole[tok.DataAtom] {
				if tt == html.StartTagToken {
					skip++
				}
				continue
			}
			out, ok := bodyElements[tok.DataAtom]
			if skip > 0 || !ok {
				continue
			}
			switch out {
			case atom.Br, atom.Hr:
				b.WriteString("<" + out.String() + ">")
				continue
			case atom.A:
				href := ""
				for _, at := range tok.Attr {
					if at.Key == "href" && at.Namespace == "" {
						href = safeHref(at.Val)
					}
				}
				if href == "" {
					continue // a link to nowhere safe is its text only
				}
				b.WriteString(`<a href="` + html.EscapeString(href) + `" rel="nofollow noopener noreferrer">`)
			case atom.Li, atom.P:
				// An unclosed <li> or <p> ends where the next begins, as
				// HTML's own parser has it.
				if len(open) > 0 && open[len(open)-1] == out {
					closeTo(out)
				}
				b.WriteString("<" + out.String() + ">")
			default:
				b.WriteString("<" + out.String() + ">")
			}
			if tt == html.SelfClosingTagToken {
				b.WriteString("</" + out.String() + ">")
				continue
			}
			open = append(open, out)
		case html.EndTagToken:
			if droppedWhole[tok.DataAtom] {
				if skip > 0 {
					skip--
				}
				continue
			}
			if out, ok := bodyElements[tok.DataAtom]; ok && skip == 0 {
				closeTo(out)
			}
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i].String() + ">")
	}
	return template.HTML(b.String())
}

// plainBody shows a text body as paragraphs: blank lines part them, and
// single line breaks stay.
func plainBody(s string) template.HTML {
	var b strings.Builder
	for para := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para == "" {
			continue
		}
		lines := strings.Split(para, "\n")
		for i := range lines {
			lines[i] = html.EscapeString(lines[i])
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>") + "</p>")
	}
	return template.HTML(b.String())
}

// isHTML reports whether a text's content type says HTML.
func isHTML(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "text/html" || mt == "application/xhtml+xml"
}
