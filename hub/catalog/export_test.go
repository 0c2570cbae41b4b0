package catalog

// PutRevised is putRevised, for the lost-ack test.
var PutRevised = putRevised
