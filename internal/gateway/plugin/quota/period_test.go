package quota

import (
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at is a wall-clock time in loc.
func at(loc *time.Location, y int, m time.Month, d, h, min, s int) time.Time {
	return time.Date(y, m, d, h, min, s, 0, loc)
}

func TestPeriodBounds(t *testing.T) {
	ny, sh, kolkata := zone(t, "America/New_York"), zone(t, "Asia/Shanghai"), zone(t, "Asia/Kolkata")
	saoPaulo := zone(t, "America/Sao_Paulo")
	tests := []struct {
		name       string
		period     string
		t          time.Time
		loc        *time.Location
		start, end time.Time
		length     time.Duration // end - start
	}{
		{"second", spec.QuotaSecond, time.Unix(1000, 700e6), time.UTC, time.Unix(1000, 0), time.Unix(1001, 0), time.Second},
		{"minute", spec.QuotaMinute, at(ny, 2024, 5, 1, 10, 7, 59), ny, at(ny, 2024, 5, 1, 10, 7, 0), at(ny, 2024, 5, 1, 10, 8, 0), time.Minute},
		{"hour", spec.QuotaHour, at(ny, 2024, 5, 1, 10, 59, 59), ny, at(ny, 2024, 5, 1, 10, 0, 0), at(ny, 2024, 5, 1, 11, 0, 0), time.Hour},
		// An hour starts at :00 on the wall clock of a zone half an hour off UTC.
		{"hour half an hour off UTC", spec.QuotaHour, at(kolkata, 2024, 5, 1, 10, 20, 0), kolkata, at(kolkata, 2024, 5, 1, 10, 0, 0), at(kolkata, 2024, 5, 1, 11, 0, 0), time.Hour},
		{"day", spec.QuotaDay, at(sh, 2024, 5, 1, 23, 59, 59), sh, at(sh, 2024, 5, 1, 0, 0, 0), at(sh, 2024, 5, 2, 0, 0, 0), 24 * time.Hour},
		{"day at its first second", spec.QuotaDay, at(sh, 2024, 5, 2, 0, 0, 0), sh, at(sh, 2024, 5, 2, 0, 0, 0), at(sh, 2024, 5, 3, 0, 0, 0), 24 * time.Hour},
		// The same instant is another day in another zone.
		{"day in UTC", spec.QuotaDay, at(sh, 2024, 5, 2, 3, 0, 0), time.UTC, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC), 24 * time.Hour},
		{"day summer time starts", spec.QuotaDay, at(ny, 2024, 3, 10, 12, 0, 0), ny, at(ny, 2024, 3, 10, 0, 0, 0), at(ny, 2024, 3, 11, 0, 0, 0), 23 * time.Hour},
		{"day summer time ends", spec.QuotaDay, at(ny, 2024, 11, 3, 1, 30, 0), ny, at(ny, 2024, 11, 3, 0, 0, 0), at(ny, 2024, 11, 4, 0, 0, 0), 25 * time.Hour},
		// São Paulo's clocks jumped from 23:59:59 to 01:00 on 2018-11-04:
		// that day began at 01:00 and lasted 23 hours.
		{"day without a midnight", spec.QuotaDay, at(saoPaulo, 2018, 11, 4, 10, 0, 0), saoPaulo, at(saoPaulo, 2018, 11, 4, 1, 0, 0), at(saoPaulo, 2018, 11, 5, 0, 0, 0), 23 * time.Hour},
		{"day before a missing midnight", spec.QuotaDay, at(saoPaulo, 2018, 11, 3, 23, 30, 0), saoPaulo, at(saoPaulo, 2018, 11, 3, 0, 0, 0), at(saoPaulo, 2018, 11, 4, 1, 0, 0), 24 * time.Hour},
		{"month", spec.QuotaMonth, at(sh, 2024, 1, 31, 23, 59, 59), sh, at(sh, 2024, 1, 1, 0, 0, 0), at(sh, 2024, 2, 1, 0, 0, 0), 31 * 24 * time.Hour},
		{"leap february", spec.QuotaMonth, at(sh, 2024, 2, 29, 12, 0, 0), sh, at(sh, 2024, 2, 1, 0, 0, 0), at(sh, 2024, 3, 1, 0, 0, 0), 29 * 24 * time.Hour},
		{"december to january", spec.QuotaMonth, at(ny, 2024, 12, 31, 23, 0, 0), ny, at(ny, 2024, 12, 1, 0, 0, 0), at(ny, 2025, 1, 1, 0, 0, 0), 31 * 24 * time.Hour},
		{"month with summer time", spec.QuotaMonth, at(ny, 2024, 3, 15, 0, 0, 0), ny, at(ny, 2024, 3, 1, 0, 0, 0), at(ny, 2024, 4, 1, 0, 0, 0), 31*24*time.Hour - time.Hour},
		{"month's first instant", spec.QuotaMonth, at(ny, 2024, 4, 1, 0, 0, 0), ny, at(ny, 2024, 4, 1, 0, 0, 0), at(ny, 2024, 5, 1, 0, 0, 0), 30 * 24 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end, ok := spec.QuotaPeriodBounds(tc.period, tc.t, tc.loc)
			if !ok || !start.Equal(tc.start) || !end.Equal(tc.end) {
				t.Errorf("bounds of %s = [%v, %v) %v, want [%v, %v)", tc.t, start, end, ok, tc.start, tc.end)
			}
			if got := end.Sub(start); got != tc.length {
				t.Errorf("the period lasts %v, want %v", got, tc.length)
			}
		})
	}
	if _, _, ok := spec.QuotaPeriodBounds("week", time.Now(), time.UTC); ok {
		t.Error("an unknown period has bounds")
	}
}

