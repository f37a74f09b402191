package routing

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/spec"
)

// SNI picks a certificate naming the host exactly, then one whose
// wildcard covers it, then the default; with no default, an unknown name
// gets none.
func TestCertificateBySNI(t *testing.T) {
	ca := certtest.NewCA(t)
	api, wild, def, other := ca.Issue(t, "api.example.com"), ca.Issue(t, "*.example.com"), ca.Issue(t, "default.test"), ca.Issue(t, "api.example.com")
	g := group("g", "")
	g.Certificates = []spec.Certificate{wild.GroupCertificate(t, "wild", false), api.GroupCertificate(t, "api", false), def.GroupCertificate(t, "def", true),
		other.GroupCertificate(t, "second-api", false)}
	tbl := mustBuild(t, snapshot(g))
	if tbl.Certificates() != 4 {
		t.Errorf("%d certificates, want 4", tbl.Certificates())
	}
	for _, tc := range []struct{ sni, want string }{
		{"api.example.com", "api"}, {"API.Example.COM.", "api"}, {"www.example.com", "wild"},
		{"a.b.example.com", "def"}, {"example.com", "def"}, {"", "def"}, {"nothing.test", "def"},
	} {
		got, err := tbl.Certificate(&tls.ClientHelloInfo{ServerName: tc.sni})
		if err != nil {
			t.Fatalf("SNI %q: %v", tc.sni, err)
		}
		want := map[string]certtest.Pair{"api": api, "wild": wild, "def": def}[tc.want]
		if !got.Leaf.Equal(want.Leaf) {
			t.Errorf("SNI %q served %v, want %s", tc.sni, got.Leaf.DNSNames, tc.want)
		}
	}

	g.Certificates = g.Certificates[:2] // no default
	tbl = mustBuild(t, snapshot(g))
	if _, err := tbl.Certificate(&tls.ClientHelloInfo{ServerName: "nothing.test"}); err == nil {
		t.Error("an unknown name without a default got a certificate")
	}
	if tbl.Certificates() != 2 {
		t.Errorf("%d certificates, want 2", tbl.Certificates())
	}
}

// A key still sealed (the control plane validating, a gateway without the
// secret key) is not served and not an error; a damaged chain or a key
// that does not match is refused like any bad configuration.
func TestCertificateProblems(t *testing.T) {
	ca := certtest.NewCA(t)
	a, b := ca.Issue(t, "a.test"), ca.Issue(t, "b.test")
	sealed := a.GroupCertificate(t, "sealed", true)
	sealed.Secret, sealed.Sealed = "", "v1.k.sealed"
	tbl := mustBuild(t, snapshot(withCerts(group("g", ""), sealed)))
	if tbl.Certificates() != 0 {
		t.Errorf("a sealed key was served")
	}

	mismatch := a.GroupCertificate(t, "mismatch", false)
	mismatch.Secret = b.Key
	broken := a.GroupCertificate(t, "broken", false)
	broken.Chain = "not PEM"
	_, err := Build(snapshot(withCerts(group("g", ""), mismatch, broken)), Deps{})
	got := fields(fieldErrors(t, err))
	if len(got) != 2 || got[0] != "certificates[broken].certificate" || got[1] != "certificates[mismatch].private_key" {
		t.Errorf("fields %v", got)
	}
}

func withCerts(g spec.GroupSnapshot, cs ...spec.Certificate) spec.GroupSnapshot {
	g.Certificates = cs
	return g
}

// Certificates come with whole snapshots; a delta keeps those of the
// table it applies to.
func TestUpdateKeepsCertificates(t *testing.T) {
	ca := certtest.NewCA(t)
	g := withCerts(group("g", "", deployed("p", "s", "/s", route("r", "/x"))), ca.Issue(t, "a.test").GroupCertificate(t, "a", true))
	tbl := mustBuild(t, snapshot(g))
	next, err := tbl.Update(&spec.SnapshotDelta{Base: tbl.Revision, Revision: tbl.Revision + 1,
		Groups: []spec.GroupDelta{{Group: g.Group, Services: g.Services}}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if next.Certificates() != 1 {
		t.Errorf("after a delta: %d certificates, want 1", next.Certificates())
	}
}

// An upstream that shows a client certificate names one of the group's:
// a name the group does not have is refused.
func TestUpstreamClientCertificate(t *testing.T) {
	ca := certtest.NewCA(t)
	svc := deployed("p", "s", "/s", route("r", "/x"))
	svc.Upstream = spec.Upstream{Scheme: "https", Nodes: svc.Upstream.Nodes, TLS: &spec.UpstreamTLS{ClientCertificate: "to-backends"}}
	_, err := Build(snapshot(group("g", "", svc)), Deps{})
	if got := fields(fieldErrors(t, err)); len(got) != 1 || got[0] != "services[s].upstream.tls.client_certificate" {
		t.Errorf("fields %v", got)
	}
	mustBuild(t, snapshot(withCerts(group("g", "", svc), ca.Issue(t, "gw.test").GroupCertificate(t, "to-backends", false))))
	sealed := ca.Issue(t, "gw.test").GroupCertificate(t, "to-backends", false)
	sealed.Secret, sealed.Sealed = "", "v1.k.sealed" // the control plane validating
	if err := ValidateServices(&spec.GroupSnapshot{Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{svc},
		Certificates: []spec.Certificate{sealed}}); err != nil {
		t.Errorf("a sealed certificate of that name: %v", err)
	}
}

// A renewal added beside the certificate it renews serves the name at
// once, in whichever order the two come: the one valid longer wins.
func TestRenewalServesTheName(t *testing.T) {
	ca := certtest.NewCA(t)
	now := time.Now()
	old := ca.IssueValid(t, now.Add(-time.Hour), now.Add(time.Hour), "api.example.com")
	renewed := ca.IssueValid(t, now.Add(-time.Minute), now.Add(48*time.Hour), "api.example.com")
	for _, order := range [][]certtest.Pair{{old, renewed}, {renewed, old}} {
		g := withCerts(group("g", ""), order[0].GroupCertificate(t, "a", false), order[1].GroupCertificate(t, "b", false))
		got, err := mustBuild(t, snapshot(g)).Certificate(&tls.ClientHelloInfo{ServerName: "api.example.com"})
		if err != nil || !got.Leaf.Equal(renewed.Leaf) {
			t.Errorf("served %v (err %v), want the renewal", got.Leaf.NotAfter, err)
		}
	}
}
