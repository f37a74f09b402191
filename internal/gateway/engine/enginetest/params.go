package enginetest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// paramTests drive a route's parameter mapping through the engine: what
// it asks of the Exchange beyond the transformers (a new upstream body,
// plugin.BodyReplacer) must work the same on every engine.
var paramTests = []conformanceTest{
	{name: "ParameterMappingReplacesBody", fn: testParameterMappingBody},
}

// seenBody is what a backend received of a request's body and framing.
type seenBody struct {
	Length  int64    `json:"length"`
	TE      []string `json:"te"`
	Type    string   `json:"type"`
	Body    string   `json:"body"`
	Query   string   `json:"query"`
	UserID  string   `json:"user_id"`
	Counted int      `json:"counted"`
}

func testParameterMappingBody(t *testing.T, s *suite) {
	up := UpstreamOf(t, Backend(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(seenBody{Length: r.ContentLength, TE: r.TransferEncoding,
			Type: r.Header.Get("Content-Type"), Body: string(b), Query: r.URL.RawQuery,
			UserID: r.Header.Get("X-User-Id"), Counted: len(b)})
	}))
	r := Route("orders", "/orders")
	r.Parameters = []spec.Parameter{
		{Name: "uid", In: "query", Type: "integer", Backend: &spec.ParameterTarget{In: "body", Pointer: "/user/id"}},
		{Name: "owner", In: "body", Backend: &spec.ParameterTarget{In: "header", Name: "X-User-Id"}},
	}
	g := s.gateway(t, Table(t, "", up, r))
	do := func(method, query string, body io.Reader, header http.Header) seenBody {
		t.Helper()
		req, err := http.NewRequest(method, g.URL+"/orders?"+query, body)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, b := Do(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, query, resp.StatusCode, b)
		}
		var got seenBody
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("backend answer %s: %v", b, err)
		}
		return got
	}

	// No client body: the mapping makes one, with a length and a type.
	got := do(http.MethodGet, "uid=7&x=1", nil, nil)
	if got.Body != `{"user":{"id":7}}` || got.Length != int64(len(got.Body)) || len(got.TE) != 0 || got.Type != "application/json" || got.Query != "x=1" {
		t.Errorf("GET ?uid=7: backend got %+v", got)
	}

	// A chunked client body: sent anew with a length, the field moved out.
	chunked := io.NopCloser(strings.NewReader(`{"owner":"ann","note":"n"}`)) // unknown length: chunked
	got = do(http.MethodPost, "uid=8", chunked, http.Header{"Content-Type": {"application/json; charset=utf-8"}})
	var doc map[string]any
	if err := json.Unmarshal([]byte(got.Body), &doc); err != nil || len(doc) != 2 || doc["note"] != "n" || got.UserID != "ann" ||
		got.Length != int64(got.Counted) || len(got.TE) != 0 || got.Type != "application/json; charset=utf-8" {
		t.Errorf("chunked POST: backend got %+v", got)
	}
	if u, _ := doc["user"].(map[string]any); u["id"] != float64(8) {
		t.Errorf("chunked POST: body %s", got.Body)
	}

	// Nothing to map: the client's body goes as it came.
	got = do(http.MethodPost, "", strings.NewReader(`{"note":"n"}`), nil)
	if got.Body != `{"note":"n"}` || got.Length != 12 {
		t.Errorf("unmapped POST: backend got %+v", got)
	}
}
