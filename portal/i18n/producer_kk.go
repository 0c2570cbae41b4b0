package i18n

// producerKK holds the Kazakh messages of the pages producers make and release packages with.
var producerKK = map[string]string{}
