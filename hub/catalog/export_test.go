package catalog

// PutRevised is putRevised, for the lost-ack test.
var PutRevised = putRevised

// ReadFromLeader is readFromLeader, for its test on one server.
var ReadFromLeader = readFromLeader
