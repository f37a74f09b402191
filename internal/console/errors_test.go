package console

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/webpage"
)

// TestErrorMessagesOverrideNothing: the errors catalogue adds keys only.
func TestErrorMessagesOverrideNothing(t *testing.T) {
	if len(errorsOverridden) > 0 {
		t.Errorf("i18n_errors.go redefines keys: %v", errorsOverridden)
	}
}

// Every problem code the admin API gives has its message in both
// languages; an unknown one is left to the API's detail.
func TestProblemText(t *testing.T) {
	for _, code := range []string{"invalid_field", "not_found", "conflict", "invalid_state", "forbidden", "unauthorized",
		"rate_limited", "unavailable", "too_large", "method_not_allowed", "internal"} {
		en, ok1 := problemText("en", code)
		zh, ok2 := problemText("zh-CN", code)
		if !ok1 || !ok2 || en == zh {
			t.Errorf("problem %s: en %q, zh %q", code, en, zh)
		}
	}
	if _, ok := problemText("zh-CN", "something_new"); ok {
		t.Error("an unknown problem code has a message")
	}
}

func TestFieldText(t *testing.T) {
	for _, tc := range []struct {
		lang, code, message, want string
	}{
		{"en", "required", "is required", "is required"},
		{"zh-CN", "required", "is required", "必填"},
		{"zh-CN", "too_long", "must be at most 64 characters", "过长（最多 64）"},
		{"en", "too_long", "is longer than 100 bytes", "is too long (at most 100)"},
		{"zh-CN", "too_long", "is too long", "过长"},
		{"zh-CN", "too_short", "must be at least 12 characters long", "过短（至少 12 个字符）"},
		{"zh-CN", "out_of_range", "must be between 1 and 65535", "须在 1 到 65535 之间"},
		{"zh-CN", "out_of_range", "must not be negative", "超出允许的范围"},
		{"zh-CN", "not_allowed", "must be one of http, https", "须为以下之一：http, https"},
		{"zh-CN", "not_allowed", "is not accepted: this endpoint takes no body", "不是此处允许的值"},
		{"zh-CN", "unknown_field", "is not a known field", "不是可接受的字段"},
		{"zh-CN", "duplicate", "is listed twice", "重复出现"},
		{"zh-CN", "malformed", "malformed JSON at byte 3", "格式不正确，无法读取"},
		{"zh-CN", "not_found", `upstream "u" does not exist`, "引用的对象不存在"},
		// The validator's sentence is the reason: shown as it is.
		{"zh-CN", "invalid", "must be a header name (an RFC 9110 token)", "must be a header name (an RFC 9110 token)"},
		{"zh-CN", "", "must be a host name", "must be a host name"},
		{"zh-CN", "a_code_from_later", "is odd", "is odd"},
	} {
		if got := fieldText(tc.lang, webpage.FieldProblem{Field: "f", Message: tc.message, Code: tc.code}); got != tc.want {
			t.Errorf("%s %s %q: %q, want %q", tc.lang, tc.code, tc.message, got, tc.want)
		}
	}
}

// localizeRefusal translates a refusal with a code, keeps its field paths,
// and leaves a page's own refusal (no code) as it is.
func TestLocalizeRefusal(t *testing.T) {
	ae := &webpage.Refusal{Status: 400, Code: "invalid_field", Detail: "the request is invalid: upstream.nodes[0].host: is required"}
	ae.SetFields([]webpage.FieldProblem{{Field: "upstream.nodes[0].host", Message: "is required", Code: "required"}})
	localizeRefusal("zh-CN", ae)
	if ae.Detail != messages.Text("zh-CN", "problem.invalid_field") || ae.Fields["upstream.nodes[0].host"] != "必填" || ae.Fields["upstream"] != "必填" {
		t.Errorf("translated: %q %v", ae.Detail, ae.Fields)
	}
	if ae.APIDetail != "the request is invalid: upstream.nodes[0].host: is required" {
		t.Errorf("the API's detail is not kept: %q", ae.APIDetail)
	}
	own := &webpage.Refusal{Status: 400, Detail: "两次输入的密码不一致", Fields: map[string]string{"password2": "x"}}
	localizeRefusal("en", own)
	if own.Detail != "两次输入的密码不一致" || own.Fields["password2"] != "x" {
		t.Errorf("a page's own refusal changed: %+v", own)
	}
	localizeRefusal("en", errors.New("not a refusal")) // nothing to do, no panic
}

// A field message the page shows beside its field is not listed again; the
// others are, with their paths; a base name standing for longer paths is
// not listed itself.
func TestUnplacedFieldErrors(t *testing.T) {
	p := &page{Errors: map[string]string{"name": "必填", "upstream.nodes[0].host": "必填", "upstream": "必填", "timeout.read": "超出允许的范围", "timeout": "超出允许的范围"},
		asked: map[string]bool{"name": true, "upstream": true}}
	var got []string
	for _, fe := range p.Unplaced() {
		got = append(got, fe.Field)
	}
	if !slices.Equal(got, []string{"timeout.read"}) {
		t.Errorf("unplaced %v, want [timeout.read]", got)
	}
	if (&page{Errors: map[string]string{"x": "y"}}).Unplaced() != nil {
		t.Error("a page rendered once lists fields")
	}
}

// A conflict in a Chinese session says so in Chinese, not in the admin
// API's English detail.
func TestConflictInChinese(t *testing.T) {
	f := newFixture(t)
	form := url.Values{"name": {"svc_dup"}, "protocols": {"http"}, "node_host": {"127.0.0.1"}, "node_port": {"9"}}
	if rec := f.send("POST", "/p/default/services", form, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("create service: %d %s", rec.Code, rec.Body)
	}
	form.Set("csrf", f.csrf)
	r := httptest.NewRequest("POST", "/p/default/services", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	r.AddCookie(f.cookie)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	body := rec.Body.String()
	banner := `id="error">` + messages.Text("zh-CN", "problem.conflict") + "</p>"
	if rec.Code != http.StatusConflict || !strings.Contains(body, banner) {
		t.Fatalf("duplicate service in Chinese: %d, lacks the banner %s: %.2000s", rec.Code, banner, body)
	}
	// The API's own words stay on the page, folded under the banner: they
	// name what conflicts.
	if !strings.Contains(body, `id="error-detail"`) || !strings.Contains(body, "svc_dup") {
		t.Errorf("the API's detail is not folded under the banner: %.2000s", body)
	}
}
