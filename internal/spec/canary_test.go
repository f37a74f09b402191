package spec

import (
	"strings"
	"testing"
)

func TestCanaryValidate(t *testing.T) {
	target := Upstream{Nodes: []Node{{Host: "10.0.0.2", Port: 8080, Weight: 1}}}
	tests := []struct {
		name   string
		canary CanaryRoute
		want   string // sorted, comma-joined bad fields; "" = valid
	}{
		{"10% of one route", CanaryRoute{Weight: 10, Routes: []string{"create_product"}, Target: target}, ""},
		{"weight 0 and 100", CanaryRoute{Weight: 0, Target: target}, ""},
		{"weight 100", CanaryRoute{Weight: 100, Target: target}, ""},
		{"registered API target", CanaryRoute{Weight: 5, Target: Upstream{URL: "https://api.example.com/v2"}}, ""},
		{"rules and hash", CanaryRoute{Weight: 20, HashOn: "cookie:uid", Target: target, Rules: []CanaryRule{
			{Kind: "header", Name: "X-Canary", Value: "1"},
			{Kind: "cookie", Name: "beta", Op: "equals", Value: "yes"},
			{Kind: "query", Name: "user id", Op: "matches", Value: `^(7|9)\d+$`},
		}}, ""},
		{"hash on ip", CanaryRoute{HashOn: "ip", Target: target}, ""},
		{"hash on header", CanaryRoute{HashOn: "header:X-User", Target: target}, ""},
		{"negative weight", CanaryRoute{Weight: -1, Target: target}, "canary.weight"},
		{"weight over 100", CanaryRoute{Weight: 101, Target: target}, "canary.weight"},
		{"bad hash_on", CanaryRoute{HashOn: "body:x", Target: target}, "canary.hash_on"},
		{"hash_on without name", CanaryRoute{HashOn: "header:", Target: target}, "canary.hash_on"},
		{"bad rule kind", CanaryRoute{Target: target, Rules: []CanaryRule{{Kind: "path", Name: "x", Value: "1"}}}, "canary.rules[0].kind"},
		{"bad rule op", CanaryRoute{Target: target, Rules: []CanaryRule{{Kind: "header", Name: "x", Op: "prefix", Value: "1"}}}, "canary.rules[0].op"},
		{"bad regexp", CanaryRoute{Target: target, Rules: []CanaryRule{{Kind: "query", Name: "x", Op: "matches", Value: "(a"}}}, "canary.rules[0].value"},
		{"rule without name and value", CanaryRoute{Target: target, Rules: []CanaryRule{{Kind: "cookie"}}}, "canary.rules[0].name,canary.rules[0].value"},
		{"header name with space", CanaryRoute{Target: target, Rules: []CanaryRule{{Kind: "header", Name: "a b", Value: "1"}}}, "canary.rules[0].name"},
		{"bad and duplicate routes", CanaryRoute{Target: target, Routes: []string{"a/b", "r", "r"}}, "canary.routes[0],canary.routes[2]"},
		{"target without nodes", CanaryRoute{Weight: 10}, "canary.target.nodes"},
		{"bad target", CanaryRoute{Target: Upstream{Scheme: "ftp", Nodes: []Node{{Host: "h", Port: 0}}}}, "canary.target.nodes[0].port,canary.target.scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(fields(tt.canary.Validate("canary.").Err()), ",")
			if got != tt.want {
				t.Errorf("bad fields = %q, want %q (%v)", got, tt.want, tt.canary.Validate("canary.").Err())
			}
		})
	}
}

func TestCanaryAppliesTo(t *testing.T) {
	all := CanaryRoute{}
	one := CanaryRoute{Routes: []string{"a"}}
	if !all.AppliesTo("x") || !one.AppliesTo("a") || one.AppliesTo("b") {
		t.Error("AppliesTo: an empty list is all routes, a list only its routes")
	}
}
