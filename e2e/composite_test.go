package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// accountsBackend is the backend of the APIs a composite calls: a user, a
// user's orders, a team, a failing call and a slow one. get-user and
// list-orders wait for each other, so the composite passes only when it
// calls them in parallel; slow answers only when its client has gone.
type accountsBackend struct {
	port          int
	usersIn       chan struct{}
	ordersIn      chan struct{}
	slowCancelled chan struct{}
	calls         atomic.Int64
}

func startAccountsBackend(t *testing.T) *accountsBackend {
	t.Helper()
	ab := &accountsBackend{usersIn: make(chan struct{}, 16), ordersIn: make(chan struct{}, 16), slowCancelled: make(chan struct{}, 4)}
	// meet waits for the other call of a parallel pair, bounded.
	meet := func(mine, other chan struct{}) bool {
		mine <- struct{}{}
		select {
		case <-other:
			other <- struct{}{} // leave it for the other side's next look
			return true
		case <-time.After(5 * time.Second):
			return false
		}
	}
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		ab.calls.Add(1)
		if r.URL.Query().Get("pair") != "" && !meet(ab.usersIn, ab.ordersIn) {
			answer(w, 500, map[string]string{"error": "orders was not called beside users"})
			return
		}
		answer(w, 200, map[string]any{"id": r.PathValue("id"), "name": "Ann", "team": "t-" + r.PathValue("id"), "seen_user": r.Header.Get("X-Caller")})
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		ab.calls.Add(1)
		if r.URL.Query().Get("pair") != "" && !meet(ab.ordersIn, ab.usersIn) {
			answer(w, 500, map[string]string{"error": "users was not called beside orders"})
			return
		}
		answer(w, 200, map[string]any{"user": r.URL.Query().Get("user"), "items": []map[string]any{{"id": 1, "amount": 5}, {"id": 2, "amount": 7}}})
	})
	mux.HandleFunc("GET /teams/{team}", func(w http.ResponseWriter, r *http.Request) {
		ab.calls.Add(1)
		answer(w, 200, map[string]any{"team": r.PathValue("team"), "lead": "Bob"})
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		ab.calls.Add(1)
		answer(w, 500, map[string]string{"error": "broken on purpose"})
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		ab.calls.Add(1)
		select {
		case <-r.Context().Done():
			ab.slowCancelled <- struct{}{}
		case <-time.After(10 * time.Second):
			answer(w, 200, map[string]string{"late": "yes"})
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ab.port = ln.Addr().(*net.TCPAddr).Port
	return ab
}

// profileFlow is the composite route of the test: a user and their orders
// in parallel, the user's team with a field of the first, an optional
// failing call, merged into one answer.
const profileFlow = `{"name":"get-profile","paths":["/profile/{id}"],"methods":["GET"],
  "backend":{"type":"composite","composite":{"timeout":5,
    "steps":[
      {"name":"user","service":"accounts","route":"get-user","params":{"id":"request.params.id"},
       "query":{"pair":"'1'"},"headers":{"X-Caller":"request.headers['x-caller'] ?? 'none'"}},
      {"name":"orders","service":"accounts","route":"list-orders","query":{"user":"request.params.id","pair":"'1'"}},
      {"name":"team","service":"accounts","route":"get-team","params":{"team":"steps.user.body.team"}},
      {"name":"extra","service":"accounts","route":"fail","optional":true,"fallback":{"note":"none"}}],
    "response":{"body":"merge(steps.user.body, {'orders': map(steps.orders.body.items, {{'id': .id, 'amount': .amount}}), 'lead': steps.team.body.lead, 'extra': steps.extra.body})",
      "headers":{"X-Team":"steps.team.body.team"}}}}}`

// TestCompositeAPI builds a composite API through the admin API and calls
// it through the real binary's gateway, on both engines: parallel calls, a
// call with a field of an earlier one, a merged answer, a required step's
// failure, an optional step's fallback, the flow's deadline; and the
// lifecycle guard that keeps the APIs it uses running.
func TestCompositeAPI(t *testing.T) {
	for _, engine := range attackEngines {
		t.Run(engine, func(t *testing.T) { compositeAPI(t, engine) })
	}
}

func compositeAPI(t *testing.T, engine string) {
	ab := startAccountsBackend(t)
	s := startServer(t, t.TempDir(), "--engine", engine)
	const svcs = "/api/v1/projects/default/services"

	var accounts, profile struct{ ID string }
	s.do(t, "POST", svcs, `{"name":"accounts","protocols":["http"],"upstream":`+nodes(ab.port)+`}`, 201, &accounts)
	for _, r := range []string{
		`{"name":"get-user","paths":["/users/{id}"],"methods":["GET"]}`,
		`{"name":"list-orders","paths":["/orders"],"methods":["GET"]}`,
		`{"name":"get-team","paths":["/teams/{team}"],"methods":["GET"]}`,
		`{"name":"fail","paths":["/fail"],"methods":["GET"]}`,
		`{"name":"slow","paths":["/slow"],"methods":["GET"]}`,
	} {
		s.do(t, "POST", svcs+"/"+accounts.ID+"/routes", r, 201, nil)
	}
	// Submitted: it runs in the test group (default here), so it can be
	// withdrawn.
	s.do(t, "POST", svcs+"/"+accounts.ID+"/actions/submit", `{"version":"1.0.0"}`, 200, nil)

	s.do(t, "POST", svcs, `{"name":"profile","protocols":["http"]}`, 201, &profile)
	// A flow with a cycle is refused naming it.
	b := s.do(t, "POST", svcs+"/"+profile.ID+"/routes", `{"name":"loop","paths":["/loop"],"backend":{"type":"composite","composite":{
	  "steps":[{"name":"a","service":"accounts","route":"get-user","params":{"id":"steps.b.body.id"}},
	           {"name":"b","service":"accounts","route":"get-user","params":{"id":"steps.a.body.id"}}],
	  "response":{"body":"steps.a.body"}}}}`, 400, nil)
	if !strings.Contains(string(b), "cycle") || !strings.Contains(string(b), "backend.composite.steps") {
		t.Errorf("a cycle answered %s, want a field error naming the cycle", b)
	}
	s.do(t, "POST", svcs+"/"+profile.ID+"/routes", profileFlow, 201, nil)
	s.do(t, "POST", svcs+"/"+profile.ID+"/routes", `{"name":"broken","paths":["/broken"],"methods":["GET"],"backend":{"type":"composite","composite":{
	  "steps":[{"name":"user","service":"accounts","route":"get-user","params":{"id":"'1'"}},
	           {"name":"charge","service":"accounts","route":"fail","after":["user"]}],
	  "response":{"body":"steps.user.body"}}}}`, 201, nil)
	s.do(t, "POST", svcs+"/"+profile.ID+"/routes", `{"name":"slow","paths":["/slowflow"],"methods":["GET"],"backend":{"type":"composite","composite":{
	  "timeout":0.5,
	  "steps":[{"name":"waits","service":"accounts","route":"slow"}],
	  "response":{"body":"steps.waits.body"}}}}`, 201, nil)
	s.do(t, "POST", svcs+"/"+profile.ID+"/publish", `{"group":"default","version":"1.0.0"}`, 201, nil)
	waitFor(t, s.Gateway+"/profile/7", 5*time.Second, func(st int, _ []byte) bool { return st == 200 })

	t.Run("parallel calls, a field of the first, merged", func(t *testing.T) {
		resp, body := send(t, "GET", s.Gateway+"/profile/7", map[string]string{"X-Caller": "cli"})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var got struct {
			ID, Name, Team, Lead string
			SeenUser             string `json:"seen_user"`
			Orders               []map[string]float64
			Extra                map[string]string
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if got.ID != "7" || got.Name != "Ann" || got.Lead != "Bob" || len(got.Orders) != 2 || got.Orders[1]["amount"] != 7 ||
			got.Extra["note"] != "none" || got.SeenUser != "cli" {
			t.Errorf("answer %s", body)
		}
		if h := resp.Header.Get("X-Team"); h != "t-7" {
			t.Errorf("X-Team %q, want t-7 (the team step was called with the user's field)", h)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
	})
	t.Run("the call's record holds its steps, the export its flow", func(t *testing.T) {
		resp, body := send(t, "GET", s.Gateway+"/profile/9", nil)
		id := resp.Header.Get("X-Request-Id")
		if resp.StatusCode != 200 || id == "" {
			t.Fatalf("%d %s (request id %q)", resp.StatusCode, body, id)
		}
		var rec spec.CallRecord
		start := time.Now()
		for {
			var page struct{ Items []spec.CallRecord }
			s.do(t, "GET", "/api/v1/projects/default/logs?request_id="+id, "", 200, &page)
			if len(page.Items) == 1 {
				rec = page.Items[0]
				break
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("call %s not in the log search within 3s", id)
			}
			time.Sleep(50 * time.Millisecond)
		}
		outcomes := map[string]spec.CallStep{}
		for _, st := range rec.Steps {
			outcomes[st.Name] = st
		}
		if len(rec.Steps) != 4 || outcomes["user"].Outcome != "ok" || outcomes["user"].Target != "accounts/get-user" ||
			outcomes["user"].Path != "/users/9" || outcomes["extra"].Outcome != "fallback" || outcomes["extra"].Status != 500 {
			t.Errorf("the record's steps %+v", rec.Steps)
		}
		if u, tm := outcomes["user"], outcomes["team"]; tm.StartMs < u.StartMs+u.LatencyMs-0.5 {
			t.Errorf("team started at %.2f ms, before user ended (%.2f + %.2f)", tm.StartMs, u.StartMs, u.LatencyMs)
		}
		doc := s.do(t, "GET", svcs+"/"+profile.ID+"/openapi", "", 200, nil)
		if !strings.Contains(string(doc), "x-portico-composite") || !strings.Contains(string(doc), "list-orders") {
			t.Errorf("the provider's export has no flow: %.400s", doc)
		}
	})
	t.Run("a required step fails", func(t *testing.T) {
		resp, body := send(t, "GET", s.Gateway+"/broken", nil)
		if resp.StatusCode != 502 || !strings.Contains(string(body), `charge`) || !strings.Contains(string(body), "500") {
			t.Errorf("%d %s, want 502 naming the step charge and its status 500", resp.StatusCode, body)
		}
	})
	t.Run("the deadline cuts a slow step", func(t *testing.T) {
		start := time.Now()
		resp, body := send(t, "GET", s.Gateway+"/slowflow", nil)
		if resp.StatusCode != 504 || !strings.Contains(string(body), "waits") {
			t.Errorf("%d %s, want 504 naming the step waits", resp.StatusCode, body)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the 0.5 s flow answered after %v", d)
		}
		select {
		case <-ab.slowCancelled:
		case <-time.After(5 * time.Second):
			t.Error("the slow step's call was not cancelled at the deadline")
		}
	})

	t.Run("the APIs a running composite uses are held", func(t *testing.T) {
		var deps struct {
			UsedBy []struct{ Service, Route, Group string } `json:"used_by"`
		}
		s.do(t, "GET", svcs+"/"+accounts.ID+"/dependencies", "", 200, &deps)
		if len(deps.UsedBy) == 0 || deps.UsedBy[0].Service != "profile" {
			t.Errorf("accounts used_by %+v, want profile", deps.UsedBy)
		}
		b := s.do(t, "POST", svcs+"/"+accounts.ID+"/actions/withdraw", "", 409, nil)
		if !strings.Contains(string(b), "profile") || !strings.Contains(string(b), "get-profile") || !strings.Contains(string(b), "default") {
			t.Errorf("withdraw answered %s, want 409 naming profile's get-profile and the group", b)
		}
		b = s.do(t, "POST", svcs+"/"+accounts.ID+"/unpublish", `{"group":"default"}`, 409, nil)
		if !strings.Contains(string(b), "get-profile") {
			t.Errorf("unpublish answered %s, want 409 naming get-profile", b)
		}
		// Still served.
		if resp, body := send(t, "GET", s.Gateway+"/profile/8", nil); resp.StatusCode != 200 {
			t.Errorf("after refused withdrawals: %d %s", resp.StatusCode, body)
		}
		// The composite taken off, the withdrawal goes through.
		s.do(t, "POST", svcs+"/"+profile.ID+"/unpublish", `{"group":"default"}`, 200, nil)
		s.do(t, "POST", svcs+"/"+accounts.ID+"/actions/withdraw", "", 200, nil)
		waitFor(t, s.Gateway+"/users/1", 5*time.Second, func(st int, _ []byte) bool { return st == 404 })
	})
}
