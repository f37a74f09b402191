package console

// A composite route (a backend that calls other APIs of its group) on the
// console: its steps in the service's routes table, its flow as JSON in
// the route form, the APIs a service uses and is used by, and the steps
// of a call in the Debug tab and the call's page.
import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// routeBody is a route as the route form sends it: the backend is given
// as JSON of its own, so that the flow typed in reaches the admin API as
// typed and its strict decoder names a member it does not know
// (backend.composite.steps[0].colour), which decoding it here would drop.
type routeBody struct {
	spec.Route
	Backend any `json:"backend,omitempty"`
}

// Backend types the route form offers.
const (
	formBackendUpstream  = "upstream"
	formBackendComposite = "composite"
)

// maxFlow bounds the flow typed in: the steps' limits allow about this.
const maxFlow = 512 << 10

// backendFromForm reads the route form's backend: the upstream path, or
// a composite flow typed as JSON. A flow that is not JSON is refused here,
// beside its field, with what was typed kept.
func (q *req) backendFromForm(f url.Values) (any, error) {
	if f.Get("backend_type") != formBackendComposite {
		if p := strings.TrimSpace(f.Get("backend_path")); p != "" {
			return &spec.Backend{Path: p}, nil
		}
		return nil, nil
	}
	flow := strings.TrimSpace(f.Get("composite"))
	switch {
	case flow == "":
		return nil, flowRefusal(q.t("cmp.flow_required"))
	case len(flow) > maxFlow:
		return nil, flowRefusal(fmt.Sprintf(q.t("cmp.flow_too_long"), maxFlow>>10))
	case !json.Valid([]byte(flow)):
		var v any
		err := json.Unmarshal([]byte(flow), &v)
		return nil, flowRefusal(q.t("cmp.flow_not_json") + " (" + err.Error() + ")")
	}
	return map[string]any{"type": spec.BackendComposite, "composite": json.RawMessage(flow)}, nil
}

func flowRefusal(msg string) error {
	return &webpage.Refusal{Status: http.StatusBadRequest, Detail: msg, Fields: map[string]string{"backend.composite": msg}}
}

