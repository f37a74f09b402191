package controlplane

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/credential"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
	"github.com/portico-gw/portico/internal/webhook"
)

func TestNextAlertState(t *testing.T) {
	rule := func(metric, state string, threshold float64) *spec.AlertRule {
		return &spec.AlertRule{Metric: metric, State: state, Threshold: threshold, MinRequests: 10}
	}
	for _, c := range []struct {
		name string
		r    *spec.AlertRule
		m    measurement
		want string
	}{
		{"quiet stays ok", rule(spec.AlertErrorRate, spec.AlertOK, 0.1), measurement{}, spec.AlertOK},
		{"above over enough answers fires", rule(spec.AlertErrorRate, spec.AlertOK, 0.1), measurement{0.2, 10}, spec.AlertFiring},
		{"above over too few answers does not", rule(spec.AlertErrorRate, spec.AlertOK, 0.1), measurement{1, 9}, spec.AlertOK},
		{"at the threshold does not", rule(spec.AlertErrorRate, spec.AlertOK, 0.1), measurement{0.1, 100}, spec.AlertOK},
		{"latency above fires", rule(spec.AlertP99, spec.AlertOK, 250), measurement{251, 50}, spec.AlertFiring},
		{"still above stays firing", rule(spec.AlertErrorRate, spec.AlertFiring, 0.1), measurement{0.5, 100}, spec.AlertFiring},
		{"above over a trickle stays firing", rule(spec.AlertErrorRate, spec.AlertFiring, 0.1), measurement{1, 2}, spec.AlertFiring},
		{"back at the threshold resolves", rule(spec.AlertErrorRate, spec.AlertFiring, 0.1), measurement{0.1, 100}, spec.AlertOK},
		{"no traffic resolves", rule(spec.AlertP99, spec.AlertFiring, 250), measurement{}, spec.AlertOK},
	} {
		if got := nextAlertState(c.r, c.m); got != c.want {
			t.Errorf("%s: %s → %s, want %s", c.name, c.r.State, got, c.want)
		}
	}
}

