package scrub_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/mediatest"
)

// svgDocument is what Inkscape and Illustrator leave in a poster: editor
// state with file names and home directories, RDF metadata, a comment
// naming the author, the editor's private copy of the document, a local
// link, and pictures embedded with their own EXIF.
func svgDocument(embeddedJPEG, embeddedPNG, embeddedSVG []byte) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) by COMMENT-AUTHOR -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
	<!ENTITY ns_ai "http://ns.adobe.com/AdobeIllustrator/10.0/">
	<!ENTITY ns_extend "http://ns.adobe.com/Extensibility/1.0/">
]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
   xmlns:cc="http://creativecommons.org/ns#"
   xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmlns:i="&ns_ai;" xmlns:x="&ns_extend;"
   width="64" height="48" viewBox="0 0 64 48"
   inkscape:version="1.3 (INKSCAPE-VERSION-SECRET)"
   sodipodi:docname="aigerim-secret-file.svg"
   inkscape:export-filename="/home/aigerim/Desktop/export-secret.png">
  <title>Poster</title>
  <desc>A poster for the campaign</desc>
  <sodipodi:namedview id="nv" pagecolor="#ffffff" inkscape:current-layer="layer1"><inkscape:grid id="g"/></sodipodi:namedview>
  <metadata id="metadata5">
    <rdf:RDF>
      <cc:Work rdf:about="">
        <dc:format>image/svg+xml</dc:format>
        <dc:creator><cc:Agent><dc:title>Dana Creator</dc:title></cc:Agent></dc:creator>
        <dc:date>2019-07-08</dc:date>
        <dc:rights><cc:Agent><dc:title>(c) Hub Agency 2024</dc:title></cc:Agent></dc:rights>
        <cc:license rdf:resource="http://creativecommons.org/licenses/by-nd/4.0/"/>
        <dc:coverage>Almaty</dc:coverage>
      </cc:Work>
    </rdf:RDF>
  </metadata>
  <g inkscape:label="Layer of LABEL-SECRET" inkscape:groupmode="layer" id="layer1" i:extraneous="self">
    <rect x="4" y="4" width="20" height="10" fill="#c00"/>
    <image x="30" y="4" width="16" height="12" xlink:href="data:image/jpeg;base64,` + base64.StdEncoding.EncodeToString(embeddedJPEG) + `"/>
    <image x="30" y="20" width="16" height="12" href="file:///home/aigerim/Pictures/local-secret.png"/>
    <image x="4" y="20" width="8" height="8" href="data:image/svg+xml;base64,` + base64.StdEncoding.EncodeToString(embeddedSVG) + `"/>
    <text x="4" y="40">Hello &amp; welcome</text>
  </g>
  <style><![CDATA[ rect.b { fill: url(data:image/png;base64,` + base64.StdEncoding.EncodeToString(embeddedPNG) + `) } ]]></style>
  <i:pgf id="adobe_illustrator_pgf"><![CDATA[ PGF-SECRET-BLOB ]]></i:pgf>
</svg>
`
}

// embeddedImages decodes the base64 data URIs of a document, by type.
func embeddedImages(t *testing.T, doc []byte) map[string][][]byte {
	t.Helper()
	found := map[string][][]byte{}
	re := regexp.MustCompile(`data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)`)
	for _, m := range re.FindAllSubmatch(doc, -1) {
		b, err := base64.StdEncoding.DecodeString(string(m[2]))
		if err != nil {
			t.Fatalf("an embedded image is not base64: %v", err)
		}
		found[string(m[1])] = append(found[string(m[1])], b)
	}
	return found
}

// wellFormed fails unless doc is well-formed XML with an <svg> root.
func wellFormed(t *testing.T, doc []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Entity = map[string]string{"ns_ai": "u:ai", "ns_extend": "u:x"}
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the output is not well-formed: %v\n%s", err, doc)
		}
		if s, ok := tok.(xml.StartElement); ok && root == "" {
			root = s.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("root %q", root)
	}
}

func TestScrubSVG(t *testing.T) {
	for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {Anonymized: false}} {
		t.Run(fmt.Sprintf("anonymized=%v", p.Anonymized), func(t *testing.T) {
			dir := t.TempDir()
			always, anon := identifying()
			jpg := writeFile(t, dir, "e.jpg", jpegBytes(t, 16, 12))
			mediatest.Plant(t, jpg, slices.Concat(always.args, anon.args, rightsArgs())...)
			png := writeFile(t, dir, "e.png", pngBytes(t, 8, 8))
			mediatest.Plant(t, png, slices.Concat(always.args, anon.args)...)
			inner := []byte(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd" sodipodi:docname="INNER-SECRET.svg"><rect width="1" height="1"/></svg>`)
			in := []byte(svgDocument(mediatest.ReadFile(t, jpg), mediatest.ReadFile(t, png), inner))
			gone := []string{"INKSCAPE-VERSION-SECRET", "aigerim-secret-file", "export-secret", "local-secret", "/home/aigerim",
				"LABEL-SECRET", "PGF-SECRET-BLOB", "Almaty", "namedview", "image/svg+xml</dc:format>"}
			if p.Anonymized {
				gone = append(gone, "COMMENT-AUTHOR", "Dana Creator", "2019-07-08")
			}
			out, rep := scrubFile(t, "in.svg", "image/svg+xml", in, p)
			if found := leaks(t, "out.svg", out, gone); len(found) > 0 {
				t.Errorf("left behind:\n%v\n%s", found, out)
			}
			wellFormed(t, out)
			kept := []string{"<title>Poster</title>", "<desc>A poster for the campaign</desc>", `<rect x="4" y="4" width="20" height="10" fill="#c00"/>`,
				"Hello &amp; welcome", "(c) Hub Agency 2024", "http://creativecommons.org/licenses/by-nd/4.0/", `id="layer1"`}
			if !p.Anonymized {
				kept = append(kept, "COMMENT-AUTHOR", "Dana Creator", "2019-07-08")
			}
			for _, k := range kept {
				if !bytes.Contains(out, []byte(k)) {
					t.Errorf("%q went", k)
				}
			}
			images := embeddedImages(t, out)
			embeddedGone := always.values
			if p.Anonymized {
				embeddedGone = slices.Concat(always.values, anon.values)
			}
			for typ, name := range map[string]string{"image/jpeg": "e.jpg", "image/png": "e.png", "image/svg+xml": "e.svg"} {
				if len(images[typ]) != 1 {
					t.Fatalf("%d %s images embedded in the output", len(images[typ]), typ)
				}
				if found := leaks(t, name, images[typ][0], append(embeddedGone, "INNER-SECRET")); len(found) > 0 {
					t.Errorf("left behind in the embedded %s:\n%v", typ, found)
				}
			}
			if tags := mediatest.TagsOf(t, "e.jpg", images["image/jpeg"][0]); tags["XMP-photoshop:Credit"] != "Hub Agency Credit" {
				t.Errorf("the embedded JPEG lost its credit: %v", tags)
			}
			samePixels(t, mediatest.ReadFile(t, jpg), images["image/jpeg"][0])
			for _, f := range []string{"file name", "local file path", "software", "editor data", "GPS position", "other metadata"} {
				if !hasRemoved(rep, f) {
					t.Errorf("the report does not say %q went: %v", f, removed(rep))
				}
			}
			if !slices.Contains(rep.Kept, "copyright notice") || !slices.Contains(rep.Kept, "usage terms") {
				t.Errorf("kept %v", rep.Kept)
			}
			idempotent(t, "image/svg+xml", out, p)
		})
	}
}

