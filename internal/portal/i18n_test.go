package portal

import (
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/webpage"
)

func TestCatalogueComplete(t *testing.T) {
	for key, m := range messages {
		if m["en"] == "" || m["zh-CN"] == "" {
			t.Errorf("message %q lacks a language: %v", key, m)
		}
	}
	// Every key a template or handler names exists.
	used := regexp.MustCompile(`\.T "([^"]+)"|q\.t\("([^"]+)"\)|messages\.Text\([a-z]+, "([^"]+)"\)`)
	check := func(file string, b []byte) {
		for _, m := range used.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2] + m[3]
			if !messages.Has(key) {
				t.Errorf("%s uses unknown key %q", file, key)
			}
		}
	}
	_ = fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, path)
		check(path, b)
		return nil
	})
	gos, _ := filepath.Glob("*.go")
	for _, g := range gos {
		if strings.HasSuffix(g, "_test.go") {
			continue
		}
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		check(g, b)
	}
	// Keys templates build from data.
	var built []string
	for _, s := range []string{"pending", "approved", "rejected", "cancelled"} {
		built = append(built, "state."+s, "sub."+s+"_note")
	}
	for _, s := range []string{"subscription", "listing", "delisting"} {
		built = append(built, "kind."+s)
	}
	for _, s := range []string{"cycle", "depth", "limit", "external", "oneOf", "anyOf"} {
		built = append(built, "schema."+s)
	}
	for _, s := range []string{"second", "minute", "hour", "day", "month"} {
		built = append(built, "period."+s)
	}
	built = append(built, "api.stage_test", "api.stage_production", "state.requested")
	for _, k := range built {
		if !messages.Has(k) {
			t.Errorf("no message %q", k)
		}
	}
}

func TestChinese(t *testing.T) {
	f := newFixture(t, Options{})
	f.signin()
	for _, tc := range []struct {
		path string
		has  []string
	}{
		{"/portal/", []string{`<html lang="zh-CN">`, "API 目录", "我的应用", "按名称或描述搜索", `<strong aria-current="true" lang="zh-CN">中文</strong>`}},
		{"/portal/apis/" + f.svc, []string{"调用地址", "套餐", "100 / 天", "申请订阅", "在线调试", "接口文档", "循环引用"}},
		{"/portal/apps", []string{"新建应用"}},
		{"/portal/subscriptions", []string{"你还没有订阅"}},
		{"/portal/requests", []string{"没有申请"}},
	} {
		rec := f.get(tc.path, "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.5")
		want(t, tc.path+" in Chinese", rec, http.StatusOK, tc.has...)
	}
	// The switch keeps the page and remembers the choice.
	rec := f.get("/portal/lang/zh-CN?back=" + url.QueryEscape("/portal/apis/"+f.svc+"?try=op-getPet"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/portal/apis/"+f.svc+"?try=op-getPet" {
		t.Fatalf("switch: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	var lang *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == webpage.LangCookie {
			lang = c
		}
	}
	if lang == nil || lang.Value != "zh-CN" {
		t.Fatalf("language cookie = %+v", lang)
	}
	r := f.getWith("/portal/apps", lang)
	want(t, "the chosen language", r, http.StatusOK, "我的应用", `href="/portal/lang/en?back=%2fportal%2fapps"`)
}
