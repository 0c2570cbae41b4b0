package i18n

// packagesKY holds the Kyrgyz messages of the pages partners and the public read: the releases grid, a package page, downloads, takedown confirmations.
var packagesKY = map[string]string{}
