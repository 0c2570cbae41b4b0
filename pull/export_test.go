package pull

// Exported for the tests of package pull_test.
var (
	LocalNames = localNames
	PackageDir = packageDir
)