// TestAlertEvaluation drives the evaluator over real figures (what the
// gateways of the group recorded for the service): an error rate past
// the threshold fires once — the rule's state, a line of history and one
// signed webhook delivery — however often it is evaluated; falling back
// resolves it once; a latency rule fires on slow answers.
func TestAlertEvaluation(t *testing.T) {
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys := credential.NewRandomKeyring()
	const secret = "whsec_alerts_test"

	type delivery struct {
		event string
		body  []byte
		err   error
	}
	got := make(chan delivery, 10)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get(webhook.HeaderEvent), b, webhook.Verify([]byte(secret), r.Header, b, time.Now(), 0)}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	hooks := &webhook.Deliverer{Store: st, Keys: keys, PrivateNetworks: true, Logger: slog.New(slog.DiscardHandler)}

	svc := spec.Service{ProjectID: "shop", Name: "orders", Path: "/orders", State: spec.StateDraft}
	errorRule := spec.AlertRule{Project: "shop", Group: "prod", Name: "errors", Metric: spec.AlertErrorRate,
		Threshold: 0.5, Window: "1m", MinRequests: 10, Enabled: true}
	slowRule := spec.AlertRule{Project: "shop", Group: "prod", Name: "slow", Metric: spec.AlertP99,
		Threshold: 200, Window: "2m", MinRequests: 10, Enabled: true}
	err = st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateProject(ctx, &spec.Project{ID: "shop", Name: "Shop", TestGroup: "prod", ProductionGroup: "prod"}); err != nil {
			return err
		}
		if err := tx.CreateService(ctx, &svc); err != nil {
			return err
		}
		sealed, err := keys.Seal(secret, webhook.SecretAAD("shop"))
		if err != nil {
			return err
		}
		if err := tx.SetProjectWebhook(ctx, "shop", recv.URL+"/hook", sealed); err != nil {
			return err
		}
		for _, r := range []*spec.AlertRule{&errorRule, &slowRule} {
			r.Service = svc.ID
			if err := tx.CreateAlertRule(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	figures := newGatewayFigures()
	series := figures.services.Get("prod", svc.ID)
	record := func(n, status int, elapsed time.Duration) {
		for range n {
			series.Record(status, elapsed, time.Now())
		}
	}
	clock := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ev := newAlertEvaluator(st, figures, slog.New(slog.DiscardHandler))
	ev.now = func() time.Time { return clock }
	evaluate := func() {
		t.Helper()
		if err := ev.evaluate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	state := func(r spec.AlertRule) spec.AlertRule {
		t.Helper()
		var out spec.AlertRule
		if err := st.View(ctx, func(tx store.Tx) error {
			var err error
			out, err = tx.GetAlertRule(ctx, svc.ID, r.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	history := func() []spec.AlertEvent {
		t.Helper()
		var out []spec.AlertEvent
		if err := st.View(ctx, func(tx store.Tx) error {
			var err error
			out, err = tx.ListAlertEvents(ctx, "shop", "", 100)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// deliver sends what is queued and answers the events received, each
	// checked against the project's secret.
	deliver := func() []delivery {
		t.Helper()
		n, err := hooks.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]delivery, n)
		for i := range out {
			out[i] = <-got
			if out[i].err != nil {
				t.Errorf("delivery %s: signature: %v", out[i].event, out[i].err)
			}
		}
		return out
	}

	// Fast failures, but fewer than the rule's minimum: nothing yet.
	record(5, 503, time.Millisecond)
	evaluate()
	if r := state(errorRule); r.State != spec.AlertOK {
		t.Fatalf("after 5 failures of 10 needed: state %s", r.State)
	}
	if d := deliver(); len(d) != 0 {
		t.Fatalf("deliveries before any crossing: %d", len(d))
	}

	record(10, 502, time.Millisecond)
	for range 3 { // evaluated again and again: one crossing, one event
		evaluate()
	}
	r := state(errorRule)
	if r.State != spec.AlertFiring || r.LastValue != 1 || !r.FiredAt.Equal(clock) {
		t.Fatalf("after 15 failures: %+v", r)
	}
	if r := state(slowRule); r.State != spec.AlertOK {
		t.Errorf("the latency rule fired on fast answers: %+v", r)
	}
	d := deliver()
	if len(d) != 1 || d[0].event != webhook.EventAlertFiring {
		t.Fatalf("deliveries after firing = %+v, want one alert.firing", d)
	}
	var body struct {
		Event   string          `json:"event"`
		Project string          `json:"project"`
		Data    spec.AlertEvent `json:"data"`
	}
	if err := json.Unmarshal(d[0].body, &body); err != nil {
		t.Fatal(err)
	}
	want := spec.AlertEvent{Rule: errorRule.ID, RuleName: "errors", Project: "shop", Service: svc.ID, ServiceName: "orders",
		Group: "prod", State: spec.AlertFiring, Metric: spec.AlertErrorRate, Value: 1, Threshold: 0.5, Window: "1m",
		Requests: 15, At: clock}
	if body.Event != webhook.EventAlertFiring || body.Project != "shop" || body.Data != want {
		t.Errorf("alert.firing body:\n got %+v\nwant %+v", body, want)
	}

	// Enough successes to bring the rate to 15/45 ≤ 0.5: resolved, once.
	clock = clock.Add(30 * time.Second)
	record(30, 200, time.Millisecond)
	evaluate()
	evaluate()
	r = state(errorRule)
	if r.State != spec.AlertOK || !r.ResolvedAt.Equal(clock) || r.LastValue != 15.0/45 {
		t.Fatalf("after falling back: %+v", r)
	}
	d = deliver()
	if len(d) != 1 || d[0].event != webhook.EventAlertResolved {
		t.Fatalf("deliveries after resolving = %+v, want one alert.resolved", d)
	}

	// Slow answers fire the latency rule alone.
	clock = clock.Add(10 * time.Second)
	record(20, 200, 800*time.Millisecond)
	evaluate()
	if r := state(slowRule); r.State != spec.AlertFiring || r.LastValue < 200 {
		t.Errorf("after 20 answers of 800 ms: %+v", r)
	}
	if r := state(errorRule); r.State != spec.AlertOK {
		t.Errorf("the error rule fired on slow successes: %+v", r)
	}
	d = deliver()
	if len(d) != 1 || d[0].event != webhook.EventAlertFiring {
		t.Errorf("deliveries after the latency rule fired = %+v", d)
	}

	h := history()
	var states []string
	for _, e := range h {
		states = append(states, e.Rule[len(e.Rule)-4:]+":"+e.State)
	}
	if len(h) != 3 || h[0].Rule != slowRule.ID || h[0].State != spec.AlertFiring || h[1].State != spec.AlertResolved ||
		h[2].State != spec.AlertFiring || h[1].Rule != errorRule.ID {
		t.Errorf("history (newest first) = %v", states)
	}
}

// fixedFigures answers the same point for any service.
type fixedFigures struct{ p *svcstats.Point }

func (f fixedFigures) ServicePoints(string, string, time.Duration, time.Duration) ([]svcstats.Point, bool) {
	if f.p == nil {
		return nil, false
	}
	return []svcstats.Point{*f.p}, true
}

// TestAlertResolvesWhenTrafficStops: a firing rule whose service gets no
// more answers resolves; a disabled rule is not evaluated at all.
func TestAlertResolvesWhenTrafficStops(t *testing.T) {
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := spec.Service{ProjectID: "shop", Name: "orders", Path: "/orders", State: spec.StateDraft}
	on := spec.AlertRule{Project: "shop", Group: "prod", Name: "errors", Metric: spec.AlertErrorRate, Threshold: 0.1,
		Window: "1m", MinRequests: 10, Enabled: true}
	off := on
	off.Name, off.Enabled = "off", false
	err = st.Tx(ctx, func(tx store.Tx) error {
		if err := tx.CreateProject(ctx, &spec.Project{ID: "shop", Name: "Shop"}); err != nil {
			return err
		}
		if err := tx.CreateService(ctx, &svc); err != nil {
			return err
		}
		for _, r := range []*spec.AlertRule{&on, &off} {
			r.Service = svc.ID
			if err := tx.CreateAlertRule(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	figs := &fixedFigures{p: &svcstats.Point{Requests: 50, Errors: 25, ErrorRate: 0.5}}
	ev := newAlertEvaluator(st, figs, slog.New(slog.DiscardHandler))
	ev.enqueue = func(_ context.Context, _ store.Tx, project, event string, data any) error {
		events = append(events, event+" "+data.(spec.AlertEvent).RuleName)
		return nil
	}
	if err := ev.evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	figs.p = nil // the gateways saw nothing more
	if err := ev.evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []string{"alert.firing errors", "alert.resolved errors"}; len(events) != 2 || events[0] != want[0] || events[1] != want[1] {
		t.Errorf("events = %q, want %q", events, want)
	}
}
