package oauth2

import (
	"encoding/base64"
	"strings"
	"testing"
)

const form = "application/x-www-form-urlencoded"

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func TestParseTokenRequest(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		method, ctype, authz, query  string
		body                         string
		wantID, wantSecret, wantCode string
		wantBasic                    bool
	}{
		{name: "form", method: "POST", ctype: form, body: "grant_type=client_credentials&client_id=c1&client_secret=s1", wantID: "c1", wantSecret: "s1"},
		{name: "form with charset", method: "POST", ctype: form + "; charset=utf-8", body: "grant_type=client_credentials&client_id=c1&client_secret=s1", wantID: "c1", wantSecret: "s1"},
		{name: "basic", method: "POST", ctype: form, authz: basic("c%3A1", "s+1"), body: "grant_type=client_credentials", wantID: "c:1", wantSecret: "s 1", wantBasic: true},
		{name: "basic unencoded", method: "POST", ctype: form, authz: basic("c1", "s%zz"), body: "grant_type=client_credentials", wantID: "c1", wantSecret: "s%zz", wantBasic: true},
		{name: "basic with same client_id", method: "POST", ctype: form, authz: basic("c1", "s1"), body: "grant_type=client_credentials&client_id=c1", wantID: "c1", wantSecret: "s1", wantBasic: true},
		{name: "GET query", method: "GET", query: "grant_type=client_credentials&client_id=c1&client_secret=s1", wantID: "c1", wantSecret: "s1"},
		{name: "POST ignores the query", method: "POST", ctype: form, query: "client_secret=s1", body: "grant_type=client_credentials&client_id=c1", wantCode: "invalid_client"},
		{name: "json body", method: "POST", ctype: "application/json", body: `{"grant_type":"client_credentials"}`, wantCode: "invalid_request"},
		{name: "no content type", method: "POST", body: "grant_type=client_credentials", wantCode: "invalid_request"},
		{name: "no grant", method: "GET", query: "client_id=c1&client_secret=s1", wantCode: "invalid_request"},
		{name: "password grant", method: "GET", query: "grant_type=password&client_id=c1&client_secret=s1", wantCode: "unsupported_grant_type"},
		{name: "repeated secret", method: "GET", query: "grant_type=client_credentials&client_id=c1&client_secret=s1&client_secret=s2", wantCode: "invalid_request"},
		{name: "two methods", method: "POST", ctype: form, authz: basic("c1", "s1"), body: "grant_type=client_credentials&client_secret=s1", wantCode: "invalid_request"},
		{name: "basic and other client_id", method: "POST", ctype: form, authz: basic("c1", "s1"), body: "grant_type=client_credentials&client_id=c2", wantCode: "invalid_request"},
		{name: "no secret", method: "GET", query: "grant_type=client_credentials&client_id=c1", wantCode: "invalid_client"},
		{name: "bearer scheme", method: "POST", ctype: form, authz: "Bearer x", body: "grant_type=client_credentials", wantCode: "invalid_client"},
		{name: "bad base64", method: "POST", ctype: form, authz: "Basic !!!", body: "grant_type=client_credentials", wantCode: "invalid_client"},
		{name: "no colon", method: "POST", ctype: form, authz: "Basic " + base64.StdEncoding.EncodeToString([]byte("c1")), body: "grant_type=client_credentials", wantCode: "invalid_client"},
		{name: "bad escape", method: "GET", query: "grant_type=client_credentials&client_id=%zz", wantCode: "invalid_request"},
		{name: "huge secret", method: "GET", query: "grant_type=client_credentials&client_id=c1&client_secret=" + strings.Repeat("s", 300), wantCode: "invalid_client"},
		{name: "PUT", method: "PUT", wantCode: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTokenRequest(tc.method, tc.ctype, tc.authz, tc.query, []byte(tc.body))
			if tc.wantCode != "" {
				if err == nil || err.Code != tc.wantCode {
					t.Fatalf("error %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got.ClientID != tc.wantID || got.ClientSecret != tc.wantSecret || got.Basic != tc.wantBasic || got.GrantType != "client_credentials" {
				t.Errorf("got %+v, want id %q secret %q basic %v", got, tc.wantID, tc.wantSecret, tc.wantBasic)
			}
		})
	}
}

// FuzzParseTokenRequest: no panic, and an accepted request always names a
// client and a secret of bounded length with the one supported grant.
func FuzzParseTokenRequest(f *testing.F) {
	f.Add("POST", form, "", "", "grant_type=client_credentials&client_id=c1&client_secret=s1")
	f.Add("POST", form, basic("c1", "s1"), "", "grant_type=client_credentials")
	f.Add("GET", "", "", "grant_type=client_credentials&client_id=c1&client_secret=s1", "")
	f.Add("POST", "multipart/form-data; boundary=x", "Basic Yzox", "a=b", "%")
	f.Fuzz(func(t *testing.T, method, ctype, authz, query, body string) {
		req, err := ParseTokenRequest(method, ctype, authz, query, []byte(body))
		if err != nil {
			if err.Status < 400 || err.Code == "" {
				t.Fatalf("error %+v has no status or code", err)
			}
			return
		}
		if req.GrantType != "client_credentials" || req.ClientID == "" || req.ClientSecret == "" ||
			len(req.ClientID) > maxField || len(req.ClientSecret) > maxField {
			t.Fatalf("accepted %+v", req)
		}
	})
}
