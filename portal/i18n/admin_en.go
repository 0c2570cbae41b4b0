package i18n

// adminEN holds the English messages of the pages admins run the hub with.
var adminEN = map[string]string{}
