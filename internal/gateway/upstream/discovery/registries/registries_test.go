package registries

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/upstream/discovery"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		c    discovery.Config
		want string // the Resolver's type, or the start of the error
	}{
		{discovery.Config{Type: "dns", Address: "127.0.0.1:53"}, "*dns.Resolver"},
		{discovery.Config{Type: "dns"}, "*dns.Resolver"},
		{discovery.Config{Type: "consul", Address: "http://127.0.0.1:8500"}, "*consul.Resolver"},
		{discovery.Config{Type: "kubernetes", Address: "https://kubernetes.default.svc"}, "*kubernetes.Resolver"},
		{discovery.Config{Type: "nacos", Address: "http://nacos:8848", Username: "nacos", Password: "pw"}, "*nacos.Resolver"},
		{discovery.Config{Type: "eureka", Address: "http://eureka:8761/eureka"}, "*eureka.Resolver"},
		{discovery.Config{Type: "zookeeper", Address: "http://zk:2181"}, `discovery: unknown registry type "zookeeper"`},
		{discovery.Config{Type: ""}, `discovery: unknown registry type ""`},
		{discovery.Config{Type: "dns", Address: "dns.example:53"}, "dns: address"},
		{discovery.Config{Type: "consul"}, `consul: address "": is required`},
		{discovery.Config{Type: "consul", Address: "127.0.0.1:8500"}, "consul: address"},
		{discovery.Config{Type: "kubernetes", Address: "ftp://k8s"}, "kubernetes: address"},
		{discovery.Config{Type: "kubernetes", Address: "https://k8s", CA: "not PEM"}, "kubernetes: ca:"},
		{discovery.Config{Type: "nacos", Address: "file:///etc/passwd"}, "nacos: address"},
		{discovery.Config{Type: "eureka", Address: "http://user:pw@eureka/eureka"}, "eureka: address"},
	} {
		r, err := New(tc.c)
		got := fmt.Sprintf("%T", r)
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("New(%+v) = %s, want %s", tc.c, got, tc.want)
		}
	}
}
