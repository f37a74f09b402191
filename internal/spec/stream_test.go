package spec

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestStreamServiceValidation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		service string
		fields  []string // the fields refused; none: valid
	}{
		{"plain", `{"name":"s","type":"stream","stream_routes":[{"name":"r","listener":"redis"}],
			"upstream":{"nodes":[{"host":"127.0.0.1","port":6379}]}}`, nil},
		{"passthrough and terminate", `{"name":"s","type":"stream","stream_routes":[
			{"name":"a","listener":"tls","tls":"passthrough","sni":["a.test","*.w.test"]},
			{"name":"b","listener":"tls","tls":"terminate"}],
			"upstream":{"scheme":"tls","nodes":[{"host":"db","port":5432}],"tls":{"server_name":"db.internal"}}}`, nil},
		{"plugins", `{"name":"s","type":"stream","stream_routes":[{"name":"r","listener":"l",
			"plugins":{"ip-restriction":{"allow":["10.0.0.0/8"]},"limit-conn":{"conn":10}}}]}`, nil},
		{"two routes take one name", `{"name":"s","type":"stream","stream_routes":[
			{"name":"a","listener":"l"},{"name":"b","listener":"l","tls":"passthrough"},
			{"name":"c","listener":"m","tls":"passthrough","sni":["x.test"]},{"name":"d","listener":"m","tls":"terminate","sni":["x.test"]}]}`,
			[]string{"stream_routes[1].name", "stream_routes[3].name"}},
		{"unknown type", `{"name":"s","type":"udp"}`, []string{"type"}},
		{"HTTP fields on a stream service", `{"name":"s","type":"stream","path":"/x","hosts":["a.test"],"protocols":["https"],
			"plugins":{"cors":{}}}`, []string{"path", "hosts", "protocols", "plugins"}},
		{"stream routes on an HTTP service", `{"name":"s","stream_routes":[{"name":"r","listener":"l"}]}`, []string{"stream_routes"}},
		{"tcp upstream on an HTTP service", `{"name":"s","upstream":{"scheme":"tcp","nodes":[{"host":"a","port":1}]}}`,
			[]string{"upstream.scheme"}},
		{"http upstream on a stream service", `{"name":"s","type":"stream","upstream":{"scheme":"http","url":"http://a/"}}`,
			[]string{"upstream.scheme", "upstream.url"}},
		{"discovery and balancers", `{"name":"s","type":"stream","upstream":{"load_balancer":"chash","pass_host":"node",
			"discovery":{"registry":"r","service_name":"x"},"timeout":{"send":3}}}`,
			[]string{"upstream.load_balancer", "upstream.pass_host", "upstream.discovery", "upstream.timeout.send"}},
		{"bad routes", `{"name":"s","type":"stream","stream_routes":[
			{"name":"","listener":"Bad Name"},
			{"name":"r","listener":"l","sni":["a.test"]},
			{"name":"r","listener":"l","tls":"maybe"},
			{"name":"q","listener":"l","tls":"passthrough","sni":["A.test","a..b","x.test","x.test"]},
			{"name":"p","listener":"p","plugins":{"key-auth":{},"limit-conn":[]}}]}`,
			[]string{"stream_routes[0].name", "stream_routes[0].listener", "stream_routes[1].sni", "stream_routes[2].name",
				"stream_routes[2].tls", "stream_routes[3].sni[0]", "stream_routes[3].sni[1]", "stream_routes[3].sni[3]",
				"stream_routes[4].plugins.key-auth", "stream_routes[4].plugins.limit-conn"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Service
			if err := json.Unmarshal([]byte(tc.service), &s); err != nil {
				t.Fatal(err)
			}
			err := s.Validate()
			var got []string
			if fe, ok := errors.AsType[FieldErrors](err); ok {
				for _, e := range fe {
					if !slices.Contains(got, e.Field) {
						got = append(got, e.Field)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			want := slices.Clone(tc.fields)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("fields refused %q, want %q (%v)", got, want, err)
			}
		})
	}
}
