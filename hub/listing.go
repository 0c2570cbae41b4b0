package hub

// PackageQuery filters and pages a listing. Zero values mean "any".
type PackageQuery struct {
	Campaign string
	Language string
	Status   Status
	Type     AssetType
	// Pending keeps only packages with an announcement still owed: the
	// reconciler's round, not a filter clients can ask for.
	Pending bool
	// Text keeps only packages whose text matches these words (the q
	// filter): the search index answers such a listing, not the catalog.
	Text string
	// After is the cursor: the listing continues with packages older than it.
	After string
	// Limit is the page size, 1 to MaxPageSize; 0 means DefaultPageSize.
	Limit int
}

// Page sizes for listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// PackagePage is one page of a listing, newest first. Next is the cursor
// for the following page, "" on the last one.
type PackagePage struct {
	Items []*Package
	Next  string
}

// ScanPage answers PackageStore.ListPackages from every package, oldest
// id first, by looking at each: for catalogs that keep the packages in
// memory and have no index to ask yet. Next is set only when a package
// beyond the page matches, so the last page never points at an empty one.
func ScanPage(oldestFirst []*Package, f Filter, q PackageQuery) PackagePage {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	var page PackagePage
	for i := len(oldestFirst) - 1; i >= 0; i-- {
		p := oldestFirst[i]
		if q.After != "" && p.ID >= q.After || !f.Matches(p, q) {
			continue
		}
		if len(page.Items) == limit {
			page.Next = page.Items[len(page.Items)-1].ID
			break
		}
		page.Items = append(page.Items, p)
	}
	return page
}

// ListingFacts is what a listing needs of a package to decide whether it
// matches a filter, without its texts and assets: a catalog's index keeps
// these for every package (a few dozen bytes, not the document's
// kilobytes) and reads documents only for the page it answers.
type ListingFacts struct {
	ID       string
	Campaign string
	Status   Status
	Language string
	// Types are the asset types of the working copy.
	Types AssetTypeSet
	// Live says there is a released version; the Live fields are its.
	Live         bool
	LiveCampaign string
	LiveLanguage string
	LiveTypes    AssetTypeSet
	LiveVersion  int
	WasReleased  bool
	// Pending says an announcement is still owed (the reconciler's work).
	Pending bool
}

// FactsOf returns what a listing index keeps of p.
func FactsOf(p *Package) ListingFacts {
	f := ListingFacts{ID: p.ID, Campaign: p.Campaign, Status: p.Status, Language: p.Language,
		Types: typesOf(p.Assets), WasReleased: p.WasReleased, Pending: p.Pending != nil}
	if p.Live != nil {
		f.Live, f.LiveCampaign, f.LiveLanguage, f.LiveTypes, f.LiveVersion = true, p.Live.Campaign, p.Live.Language, typesOf(p.Live.Assets), p.Live.Version
	}
	return f
}

// AssetTypeSet is a set of asset types, a bit each in the order of
// AssetTypes; a type not there is in no set, so a filter on it matches
// nothing (as no asset has it).
type AssetTypeSet uint8

func assetTypeBit(t AssetType) AssetTypeSet {
	for i, b := range AssetTypes {
		if b == t {
			return 1 << i
		}
	}
	return 0
}

// Has reports whether t is in the set.
func (s AssetTypeSet) Has(t AssetType) bool {
	b := assetTypeBit(t)
	return b != 0 && s&b != 0
}

func typesOf(assets []Asset) AssetTypeSet {
	var s AssetTypeSet
	for _, a := range assets {
		s |= assetTypeBit(a.Type)
	}
	return s
}
