package e2e

import (
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// TestOAuth2TokensAcrossGateways: an access token issued by one gateway
// of a group is accepted by the others (the control plane's embedded one
// and another stand-alone one): tokens are signed with a key every
// gateway holding the control plane's secret key derives. Deleting the
// credential refuses its token on all of them.
func TestOAuth2TokensAcrossGateways(t *testing.T) {
	s := startServer(t, t.TempDir())
	port := echoBackend(t)
	svcs := "/api/v1/projects/default/services"
	s.do(t, "POST", svcs, `{"name":"secured","path":"/secured","plugins":{"oauth2":{}}}`, 201, nil)
	s.do(t, "POST", svcs+"/secured/routes", `{"name":"weather","paths":["/weather"],"methods":["GET"]}`, 201, nil)
	s.do(t, "POST", svcs+"/secured/publish", fmt.Sprintf(`{"group":"default","version":"1.0.0","upstream":%s}`, nodes(port)), 201, nil)
	var app struct{ ID string }
	s.do(t, "POST", "/api/v1/applications", `{"name":"weather-app","project":"default"}`, 201, &app)
	creds := "/api/v1/applications/" + app.ID + "/credentials"
	var cred struct {
		ID           string
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	s.do(t, "POST", creds, `{"type":"oauth2"}`, 201, &cred)

	var tok struct{ Token string }
	s.do(t, "POST", "/api/v1/gateway-groups/default/tokens", `{"name":"oauth2 gateways"}`, 201, &tok)
	key := filepath.Join(s.DataDir, "secret.key")
	var gws []*server
	for i := range 2 {
		g, err := launchGateway(t, s, "default", tok.Token, t.TempDir(), "--poll-wait", "1s", "--heartbeat", "1s",
			"--instance-id", fmt.Sprintf("oauth2-%d", i), "--secret-key-file", key)
		if err != nil {
			t.Fatalf("%v\n%s", err, g.out.String())
		}
		gws = append(gws, g)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cred.ClientID}, "client_secret": {cred.ClientSecret}}
	var access string
	deadline := time.Now().Add(5 * time.Second)
	for access == "" {
		if status, a := tokenCall(t, tokenForm(gws[0].Gateway, form)); status == 200 {
			access, _ = a["access_token"].(string)
		} else if time.Now().After(deadline) {
			t.Fatalf("token from the first gateway: %d %v", status, a)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	bearer := map[string]string{"Authorization": "Bearer " + access}
	for _, base := range []string{gws[0].Gateway, gws[1].Gateway, s.Gateway} {
		e := until(t, 200, func() (int, echoed, string) { return gw(t, "GET", base+"/secured/weather", bearer) })
		if e.Headers.Get("X-Consumer-Id") != app.ID {
			t.Errorf("%s: the backend saw %v", base, e.Headers)
		}
	}
	s.do(t, "DELETE", creds+"/"+cred.ID, "", 204, nil)
	for _, base := range []string{gws[0].Gateway, gws[1].Gateway, s.Gateway} {
		until(t, 401, func() (int, echoed, string) { return gw(t, "GET", base+"/secured/weather", bearer) })
	}
}
