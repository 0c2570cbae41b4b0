package search

// UnreadyForTest puts the index back in the state it opens in, before it
// has caught up: what a search meets while the index builds.
func (x *Index) UnreadyForTest() { x.ready.Store(false) }