// FlowJSON is a composite route's flow as the form's textarea shows it.
func (rf routeForm) FlowJSON() string {
	if rf.Refused() {
		return rf.P.V("composite")
	}
	if rf.R == nil || !rf.R.IsComposite() {
		return ""
	}
	b, err := json.MarshalIndent(rf.R.Backend.Composite, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// BackendType is the backend type the form shows selected.
func (rf routeForm) BackendType() string {
	if rf.Refused() {
		return rf.P.V("backend_type")
	}
	if rf.R != nil && rf.R.IsComposite() {
		return formBackendComposite
	}
	return formBackendUpstream
}

// Refused reports whether this form is the one the admin API refused:
// it shows what was sent, not what is stored.
func (rf routeForm) Refused() bool { return rf.P.Open == rf.Form && rf.P.Form != nil }

// BackendErrors are the refusal's messages about the backend (the flow's
// members above all), each "field: message", in field order.
func (rf routeForm) BackendErrors() []string {
	if rf.P.Open != rf.Form {
		return nil
	}
	rf.P.E("backend") // shown here: not to be listed again under the banner
	var out []string
	for k, msg := range rf.P.Errors {
		if k == "backend" || !strings.HasPrefix(k, "backend.") {
			continue // "backend" is every backend field's base name: shown once below
		}
		out = append(out, strings.TrimPrefix(strings.TrimPrefix(k, "backend."), "composite.")+": "+msg)
	}
	if len(out) == 0 && rf.P.Errors["backend"] != "" {
		out = append(out, rf.P.Errors["backend"])
	}
	slices.Sort(out)
	return out
}

// routeCell is what the routes table's backend cell shows: the page (its
// language) and the route.
type routeCell struct {
	P *page
	R spec.Route
}

// flowStep is one step of a composite route as the routes table shows it.
type flowStep struct {
	Name     string
	Calls    string // "service/route", or the upstream path
	Upstream bool
	Method   string
	After    []string
	Optional bool
}

// flowSteps are a composite route's steps for the routes table; nil for
// another backend.
func flowSteps(r spec.Route) []flowStep {
	if !r.IsComposite() {
		return nil
	}
	out := make([]flowStep, 0, len(r.Backend.Composite.Steps))
	for _, s := range r.Backend.Composite.Steps {
		fs := flowStep{Name: s.Name, Method: s.Method, After: s.After, Optional: s.Optional}
		if s.Service != "" {
			fs.Calls = s.Service + "/" + s.Route
		} else {
			fs.Calls, fs.Upstream = s.Path, true
		}
		out = append(out, fs)
	}
	return out
}

// loadDependencies asks the admin API what the service uses and is used
// by. The page shows without them when they cannot be had (an older
// control plane, a refusal): they are context, not the page's subject.
func (q *req) loadDependencies() *spec.ServiceDependencies {
	var d spec.ServiceDependencies
	if err := q.call("GET", q.svcPath()+"/dependencies", nil, &d); err != nil {
		var ae *webpage.Refusal
		if !errors.As(err, &ae) {
			q.c.log.Warn("console: service dependencies", "path", q.svcPath(), "err", err)
		}
		return nil
	}
	if len(d.Uses) == 0 && len(d.UsedBy) == 0 {
		return nil
	}
	return &d
}

// callSteps are a call's composite steps as the Debug tab and the call's
// page show them: a table with a bar for each step's time on the call's.
type callSteps struct {
	RequestID string
	Steps     []spec.CallStep
	Total     float64 // the call's latency, ms
	// Pending: the call's record had not reached the control plane
	// when the page was made; the call log will have it.
	Pending bool
}

type stepRow struct {
	spec.CallStep
	// Offset and Width place the step's bar, in percent of the call.
	Offset, Width float64
}

// stepsView is what the steps partial shows: the page (its language) and
// the rows.
type stepsView struct {
	P    *page
	Rows []stepRow
}

func stepsOf(p *page, steps []spec.CallStep, total float64) stepsView {
	return stepsView{P: p, Rows: stepRows(steps, total)}
}

// stepRows lays the steps out on the call's time line: total is the
// call's latency, or the end of its last step when longer.
func stepRows(steps []spec.CallStep, total float64) []stepRow {
	for _, s := range steps {
		total = max(total, s.StartMs+s.LatencyMs)
	}
	out := make([]stepRow, len(steps))
	for i, s := range steps {
		out[i].CallStep = s
		if total > 0 {
			out[i].Offset = clampPct(s.StartMs / total * 100)
			out[i].Width = max(clampPct(s.LatencyMs/total*100), 0.5) // a visible sliver for an instant step
			out[i].Width = min(out[i].Width, 100-out[i].Offset)
		}
	}
	return out
}

func clampPct(v float64) float64 {
	if v != v || v < 0 { // NaN or negative: a broken clock
		return 0
	}
	return min(v, 100)
}

// stepsWait bounds how long the Debug tab waits for a call's record:
// gateways send records in batches, so a call just made may not be
// there yet. Past it the page says so and links to the call log.
var stepsWait = 2 * time.Second

// debugSteps finds the steps of the call the Debug tab just made, by its
// request id, waiting for its record a little (bounded by stepsWait, at
// growing intervals, ending with the request). nil when the service has
// no composite route or the caller may not read the call log.
func (q *req) debugSteps(svc *spec.Service, requestID string) *callSteps {
	composite := false
	for i := range svc.Routes {
		composite = composite || svc.Routes[i].IsComposite()
	}
	if !composite || requestID == "" {
		return nil
	}
	v := url.Values{"request_id": {requestID}, "page_size": {"10"}}
	path := "/projects/" + url.PathEscape(q.r.PathValue("p")) + "/logs?" + v.Encode()
	deadline := time.Now().Add(stepsWait)
	delay := 100 * time.Millisecond
	for {
		var res callLogPage
		if err := q.call("GET", path, nil, &res); err != nil {
			return nil // no log:read, or the log is off: the answer alone
		}
		if rec := composedRecord(res.Items, svc.ID); rec != nil {
			return &callSteps{RequestID: requestID, Steps: rec.Steps, Total: rec.LatencyMs}
		}
		if time.Until(deadline) < delay {
			return &callSteps{RequestID: requestID, Pending: true}
		}
		t := time.NewTimer(delay)
		select {
		case <-q.r.Context().Done():
			t.Stop()
			return &callSteps{RequestID: requestID, Pending: true}
		case <-t.C:
		}
		delay *= 2
	}
}

// composedRecord is the record of the composite call among the records
// of one request id (the steps' own calls may be recorded under it too):
// the one with steps, else the service's own.
func composedRecord(recs []spec.CallRecord, serviceID string) *spec.CallRecord {
	var own *spec.CallRecord
	for i := range recs {
		if len(recs[i].Steps) > 0 {
			return &recs[i]
		}
		if recs[i].ServiceID == serviceID && own == nil {
			own = &recs[i]
		}
	}
	return own
}

// requestIDOf is the X-Request-Id of a debug answer's headers.
func requestIDOf(headers map[string]string) string {
	for k, v := range headers {
		if strings.EqualFold(k, "X-Request-Id") {
			return v
		}
	}
	return ""
}

// Outcome says a step's outcome in the page's language; one the
// catalogue does not know (a newer gateway's) as it is.
func (p *page) Outcome(o string) string {
	if key := "cmp.outcome_" + o; messages.Has(key) {
		return p.T(key)
	}
	return o
}
