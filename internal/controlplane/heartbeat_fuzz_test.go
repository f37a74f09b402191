package controlplane

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/feed"
)

// FuzzHeartbeat: a heartbeat body is the gateway's word, whatever it
// holds: checking it never panics, and the figures of an accepted one
// can all be counted, through the figures log (what checkHeartbeat lets
// through, the rings hold).
func FuzzHeartbeat(f *testing.F) {
	f.Add([]byte(`{"hostname":"gw","addresses":["10.0.0.1:9080"],"version":"v1","engine":"fast","revision":3,"started_at":"2026-12-03T10:00:00Z","interval_ms":10000}`))
	f.Add([]byte(`{"engine":"fast","interval_ms":1000,"started_at":"2026-12-03T10:00:00Z","canaries":[{"id":"c","target":true,"buckets":[{"age":1,"requests":3,"errors":1,"latency":[[0,1],[111,2]]}]}],"services":[{"service":"s","buckets":[{"age":90,"requests":1,"latency":[[55,1]]}]}]}`))
	f.Add([]byte(`{"engine":"nethttp","interval_ms":100,"started_at":"2100-01-01T00:00:00Z","services":[{"service":"s","buckets":[{"age":-1}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var hb feed.Heartbeat
		if json.NewDecoder(bytes.NewReader(body)).Decode(&hb) != nil {
			return
		}
		if checkHeartbeat(&hb) != nil {
			return
		}
		figs := newGatewayFigures()
		now := time.Now()
		// Through the figures log, as other control planes count it.
		row, err := figs.logRow("g", figureReport{Canaries: hb.Canaries, Services: hb.Services}, now)
		if err != nil {
			t.Fatal(err)
		}
		if row == nil {
			return
		}
		var rep figureReport
		if err := json.Unmarshal([]byte(row.Body), &rep); err != nil {
			t.Fatalf("a figures log row does not read back: %v", err)
		}
		if err := figs.count("g", rep, nil, now); err != nil {
			t.Fatalf("an accepted report is refused by its rings: %v", err)
		}
	})
}