// TestPeriodBoundsHoldTheirInstant: over two years in zones with summer
// time (and one whose days once began at 01:00), every instant lies in its
// period, each period starts where the one before ended, and a day starts
// on the local date of the instants it holds.
func TestPeriodBoundsHoldTheirInstant(t *testing.T) {
	for _, name := range []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kathmandu"} {
		loc := zone(t, name)
		for _, period := range spec.QuotaPeriods {
			step := 7*time.Hour + 13*time.Minute + 7*time.Second
			for ts := time.Date(2018, 1, 1, 0, 0, 0, 0, loc); ts.Year() < 2020; ts = ts.Add(step) {
				start, end, _ := spec.QuotaPeriodBounds(period, ts, loc)
				if ts.Before(start) || !ts.Before(end) {
					t.Fatalf("%s %s: %v not in [%v, %v)", name, period, ts, start, end)
				}
				if next, _, _ := spec.QuotaPeriodBounds(period, end, loc); !next.Equal(end) {
					t.Fatalf("%s %s: the period after [%v, %v) starts at %v", name, period, start, end, next)
				}
				if period == spec.QuotaDay && start.In(loc).Day() != ts.In(loc).Day() {
					t.Fatalf("%s: the day of %v starts on %v", name, ts, start)
				}
			}
		}
	}
}

// TestHourAtAHalfHourShift: Lord Howe Island moves its clocks by half an
// hour (02:00 → 02:30 on 2018-10-07, 02:00 → 01:30 on 2019-04-07); the
// hours either side of a shift meet without overlapping.
func TestHourAtAHalfHourShift(t *testing.T) {
	loc := zone(t, "Australia/Lord_Howe")
	for _, shift := range []time.Time{time.Date(2018, 10, 6, 15, 30, 0, 0, time.UTC), time.Date(2019, 4, 6, 15, 0, 0, 0, time.UTC)} {
		_, before, _ := spec.QuotaPeriodBounds(spec.QuotaHour, shift.Add(-time.Second), loc)
		after, _, _ := spec.QuotaPeriodBounds(spec.QuotaHour, shift, loc)
		if !before.Equal(shift) || !after.Equal(shift) {
			t.Errorf("at the shift %v: the hour before ends %v, the next starts %v", shift, before, after)
		}
	}
}
