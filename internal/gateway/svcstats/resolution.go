package svcstats

import (
	"fmt"
	"time"
)

// The spans figures are kept in over time, and how far back each
// reaches: the gateway's rings answer the last MaxWindow at BucketSpan;
// the control plane's rollups keep BucketSpan for an hour, a minute for
// a day and an hour for 30 days.
const (
	MinuteSpan  = time.Minute
	HourSpan    = time.Hour
	MaxHistory  = 30 * 24 * time.Hour
	bucketReach = time.Hour
	minuteReach = 24 * time.Hour
)

// Resolution is the span of the points that chart window: BucketSpan up
// to an hour, a minute up to a day, an hour up to 30 days. A window
// shorter than BucketSpan or longer than MaxHistory is an error.
func Resolution(window time.Duration) (time.Duration, error) {
	switch {
	case window < BucketSpan || window > MaxHistory:
		return 0, fmt.Errorf("window %v: want 10s to %v", window, MaxHistory)
	case window <= bucketReach:
		return BucketSpan, nil
	case window <= minuteReach:
		return MinuteSpan, nil
	default:
		return HourSpan, nil
	}
}

// Retention is how long the rollups of span are kept: the longest window
// charted at that span.
func Retention(span time.Duration) time.Duration {
	switch span {
	case BucketSpan:
		return bucketReach
	case MinuteSpan:
		return minuteReach
	default:
		return MaxHistory
	}
}
