package console

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
)

// enumPrefixes are the catalogue's namespaces of the admin API's
// enumerated values, each followed by the value as the API sends it.
var enumPrefixes = []string{"state.", "action.", "pkg.state_", "role_name.", "source.", "cred."}

func TestStateMessagesOverrideNothing(t *testing.T) {
	if len(statesOverridden) > 0 {
		t.Errorf("stateMessages redefine %v", statesOverridden)
	}
}

// Every state and action has both an English and a Chinese entry, and no
// language has one the other lacks.
func TestStateMessagesInBothLanguages(t *testing.T) {
	n := 0
	for key, m := range messages {
		if !hasEnumPrefix(key) {
			continue
		}
		n++
		if (m["en"] == "") != (m["zh-CN"] == "") || m["en"] == "" {
			t.Errorf("%s: en %q, zh-CN %q", key, m["en"], m["zh-CN"])
		}
		for lang := range m {
			if lang != "en" && lang != "zh-CN" {
				t.Errorf("%s: unknown language %q", key, lang)
			}
		}
	}
	if n < len(stateMessages) {
		t.Errorf("only %d state keys in the catalogue, %d in stateMessages", n, len(stateMessages))
	}
}

func hasEnumPrefix(key string) bool {
	for _, p := range enumPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// enumValues are the values the catalogue translates, as the API sends
// them: on a Chinese page, a text node that is exactly one of them was
// printed raw.
func enumValues() map[string]bool {
	out := map[string]bool{}
	for key := range messages {
		for _, p := range enumPrefixes {
			if v, ok := strings.CutPrefix(key, p); ok {
				out[v] = true
			}
		}
	}
	return out
}

// textNodes are the texts a reader sees in a page: what lies between
// tags, entities decoded, without attributes (classes and data-state keep
// raw values on purpose) and without comments.
func textNodes(page string) []string {
	var out []string
	for i := 0; i < len(page); {
		if strings.HasPrefix(page[i:], "<!--") {
			end := strings.Index(page[i:], "-->")
			if end < 0 {
				break
			}
			i += end + 3
			continue
		}
		if page[i] == '<' {
			// A tag ends at the first '>' outside a quoted attribute.
			var quote byte
			j := i + 1
			for ; j < len(page); j++ {
				c := page[j]
				switch {
				case quote != 0 && c == quote:
					quote = 0
				case quote == 0 && (c == '"' || c == '\''):
					quote = c
				case quote == 0 && c == '>':
					goto closed
				}
			}
		closed:
			i = j + 1
			continue
		}
		j := strings.IndexByte(page[i:], '<')
		if j < 0 {
			j = len(page) - i
		}
		if s := strings.TrimSpace(html.UnescapeString(page[i : i+j])); s != "" {
			out = append(out, s)
		}
		i += j
	}
	return out
}

func TestTextNodes(t *testing.T) {
	got := textNodes(`<p class="s-draft" title='a>b'>草稿 &amp; x</p><!-- draft --><td> publish </td><br>`)
	if strings.Join(got, "|") != "草稿 & x|publish" {
		t.Errorf("textNodes: %q", got)
	}
}

// rawEnums are the page's text nodes that are an untranslated value.
func rawEnums(page string) []string {
	known := enumValues()
	var raw []string
	for _, s := range textNodes(page) {
		if known[s] {
			raw = append(raw, s)
		}
	}
	sort.Strings(raw)
	return raw
}

// TestChinesePagesSayStatesInChinese renders the main pages in Chinese —
// the services list, a published service's overview with its release
// history (publish, rollback, the lifecycle's submit and publish), its
// versions, the approvals inbox and a request, a failed package, users,
// members, the roles, the account, an application and the audit log — and finds no state, action,
// built-in role, account source or credential kind left in English as text (classes and
// titles keep the raw value).
func TestChinesePagesSayStatesInChinese(t *testing.T) {
	w := newMarketWorld(t)
	f := w.admin
	// A version published to the group and rolled back: both in the history.
	if rec := f.send("POST", w.svcPage+"/publish", url.Values{"group": {"default"}, "version": {"1.0.1"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish: %d %.500s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", w.svcPage+"/rollback", url.Values{"group": {"default"}, "version": {"1.0.0"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("rollback: %d %.500s", rec.Code, rec.Body)
	}
	// A pending listing request, from the provider.
	rec := w.prov.send("POST", w.svcPage+"/listing", url.Values{"version": {"1.0.0"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(location(rec), "/approvals/") {
		t.Fatalf("launch: %d %s", rec.Code, location(rec))
	}
	approval := location(rec)
	// A draft beside the published service.
	f.apiCall(t, "POST", "/projects/shop/services", map[string]any{"name": "drafts", "protocols": []string{"http"}}, http.StatusCreated, nil)
	pkg := failedPackage(t, f)
	app := strings.SplitN(f.send("POST", "/applications", url.Values{"name": {"shop_app"}}, true).Header().Get("Location"), "?", 2)[0]
	if rec := f.send("POST", app+"/credentials", url.Values{"type": {"key-auth"}}, true); rec.Code != http.StatusSeeOther && rec.Code != http.StatusOK {
		t.Fatalf("new credential: %d %.500s", rec.Code, rec.Body)
	}

	pages := []string{"/p/shop/services", w.svcPage, w.svcPage + "/versions", w.svcPage + "/market", w.svcPage + "/canary", "/groups/default", "/approvals", "/approvals?box=mine",
		approval, "/p/shop/packages", "/users", "/users/prov", "/p/shop/members", "/account", "/roles", "/roles/viewer", "/audit", "/monitoring", "/p/shop/upstreams", app}
	for _, path := range pages {
		rec := f.getIn(path, "zh-CN")
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
			continue
		}
		if raw := rawEnums(rec.Body.String()); len(raw) > 0 {
			t.Errorf("GET %s in Chinese shows %q untranslated", path, raw)
		}
	}
	// The pages do hold the values, in Chinese, with the raw class.
	body := f.getIn(w.svcPage, "zh-CN").Body.String()
	for _, want := range []string{`<span class="badge s-published">已上线</span>`, `data-action="rollback">回滚<`, `data-action="publish">发布<`, `data-action="submit">提交<`} {
		if !strings.Contains(body, want) {
			t.Errorf("the Chinese overview lacks %s", want)
		}
	}
	if body := f.getIn("/p/shop/services", "zh-CN").Body.String(); !strings.Contains(body, `<span class="badge s-draft">草稿</span>`) {
		t.Error("the Chinese services list lacks the draft badge")
	}
	if body := f.getIn("/users", "zh-CN").Body.String(); !strings.Contains(body, `<span class="role" title="super_admin">超级管理员</span>`) || !strings.Contains(body, `<option value="user" `) {
		t.Error("the Chinese users page lacks the role in Chinese or its option's value")
	}
	if body := f.getIn(app, "zh-CN").Body.String(); !strings.Contains(body, "<td>密钥认证（key-auth）</td>") || !strings.Contains(body, `<option value="oauth2">`) {
		t.Error("the Chinese application page lacks its credential's kind in Chinese")
	}
	if body := f.getIn("/p/shop/packages", "zh-CN").Body.String(); !strings.Contains(body, "失败") || !strings.Contains(body, pkg) {
		t.Error("the Chinese packages page lacks the failed package")
	}
	// English stays as the API says it.
	if body := f.send("GET", w.svcPage, nil, false).Body.String(); !strings.Contains(body, `<span class="badge s-published">published</span>`) || !strings.Contains(body, `data-action="rollback">rollback<`) {
		t.Error("the English overview lost its badge or history action")
	}
}

// failedPackage imports into project shop a package whose upstream is not
// mapped, which the admin API records as failed, and answers its id.
func failedPackage(t *testing.T, f *fixture) string {
	t.Helper()
	zip, err := manifest.WritePackage(&manifest.Package{Meta: manifest.PackageMeta{Name: "users-api", Project: "dev"},
		Services: []manifest.PackagedService{{Service: spec.Service{Name: "user_info", UpstreamID: "users_db",
			Routes: []spec.Route{{Name: "get", Paths: []string{"/users/info"}, Methods: []string{"GET"}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", adminapi.Prefix+"/projects/shop/import", bytes.NewReader(zip))
	r.Header.Set("Content-Type", "application/zip")
	r.Header.Set(adminapi.CSRFHeader, f.csrf)
	r.AddCookie(f.cookie)
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, r)
	var refusal struct {
		PackageID string `json:"package_id"`
	}
	if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &refusal) != nil || refusal.PackageID == "" {
		t.Fatalf("import without a mapping: %d %s", rec.Code, rec.Body)
	}
	return refusal.PackageID
}
