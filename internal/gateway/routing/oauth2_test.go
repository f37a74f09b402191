package routing

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
)

func TestTokenEndpoint(t *testing.T) {
	plain := snapshot(group("g", "", deployed("p", "weather", "/weather", route("now", "/now"))))
	if rt, _, _ := lookup(mustBuild(t, plain), "", "POST", oauth2.TokenPath); rt != nil {
		t.Errorf("a gateway without oauth2 serves %s", oauth2.TokenPath)
	}

	secured := snapshot(
		group("g", "", deployed("p", "weather", "/weather",
			withPlugins(route("now", "/now"), map[string]string{"oauth2": `{"token_ttl": 600}`}))),
		group("h", "/h", deployed("p", "other", "/other",
			withPlugins(route("x", "/x"), map[string]string{"oauth2": `{"token_ttl": 120}`}))),
	)
	tbl := mustBuild(t, secured)
	for _, method := range []string{"GET", "POST"} {
		rt, _, _ := lookup(tbl, "any.example", method, oauth2.TokenPath)
		if rt == nil || rt.Info != tokenRouteInfo || len(rt.RequestFilters()) != 1 {
			t.Fatalf("%s %s = %+v, want the token endpoint", method, oauth2.TokenPath, rt)
		}
		ep, ok := rt.RequestFilters()[0].(*oauth2.Endpoint)
		if !ok {
			t.Fatalf("the token route runs %T", rt.RequestFilters()[0])
		}
		if ep.TTL().Seconds() != 120 {
			t.Errorf("endpoint ttl %v, want the shortest token_ttl (120 s)", ep.TTL())
		}
	}
	if _, allow, _ := lookup(tbl, "", "DELETE", oauth2.TokenPath); allow == "" {
		t.Error("DELETE on the token endpoint is not a 405")
	}

	// A route of the configuration on the same path keeps it; the
	// snapshot still builds.
	claimed := snapshot(group("g", "", deployed("p", "auth", "/oauth2",
		withPlugins(route("token", "/token"), map[string]string{"oauth2": `{}`}))))
	rt, _, _ := lookup(mustBuild(t, claimed), "", "POST", oauth2.TokenPath)
	if rt == nil || rt.Info.RouteName != "token" || rt.Info.ServiceName != "auth" {
		t.Errorf("the configured route lost its path: %+v", rt)
	}

	if err := Validate(snapshot(group("g", "", deployed("p", "w", "/w",
		withPlugins(route("r", "/r"), map[string]string{"oauth2": `{"token_ttl": -1}`}))))); err == nil {
		t.Error("a negative token_ttl validated")
	}
}
