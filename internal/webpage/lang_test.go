package webpage

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestCatalogue(t *testing.T) {
	c := Catalogue{"a": {"en": "A", "zh-CN": "甲"}, "b": {"en": "B"}}
	for _, tc := range []struct{ lang, key, want string }{{"zh-CN", "a", "甲"}, {"en", "a", "A"}, {"zh-CN", "b", "B"}, {"en", "nope", "nope"}} {
		if got := c.Text(tc.lang, tc.key); got != tc.want {
			t.Errorf("Text(%q, %q) = %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
	if !c.Has("a") || c.Has("nope") {
		t.Error("Has")
	}
	clashes := c.Add(Catalogue{"a": {"en": "again"}, "c": {"en": "C"}})
	if !slices.Equal(clashes, []string{"a"}) || c.Text("en", "a") != "A" || c.Text("en", "c") != "C" {
		t.Errorf("Add: clashes %q, a %q, c %q", clashes, c.Text("en", "a"), c.Text("en", "c"))
	}
}

func TestLang(t *testing.T) {
	for _, tc := range []struct{ cookie, accept, want string }{
		{"", "", "en"},
		{"", "zh-CN,zh;q=0.9,en;q=0.5", "zh-CN"},
		{"", "fr, en-GB;q=0.8", "en"},
		{"en", "zh-CN", "en"},
		{"zh-CN", "en", "zh-CN"},
		{"klingon", "zh-TW", "zh-CN"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.cookie != "" {
			r.AddCookie(&http.Cookie{Name: LangCookie, Value: tc.cookie})
		}
		r.Header.Set("Accept-Language", tc.accept)
		if got := Lang(r); got != tc.want {
			t.Errorf("cookie %q Accept-Language %q: %q, want %q", tc.cookie, tc.accept, got, tc.want)
		}
	}
}

func TestKeepLang(t *testing.T) {
	for _, tc := range []struct {
		lang, want string
		secure     bool
	}{{"zh-CN", "zh-CN", false}, {"de", "en", true}} {
		r := httptest.NewRequest("GET", "/lang/"+tc.lang, nil)
		r.SetPathValue("lang", tc.lang)
		w := httptest.NewRecorder()
		KeepLang(w, r, tc.secure)
		cs := w.Result().Cookies()
		if len(cs) != 1 || cs[0].Name != LangCookie || cs[0].Value != tc.want || cs[0].Path != "/" || cs[0].Secure != tc.secure ||
			cs[0].SameSite != http.SameSiteLaxMode || cs[0].MaxAge != 365*24*3600 {
			t.Errorf("%s: cookies %+v", tc.lang, cs)
		}
	}
}
