package console

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// Each confirmation names its object in both languages: the same
// arguments, which the Chinese may take in another order.
func TestConfirmMessagesNameTheObject(t *testing.T) {
	if len(confirmOverridden) > 0 {
		t.Errorf("i18n_confirm.go redefines keys: %v", confirmOverridden)
	}
	verbs := regexp.MustCompile(`%(\[\d\])?s`)
	for key, m := range confirmMessages {
		en, zh := verbs.FindAllString(m["en"], -1), verbs.FindAllString(m["zh-CN"], -1)
		if len(en) == 0 || len(en) != len(zh) {
			t.Errorf("%s: en takes %v, zh-CN %v", key, en, zh)
		}
	}
}

// The user page's delete confirmation names the user, in English and in
// Chinese.
func TestDeleteUserConfirmationNamesTheUser(t *testing.T) {
	f := newFixture(t)
	if body := f.send("GET", "/users/admin", nil, false).Body.String(); !strings.Contains(body, `id="user-delete-what">Delete user admin with`) {
		t.Errorf("English confirmation does not name the user: %.3000s", body)
	}
	r := httptest.NewRequest("GET", "/users/admin", nil)
	r.AddCookie(f.cookie)
	r.Header.Set("Accept-Language", "zh-CN")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if body := rec.Body.String(); !strings.Contains(body, `id="user-delete-what">删除用户 admin 及其`) {
		t.Errorf("Chinese confirmation does not name the user: %.3000s", body)
	}
}
