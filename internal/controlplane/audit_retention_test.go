package controlplane

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestCheckAuditRetention: 0 keeps forever; anything shorter than a day
// (a negative one, a typo such as 30m) is refused at start.
func TestCheckAuditRetention(t *testing.T) {
	for d, ok := range map[time.Duration]bool{0: true, 24 * time.Hour: true, 9600 * time.Hour: true,
		-time.Hour: false, 30 * time.Minute: false, 23 * time.Hour: false} {
		if err := checkAuditRetention(d); (err == nil) != ok {
			t.Errorf("checkAuditRetention(%s) = %v, want ok %v", d, err, ok)
		}
	}
}

// signalHandler is a slog handler that reports a record by its message.
type signalHandler struct {
	msg string
	ch  chan struct{}
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h signalHandler) WithGroup(string) slog.Handler            { return h }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.ch <- struct{}{}:
		default:
		}
	}
	return nil
}

// TestRetainAudit: the housekeeping job prunes the audit log as soon as
// it starts, and returns when its context ends.
func TestRetainAudit(t *testing.T) {
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now().UTC()
	err = st.Tx(ctx, func(tx store.Tx) error {
		for _, age := range []time.Duration{48 * time.Hour, time.Hour} {
			if err := tx.AddAudit(ctx, &spec.AuditEvent{Actor: "a", Action: "upstream.create", Resource: "/x", At: now.Add(-age)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pruned := make(chan struct{}, 1)
	jctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		retainAudit(jctx, adminapi.Config{Store: st, AuditRetention: 24 * time.Hour, Now: func() time.Time { return now }},
			slog.New(signalHandler{msg: "audit log pruned", ch: pruned}))
	}()
	select {
	case <-pruned:
	case <-time.After(30 * time.Second):
		t.Fatal("the job did not prune at its start")
	}
	stop()
	<-done
	err = st.View(ctx, func(tx store.Tx) error {
		evs, _, err := tx.ListAudit(ctx, store.AuditFilter{AllProjects: true}, store.ListQuery{})
		if len(evs) != 2 || evs[0].Action != "audit.prune" || evs[1].At.Before(now.Add(-24*time.Hour)) {
			t.Errorf("after the job: %+v", evs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
