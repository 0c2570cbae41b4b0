package pull

// Exported for the tests of package pull_test.
var (
	LocalName  = localName
	PackageDir = packageDir
)
