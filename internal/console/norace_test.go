//go:build !race

package console

// raceEnabled: the race detector is on (see skipUnderRace).
const raceEnabled = false
