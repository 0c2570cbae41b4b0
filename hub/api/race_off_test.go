//go:build !race

package api_test

// raceDetector says whether the tests run under the race detector.
const raceDetector = false
