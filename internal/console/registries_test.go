package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// registryFormValues are a registry form as a browser posts it: every
// field, the ones left empty as "".
func registryFormValues(set map[string]string) url.Values {
	v := url.Values{}
	for _, k := range []string{"name", "type", "address", "namespace", "poll_interval", "service_group", "username", "password", "token", "ca"} {
		v.Set(k, set[k])
	}
	for k, s := range set {
		v.Set(k, s)
	}
	return v
}

// registry is the admin API's answer for the registry named name, read
// into a new value each time: an answer leaves out what is empty or
// false (omitempty), which a reused value would keep from before.
func (f *fixture) registry(t *testing.T, name string) spec.Registry {
	t.Helper()
	var r spec.Registry
	f.apiCall(t, "GET", "/gateway-groups/default/registries/"+name, nil, http.StatusOK, &r)
	return r
}

// registryRowOf is the registries table's row of the registry named name.
func registryRowOf(body, name string) string {
	return regexp.MustCompile(`(?s)<tr id="registry-` + regexp.QuoteMeta(name) + `">.*?</tr>`).FindString(body)
}

// TestRegistryAddEditRemoveTokenDelete drives a consul registry through
// the group page in each language: added with a token, edited with the
// token field empty (the stored token is kept, and no page shows it),
// its token removed with the checkbox, then deleted after a
// confirmation naming it.
func TestRegistryAddEditRemoveTokenDelete(t *testing.T) {
	for _, lang := range []struct{ accept, add, question, kept, remove string }{
		{"en", "Add registry", "Delete service registry consul1 of gateway group default?", "empty: the stored one is kept", "Remove the stored token"},
		{"zh-CN", "添加注册中心", "删除网关组 default 的服务注册中心 consul1？", "留空则保留已保存的值", "删除已保存的令牌"},
	} {
		t.Run(lang.accept, func(t *testing.T) {
			f := newFixture(t)
			const token = "acl-token-7f3c9e1d"
			if body := f.getIn("/groups/default", lang.accept).Body.String(); !strings.Contains(body, `id="registry-new">`+lang.add+`<`) {
				t.Fatalf("no add-registry form for an admin")
			}
			rec := f.postIn("/groups/default/registries", registryFormValues(map[string]string{
				"name": "consul1", "type": "consul", "address": "http://127.0.0.1:8500", "token": token, "poll_interval": "10"}), lang.accept)
			if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/groups/default") {
				t.Fatalf("add: %d %.2000s", rec.Code, rec.Body)
			}
			r := f.registry(t, "consul1")
			if !r.HasToken || r.Type != "consul" || r.Address != "http://127.0.0.1:8500" || r.PollInterval != 10 || r.Namespace != "" {
				t.Fatalf("added: %+v", r)
			}

			// Edit: a namespace, the token field empty.
			body := f.getIn("/groups/default", lang.accept).Body.String()
			row := registryRowOf(body, "consul1")
			if strings.Contains(body, token) || !strings.Contains(row, lang.kept) || !strings.Contains(row, lang.remove) ||
				!strings.Contains(row, `action="/groups/default/registries/`+r.ID+`"`) || !strings.Contains(row, `value="http://127.0.0.1:8500"`) {
				t.Fatalf("the registry's edit form: %s", row)
			}
			rec = f.postIn("/groups/default/registries/"+r.ID, registryFormValues(map[string]string{
				"name": "consul1", "type": "consul", "address": "http://127.0.0.1:8500", "namespace": "team", "poll_interval": "10"}), lang.accept)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("edit: %d %.2000s", rec.Code, rec.Body)
			}
			if r = f.registry(t, "consul1"); !r.HasToken || r.Namespace != "team" {
				t.Fatalf("an edit with the token field empty must keep the token: %+v", r)
			}
			for _, path := range []string{"/groups/default", "/audit", "/groups/default?history_page=2"} {
				if strings.Contains(f.getIn(path, lang.accept).Body.String(), token) {
					t.Fatalf("%s shows the token", path)
				}
			}

			// Remove the token with the checkbox.
			rec = f.postIn("/groups/default/registries/"+r.ID, registryFormValues(map[string]string{
				"name": "consul1", "type": "consul", "address": "http://127.0.0.1:8500", "namespace": "team", "remove_token": "on"}), lang.accept)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("remove the token: %d %.2000s", rec.Code, rec.Body)
			}
			if r = f.registry(t, "consul1"); r.HasToken {
				t.Fatalf("the remove box left the token: %+v", r)
			}
			if row := registryRowOf(f.getIn("/groups/default", lang.accept).Body.String(), "consul1"); strings.Contains(row, `name="remove_token"`) {
				t.Errorf("a registry without a token offers to remove one: %s", row)
			}

			// Delete: the question names it, and comes before its button.
			body = f.getIn("/groups/default", lang.accept).Body.String()
			summary := strings.Index(body, `id="reg-delete-consul1"`)
			question := strings.Index(body, `id="reg-delete-what-consul1">`+lang.question)
			button := strings.Index(body, `id="reg-delete-confirm-consul1"`)
			if summary < 0 || !(summary < question && question < button) || strings.Contains(body[summary:question], "<form") {
				t.Fatalf("the delete does not ask first naming the registry (summary %d, question %d, button %d)", summary, question, button)
			}
			if rec := f.postIn("/groups/default/registries/"+r.ID+"/delete", nil, lang.accept); rec.Code != http.StatusSeeOther {
				t.Fatalf("delete: %d %.2000s", rec.Code, rec.Body)
			}
			f.apiCall(t, "GET", "/gateway-groups/default/registries/consul1", nil, http.StatusNotFound, nil)
			if strings.Contains(f.getIn("/groups/default", lang.accept).Body.String(), `id="registry-consul1"`) {
				t.Error("the deleted registry is still listed")
			}
		})
	}
}

