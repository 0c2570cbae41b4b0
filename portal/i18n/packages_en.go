package i18n

// packagesEN holds the English messages of the pages partners and the public read: the releases grid, a package page, downloads, takedown confirmations.
var packagesEN = map[string]string{}
