//go:build race

package websocket

// raceEnabled: sync.Pool drops items at random under the race detector.
const raceEnabled = true
