package search

import (
	"encoding/json"
	"strings"

	"github.com/syndication-hub/hub/hub"
)

// A package is indexed as up to two documents, because its audiences read
// different texts: the working copy (producers and admins, who may read
// drafts) and the live version (partners, who may read only what was
// released: never an unreleased draft's words). A purged package has
// neither: its tombstone has no text to find.
const (
	kindWorking = "w"
	kindLive    = "l"
)

func docID(kind, pkg string) string { return kind + ":" + pkg }

// packageOf returns the package id of a document id.
func packageOf(docID string) string {
	_, id, _ := strings.Cut(docID, ":")
	return id
}

// documents returns the documents package p (id, decoded from the bucket)
// is indexed as, by document id; a kind missing from the map has none.
func documents(id string, p *hub.Package) map[string]map[string]any {
	out := map[string]map[string]any{}
	if p.Status == hub.StatusPurged {
		return out
	}
	facts := comparableFacts(hub.FactsOf(p))
	facts.ID = id
	fb, _ := json.Marshal(facts) // plain struct: cannot fail
	out[docID(kindWorking, id)] = document(id, kindWorking, p, p.Status, string(fb))
	if p.Live != nil {
		out[docID(kindLive, id)] = document(id, kindLive, p.Live, p.Status, string(fb))
	}
	return out
}

// comparableFacts are the facts a document is valid for: a hit is shown
// only while the package's current facts are these (see Index.Search).
// Pending comes and goes with every announcement and changes no text.
func comparableFacts(f hub.ListingFacts) hub.ListingFacts {
	f.Pending = false
	return f
}

// document is version v of package id as indexed: status is the
// package's own (the live version keeps the status it was released in).
func document(id, kind string, v *hub.Package, status hub.Status, facts string) map[string]any {
	var types []string
	for _, t := range hub.AssetTypes {
		if v.HasAssetType(t) {
			types = append(types, string(t))
		}
	}
	var headline, descriptions, text []string
	for _, t := range v.Headlines {
		headline = append(headline, t.Value)
	}
	for _, t := range v.Descriptions {
		descriptions = append(descriptions, t.Value)
	}
	for _, t := range v.Bodies {
		text = append(text, t.Value)
	}
	for _, a := range v.Assets {
		text = append(text, a.Caption, a.AltText, a.Credit)
	}
	for _, s := range v.Subjects {
		text = append(text, s.Name)
	}
	text = append(text, v.By)
	texts := map[string]any{
		groupHeadline:    clean(headline),
		groupDescription: clean(descriptions),
		groupText:        clean(text),
	}
	d := map[string]any{
		fieldPackage: id, fieldKind: kind, fieldCampaign: v.Campaign, fieldStatus: string(status),
		fieldLanguage: v.Language, fieldTypes: types, fieldFacts: facts,
		familyOf(v.Language): texts,
	}
	if len(v.Headlines) > 0 {
		d[fieldHeadline] = v.Headlines[0].Value
	}
	return d
}

// clean drops empty texts and joins the rest, one paragraph each, with
// invalid UTF-8 replaced so a snippet never cuts through a broken rune.
func clean(texts []string) string {
	var b strings.Builder
	for _, t := range texts {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(strings.ToValidUTF8(t, "\uFFFD"))
	}
	return b.String()
}