// TestRegistryFormRefused: a refused add comes back open with what was
// typed (never the password) and the API's message beside its field; a
// refused edit comes back on its own row's form; the console's own
// checks (a poll interval that is no number, a new token typed with the
// remove box ticked) answer the same way; and a registry a running
// service discovers through is not deleted, the banner naming the
// service's field.
func TestRegistryFormRefused(t *testing.T) {
	for _, lang := range []struct{ accept, banner string }{
		{"en", "Some fields need correcting"},
		{"zh-CN", "部分字段需要更正"},
	} {
		t.Run(lang.accept, func(t *testing.T) {
			f := newFixture(t)
			const password = "pw-4b1d8c2a"
			rec := f.postIn("/groups/default/registries", registryFormValues(map[string]string{
				"name": "eu", "type": "eureka", "address": "ftp://eureka.internal/eureka", "username": "svc", "password": password}), lang.accept)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("a bad address: %d, want 400", rec.Code)
			}
			body := rec.Body.String()
			if strings.Contains(body, password) {
				t.Fatal("the refused form shows the password")
			}
			for _, want := range []string{`<details open><summary class="button" id="registry-new">`, `value="eu"`, `value="svc"`, lang.banner,
				`<option selected>eureka</option>`} {
				if !strings.Contains(body, want) {
					t.Errorf("the refused form lacks %s", want)
				}
			}
			if !regexp.MustCompile(`name="address" value="ftp://eureka.internal/eureka"[^>]*></label><span class="ferr" role="alert">[^<]*http or https`).MatchString(body) {
				t.Errorf("the address error is not beside the address as typed:\n%.4000s", body)
			}
			f.apiCall(t, "GET", "/gateway-groups/default/registries/eu", nil, http.StatusNotFound, nil)

			// The console's own checks, on the form of a new registry.
			rec = f.postIn("/groups/default/registries", registryFormValues(map[string]string{"name": "d", "type": "dns", "poll_interval": "often"}), lang.accept)
			if rec.Code != http.StatusBadRequest || !regexp.MustCompile(`name="poll_interval" value="often"[^>]*></label><span class="ferr"`).MatchString(rec.Body.String()) {
				t.Errorf("a poll interval that is no number: %d", rec.Code)
			}

			// A refused edit: its own row's form, open, with the typed name.
			f.apiCall(t, "POST", "/gateway-groups/default/registries", map[string]any{"name": "k8s", "type": "kubernetes",
				"address": "https://127.0.0.1:6443", "token": "sa-token-91aa"}, http.StatusCreated, nil)
			r := f.registry(t, "k8s")
			rec = f.postIn("/groups/default/registries/"+r.ID, registryFormValues(map[string]string{
				"name": "k8s bad", "type": "kubernetes", "address": "https://127.0.0.1:6443", "token": "new-token-55"}), lang.accept)
			body = rec.Body.String()
			row := registryRowOf(body, "k8s")
			if rec.Code != http.StatusBadRequest || !strings.Contains(row, `<details open><summary id="reg-edit-k8s"`) || !strings.Contains(row, `value="k8s bad"`) ||
				!regexp.MustCompile(`name="name" value="k8s bad"[^>]*></label><span class="ferr"`).MatchString(row) || strings.Contains(body, "new-token-55") {
				t.Errorf("a refused edit: %d\n%s", rec.Code, row)
			}
			rec = f.postIn("/groups/default/registries/"+r.ID, registryFormValues(map[string]string{
				"name": "k8s", "type": "kubernetes", "address": "https://127.0.0.1:6443", "token": "new-token-55", "remove_token": "on"}), lang.accept)
			row = registryRowOf(rec.Body.String(), "k8s")
			if rec.Code != http.StatusBadRequest || !regexp.MustCompile(`name="token" value=""[^>]*></label><span class="ferr"`).MatchString(row) ||
				!strings.Contains(row, `name="remove_token" checked`) || strings.Contains(rec.Body.String(), "new-token-55") {
				t.Errorf("a new token with the remove box ticked: %d\n%s", rec.Code, row)
			}
			if r = f.registry(t, "k8s"); r.Name != "k8s" || !r.HasToken {
				t.Errorf("a refused edit changed the registry: %+v", r)
			}

			// A running service discovers through k8s: it cannot go.
			f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "orders", "protocols": []string{"http"},
				"routes": []map[string]any{{"name": "list", "paths": []string{"/orders"}}}}, http.StatusCreated, nil)
			f.apiCall(t, "POST", "/projects/default/services/orders/publish", map[string]any{"group": "default", "version": "1.0.0",
				"upstream": map[string]any{"discovery": map[string]any{"registry": "k8s", "service_name": "orders"}}}, http.StatusCreated, nil)
			rec = f.postIn("/groups/default/registries/"+r.ID+"/delete", nil, lang.accept)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "services[orders].upstream.discovery.registry") {
				t.Errorf("deleting a registry in use: %d, want 400 naming the service's field\n%.3000s", rec.Code, rec.Body)
			}
			f.apiCall(t, "GET", "/gateway-groups/default/registries/k8s", nil, http.StatusOK, nil)
		})
	}
}

