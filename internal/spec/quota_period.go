package spec

import "time"

// QuotaPeriodBounds is the period of kind period (QuotaSecond … QuotaMonth)
// that holds t, as a gateway group in loc counts it: [start, end). A day
// starts at local midnight and a month at local midnight of its first day,
// so a day of a change to or from summer time lasts 23 or 25 hours. A
// second, a minute and an hour are fixed windows of their length aligned
// to the local clock (an hour starts at :00 local time, also in a zone
// half an hour off UTC; at a change of offset by half an hour the hour it
// falls in is cut short). ok is false for an unknown period. The control
// plane and the gateways call it alike, so both agree on when a quota
// resets.
func QuotaPeriodBounds(period string, t time.Time, loc *time.Location) (start, end time.Time, ok bool) {
	if loc == nil {
		loc = time.UTC
	}
	switch period {
	case QuotaSecond:
		start = t.Truncate(time.Second)
		return start, start.Add(time.Second), true
	case QuotaMinute:
		start, end = alignedLocal(t, loc, 60)
		return start, end, true
	case QuotaHour:
		start, end = alignedLocal(t, loc, 3600)
		return start, end, true
	case QuotaDay:
		y, m, d := t.In(loc).Date()
		return localMidnight(y, m, d, loc), localMidnight(y, m, d+1, loc), true
	case QuotaMonth:
		y, m, _ := t.In(loc).Date()
		return localMidnight(y, m, 1, loc), localMidnight(y, m+1, 1, loc), true
	}
	return time.Time{}, time.Time{}, false
}

// alignedLocal is the window of length seconds holding t, windows
// aligned to loc's wall clock. A change of offset by other than whole
// windows (Lord Howe Island's half hour) cuts the window it falls in
// short, so that windows never overlap.
func alignedLocal(t time.Time, loc *time.Location, length int64) (start, end time.Time) {
	lt := t.In(loc)
	_, off := lt.Zone()
	local := t.Unix() + int64(off)
	rem := local % length
	if rem < 0 {
		rem += length
	}
	start = time.Unix(local-rem-int64(off), 0).In(loc)
	end = start.Add(time.Duration(length) * time.Second)
	zs, ze := lt.ZoneBounds()
	if !zs.IsZero() && start.Before(zs) {
		start = zs.In(loc)
	}
	if !ze.IsZero() && end.After(ze) {
		end = ze.In(loc)
	}
	return start, end
}

// localMidnight is the first instant of day y-m-d in loc. Where a change
// of offset skips midnight (clocks jump from 23:59:59 to 01:00, as in
// Santiago or, until 2019, São Paulo), time.Date resolves midnight to the
// hour before the jump, on the previous day: the day starts at the jump.
func localMidnight(y int, m time.Month, d int, loc *time.Location) time.Time {
	mid := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if mid.Hour() > 12 {
		if _, end := mid.ZoneBounds(); !end.IsZero() {
			return end.In(loc)
		}
	}
	return mid
}
