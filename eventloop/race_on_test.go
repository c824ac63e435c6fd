//go:build race

package eventloop

// raceEnabled is true when the tests run under the race detector, which slows the
// byte-moving tests about tenfold: they move less data then.
const raceEnabled = true