// TestRegistryFormsOnlyForAdmins: a user who is no admin sees the
// registries but no form to change them, and the console refuses their
// posts before the admin API is asked.
func TestRegistryFormsOnlyForAdmins(t *testing.T) {
	f := newFixture(t)
	f.apiCall(t, "POST", "/gateway-groups/default/registries", map[string]any{"name": "dns1", "type": "dns"}, http.StatusCreated, nil)
	u := f.as(t, f.mkUser(t, "carol", "user"))
	rec := u.send("GET", "/groups/default", nil, false)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `id="registry-dns1"`) {
		t.Fatalf("a user's group page: %d, lacks the registry", rec.Code)
	}
	for _, form := range []string{`id="registry-new"`, `/registries/`, `id="reg-edit-dns1"`, `id="reg-delete-dns1"`} {
		if strings.Contains(body, form) {
			t.Errorf("a user who is no admin is offered %s", form)
		}
	}
	if rec := u.send("POST", "/groups/default/registries", registryFormValues(map[string]string{"name": "dns2", "type": "dns"}), true); rec.Code != http.StatusForbidden {
		t.Errorf("a user adds a registry: %d, want 403", rec.Code)
	}
	if rec := u.send("POST", "/groups/default/registries/dns1/delete", nil, true); rec.Code != http.StatusForbidden {
		t.Errorf("a user deletes a registry: %d, want 403", rec.Code)
	}
}

