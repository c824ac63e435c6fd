//go:build race

package compress

// raceEnabled: sync.Pool drops items at random under the race detector.
const raceEnabled = true