func TestScrubSVGUnchanged(t *testing.T) {
	for name, doc := range map[string]string{
		"plain": `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>t</title><rect width="5" height="5"/></svg>`,
		"declaration, script, CDATA, entities": `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE svg [ <!ENTITY red "#c00"> ]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox='0 0 10 10' >
  <style><![CDATA[ rect { fill: &red; } ]]></style>
  <script>console.log(1 &lt; 2)</script>
  <a xlink:href="https://example.org/"><rect fill="&red;" width = "5" height="5" /></a>
  <image href="https://example.org/a.png" width="2" height="2"/>
</svg>`,
		"rights only": `<svg xmlns="http://www.w3.org/2000/svg"><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
			`<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights>(c) Hub</dc:rights></rdf:Description>` +
			`</rdf:RDF></metadata></svg>`,
	} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			out, rep := scrubFile(t, "in.svg", "image/svg+xml", []byte(doc), p)
			if string(out) != doc || len(rep.Removed) > 0 {
				t.Errorf("%s %+v: changed to\n%s\nremoved %v", name, p, out, removed(rep))
			}
		}
	}
}

// TestScrubSVGAddsNothing: the only markup the scrubber writes is start
// tags it shortened and the minimal metadata; scripts stay as many as
// they were.
func TestScrubSVGAddsNothing(t *testing.T) {
	doc := `<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" onload="f()" inkscape:label="a&quot;&gt;&lt;script&gt;x&lt;/script&gt;"><script>f()</script>` +
		`<text inkscape:x="1">&lt;script&gt;</text></svg>`
	out, _ := scrubFile(t, "in.svg", "image/svg+xml", []byte(doc), hub.ScrubPolicy{Anonymized: true})
	if n := strings.Count(string(out), "<script"); n != 1 {
		t.Errorf("%d scripts in\n%s", n, out)
	}
	want := `<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" onload="f()"><script>f()</script><text>&lt;script&gt;</text></svg>`
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestScrubSVGNotParsed(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		anonOnly  bool
	}{
		{"not well-formed", `<svg xmlns="http://www.w3.org/2000/svg"><g></svg>`, false},
		{"not SVG", `<html><body/></html>`, false},
		{"empty", ``, false},
		{"Latin-1", `<?xml version="1.0" encoding="ISO-8859-1"?><svg/>`, false},
		{"external entity", `<!DOCTYPE svg [<!ENTITY e SYSTEM "file:///etc/passwd">]><svg>&e;</svg>`, false},
		{"entity with markup", `<!DOCTYPE svg [<!ENTITY e "<metadata>x</metadata>">]><svg>&e;</svg>`, false},
		{"parameter entity", `<!DOCTYPE svg [<!ENTITY % e "x">]><svg/>`, false},
		{"unknown entity", `<svg>&nbsp;</svg>`, false},
		{"attribute defaults", `<!DOCTYPE svg [<!ATTLIST svg x CDATA "hidden">]><svg/>`, true},
		{"image not base64", `<svg><image href="data:image/svg+xml;utf8,%3Csvg%3E%3C/svg%3E"/></svg>`, true},
		{"embedded BMP", `<svg><image href="data:image/bmp;base64,Qk0="/></svg>`, true},
		{"broken embedded JPEG", `<svg><image href="data:image/jpeg;base64,/9j/4AAQ"/></svg>`, false},
	} {
		for _, p := range []hub.ScrubPolicy{{Anonymized: true}, {}} {
			_, _, err := scrubBytes(t.Context(), "image/svg+xml", []byte(c.doc), p)
			t.Run(fmt.Sprintf("%s/anonymized=%v", c.name, p.Anonymized), func(t *testing.T) {
				if c.anonOnly && !p.Anonymized {
					if err != nil {
						t.Fatalf("refused outside an anonymized package: %v", err)
					}
					return
				}
				notParsed(t, err, "SVG")
			})
		}
	}
}
