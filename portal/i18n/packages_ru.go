package i18n

// packagesRU holds the Russian messages of the pages partners and the public read: the releases grid, a package page, downloads, takedown confirmations.
var packagesRU = map[string]string{}
