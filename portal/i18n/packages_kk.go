package i18n

// packagesKK holds the Kazakh messages of the pages partners and the public read: the releases grid, a package page, downloads, takedown confirmations.
var packagesKK = map[string]string{}