// TestRegistryBodySendsOnlyWhatIsFilled: the admin API refuses a field
// the type does not take, and a PUT keeps a credential the body leaves
// out, so an empty field is no member of the body, an empty credential
// on an edit is left out (kept) and only its remove box sends "".
func TestRegistryBodySendsOnlyWhatIsFilled(t *testing.T) {
	q := func(form url.Values) *req {
		r := httptest.NewRequest("POST", "/", nil)
		r.PostForm = form
		return &req{r: r, lang: "en"}
	}
	empty := registryFormValues(map[string]string{"name": "d", "type": "dns"})
	for _, edit := range []bool{false, true} {
		body, err := q(empty).registryBody(edit)
		if err != nil || len(body) != 2 || body["name"] != "d" || body["type"] != "dns" {
			t.Errorf("edit %v: a dns form with its other fields empty gives %v, %v", edit, body, err)
		}
	}
	removing := registryFormValues(map[string]string{"name": "c", "type": "consul", "address": "http://c:8500", "remove_token": "on", "remove_password": "on"})
	body, err := q(removing).registryBody(true)
	if err != nil || body["token"] != "" || body["password"] != "" || !has(body, "token") || !has(body, "password") {
		t.Errorf("an edit with the remove boxes: %v, %v", body, err)
	}
	if body, _ := q(removing).registryBody(false); has(body, "token") || has(body, "password") {
		t.Errorf("a new registry sends credentials it was not given: %v", body)
	}
	typed := registryFormValues(map[string]string{"name": "c", "type": "consul", "address": "http://c:8500", "token": " tok\n", "poll_interval": "2.5"})
	if body, err := q(typed).registryBody(true); err != nil || body["token"] != "tok" || body["poll_interval"] != 2.5 {
		t.Errorf("a typed token and poll interval: %v, %v", body, err)
	}
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

// TestRegistryFormsNeverAnswer500 posts odd values to the forms of a
// registry that exists (TestFormsNeverAnswer500 has none to edit): a
// consul one with a token, and a nacos one with a password, whose
// remove boxes are then among what is sent.
func TestRegistryFormsNeverAnswer500(t *testing.T) {
	skipUnderRace(t)
	f := newFixture(t)
	f.apiCall(t, "POST", "/gateway-groups/default/registries", map[string]any{"name": "c", "type": "consul",
		"address": "http://127.0.0.1:8500", "token": "t"}, http.StatusCreated, nil)
	f.apiCall(t, "POST", "/gateway-groups/default/registries", map[string]any{"name": "n", "type": "nacos",
		"address": "http://127.0.0.1:8848", "username": "u", "password": "p"}, http.StatusCreated, nil)
	ids := map[string]string{}
	for _, name := range []string{"c", "n"} {
		ids[name] = f.registry(t, name).ID
	}
	odd := []string{"", " ", "x", "on", "-1", "0", "1e309", "NaN", "-Inf", "0x10", "99999999999999999999", "1.5",
		"<script>alert(1)</script>", "//evil.example/", "\x00", strings.Repeat("a", 20000), "名字", "null", "dns", "consul", "eureka",
		"http://127.0.0.1:8500", "https://x:6443", "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----"}
	fields := []string{"name", "type", "address", "namespace", "poll_interval", "service_group", "username", "password", "token", "ca",
		"remove_password", "remove_token"}
	for _, p := range []string{"/groups/default/registries", "/groups/default/registries/" + ids["c"], "/groups/default/registries/" + ids["n"],
		"/groups/default/registries/n"} {
		for i := range odd {
			form := url.Values{}
			for j, k := range fields {
				form.Set(k, odd[(i+j)%len(odd)])
			}
			if rec := f.send("POST", p, form, true); rec.Code >= 500 {
				t.Errorf("POST %s with %v: %d %.300s", p, form, rec.Code, rec.Body)
			}
		}
	}
	for _, id := range ids {
		if rec := f.send("POST", "/groups/default/registries/"+id+"/delete", url.Values{"name": {"\x00"}}, true); rec.Code >= 500 {
			t.Errorf("delete: %d %.300s", rec.Code, rec.Body)
		}
	}
}
