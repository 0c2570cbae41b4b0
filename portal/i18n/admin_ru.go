package i18n

// adminRU holds the Russian messages of the pages admins run the hub with.
var adminRU = map[string]string{}
