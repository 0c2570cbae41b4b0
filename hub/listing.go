package hub

// PackageQuery filters and pages a listing. Zero values mean "any".
type PackageQuery struct {
	Campaign string
	Language string
	Status   Status
	Type     AssetType
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
