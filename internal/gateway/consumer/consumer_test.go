package consumer

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

func hexSum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestIndex(t *testing.T) {
	pw, _ := bcrypt.GenerateFromPassword([]byte("open sesame"), bcrypt.MinCost)
	ix := New([]spec.Consumer{
		{ID: "a1", Name: "project app", ProjectID: "p1", Credentials: []spec.ConsumerCredential{
			{ID: "k1", Type: spec.CredKeyAuth, Key: hexSum("the-key")},
			{ID: "b1", Type: spec.CredBasicAuth, Key: "alice", Hash: string(pw)},
			{ID: "h1", Type: spec.CredHMACAuth, Key: "ak", Secret: "s1"},
			{ID: "h2", Type: spec.CredHMACAuth, Key: "ak", Sealed: "v1.still-sealed"},
			{ID: "o1", Type: spec.CredOAuth2, Key: "client", Hash: hexSum("client-secret")},
			{ID: "k2", Type: spec.CredKeyAuth, Key: "not-hex"},
		}},
		{ID: "a2", Name: "narrow", ProjectID: "p1", Services: []string{"s2"}, Credentials: []spec.ConsumerCredential{
			{ID: "k3", Type: spec.CredKeyAuth, Key: hexSum("narrow-key"), ExpiresAt: time.Now().Add(-time.Minute)},
		}},
		{ID: "a3", Name: "user app", Subscriptions: []string{"s9"}},
	})
	cr := ix.Key("the-key")
	if cr == nil || cr.ID != "k1" || cr.Consumer.Info.ApplicationID != "a1" {
		t.Fatalf("Key(the-key) = %+v", cr)
	}
	if ix.Key("other") != nil {
		t.Errorf("unknown key found")
	}
	if got := ix.Find(spec.CredHMACAuth, "ak"); len(got) != 1 || string(got[0].Secret) != "s1" {
		t.Errorf("hmac credentials %+v: a still-sealed secret must be left out", got)
	}
	b := ix.Find(spec.CredBasicAuth, "alice")[0]
	if !b.CheckPassword("open sesame") || !b.CheckPassword("open sesame") || b.CheckPassword("open sesamE") {
		t.Errorf("CheckPassword answers wrongly")
	}
	o := ix.Find(spec.CredOAuth2, "client")[0]
	if !o.CheckSecret("client-secret") || o.CheckSecret("client-secreT") {
		t.Errorf("CheckSecret answers wrongly")
	}
	if n := ix.Key("narrow-key"); n == nil || !n.Expired() {
		t.Errorf("narrow key: %+v, want an expired credential", n)
	}
	for _, tc := range []struct {
		consumer *Consumer
		route    plugin.RouteInfo
		want     bool
	}{
		{cr.Consumer, plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}, true},
		{cr.Consumer, plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p2", ServiceID: "s1"}}, false},
		{ix.Key("narrow-key").Consumer, plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s1"}}, false},
		{ix.Key("narrow-key").Consumer, plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ProjectID: "p1", ServiceID: "s2"}}, true},
	} {
		if got := tc.consumer.Admits(&tc.route); got != tc.want {
			t.Errorf("%s admitted to %+v = %v", tc.consumer.Info.Name, tc.route, got)
		}
	}
	var nilIx *Index
	if nilIx.Key("x") != nil || nilIx.Find("basic-auth", "x") != nil {
		t.Errorf("a nil index finds something")
	}
}
