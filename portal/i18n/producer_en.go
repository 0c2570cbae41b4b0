package i18n

// producerEN holds the English messages of the pages producers make and release packages with.
var producerEN = map[string]string{}
