package i18n

// adminKY holds the Kyrgyz messages of the pages admins run the hub with.
var adminKY = map[string]string{}
