package i18n

// adminKK holds the Kazakh messages of the pages admins run the hub with.
var adminKK = map[string]string{}
