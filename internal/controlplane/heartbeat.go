package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// instanceIDRe is what a gateway may call itself: it becomes a row's key.
var instanceIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// maxHeartbeatBytes bounds a heartbeat's body.
const maxHeartbeatBytes = 16 << 10

// checkHeartbeat refuses a heartbeat the store should not keep: every
// field is the gateway's word, so each is bounded.
func checkHeartbeat(hb *feed.Heartbeat) error {
	var fe spec.FieldErrors
	if len(hb.Hostname) > 255 {
		fe.Add("hostname", "must be at most 255 bytes")
	}
	if len(hb.Addresses) > 16 {
		fe.Add("addresses", "must list at most 16 addresses")
	}
	for i, a := range hb.Addresses {
		if len(a) > 100 {
			fe.Add(fmt.Sprintf("addresses[%d]", i), "must be at most 100 bytes")
		}
	}
	if len(hb.Version) > 100 {
		fe.Add("version", "must be at most 100 bytes")
	}
	if hb.Engine != "fast" && hb.Engine != "nethttp" {
		fe.Add("engine", "must be fast or nethttp")
	}
	if hb.Revision < 0 {
		fe.Add("revision", "must not be negative")
	}
	if hb.IntervalMS < 100 || hb.IntervalMS > 300_000 {
		fe.Add("interval_ms", "must be from 100 to 300000")
	}
	if len(hb.Detail) > 500 {
		fe.Add("detail", "must be at most 500 bytes")
	}
	return fe.Err()
}

// heartbeat keeps a stand-alone gateway's report, stamped with the
// control plane's clock (the gateway's may be off).
func (f *feedServer) heartbeat(w http.ResponseWriter, r *http.Request, group, id string) {
	if !instanceIDRe.MatchString(id) {
		feedError(w, http.StatusBadRequest, "bad_request", "an instance id is 1 to 64 letters, digits, '.', '_' or '-'")
		return
	}
	if _, ok := f.admitOrRefuse(w, r, group); !ok {
		return
	}
	var hb feed.Heartbeat
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxHeartbeatBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&hb); err != nil {
		feedError(w, http.StatusBadRequest, "bad_request", "the heartbeat is not valid JSON: "+err.Error())
		return
	}
	if err := checkHeartbeat(&hb); err != nil {
		feedError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if hb.Addresses == nil {
		hb.Addresses = []string{}
	}
	in := spec.GatewayInstance{ID: id, Group: group, Hostname: hb.Hostname, Addresses: hb.Addresses, Version: hb.Version,
		Engine: hb.Engine, Revision: hb.Revision, FromCache: hb.FromCache, StartedAt: hb.StartedAt.UTC(),
		LastSeen: time.Now().UTC(), Interval: time.Duration(hb.IntervalMS) * time.Millisecond,
		Requests: hb.Requests, Errors: hb.Errors, Detail: hb.Detail}
	err := f.st.Tx(r.Context(), func(tx store.Tx) error { return tx.PutGatewayInstance(r.Context(), &in) })
	switch {
	case errors.Is(err, store.ErrNotFound):
		feedError(w, http.StatusNotFound, "not_found", "gateway group "+group+" not found")
	case err != nil:
		f.log.Error("feed: heartbeat not kept", "group", group, "instance", id, "err", err)
		feedError(w, http.StatusServiceUnavailable, "unavailable", "the heartbeat could not be kept; send the next")
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
