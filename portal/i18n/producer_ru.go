package i18n

// producerRU holds the Russian messages of the pages producers make and release packages with.
var producerRU = map[string]string{}
