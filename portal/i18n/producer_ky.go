package i18n

// producerKY holds the Kyrgyz messages of the pages producers make and release packages with.
var producerKY = map[string]string{}
