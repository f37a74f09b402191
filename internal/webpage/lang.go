package webpage

import (
	"net/http"
	"strings"
)

// Catalogue is a UI's messages: key → language → text. Each UI keeps its
// own (the console speaks to operators, the portal to developers); this
// is only how one is looked up.
type Catalogue map[string]map[string]string

// Has reports whether key has a message.
func (c Catalogue) Has(key string) bool { _, ok := c[key]; return ok }

// Text answers key in lang, else in English, else the key itself (a
// missing key shows on the page instead of breaking it; each UI's
// catalogue test catches it first).
func (c Catalogue) Text(lang, key string) string {
	m, ok := c[key]
	if !ok {
		return key
	}
	if s, ok := m[lang]; ok {
		return s
	}
	return m["en"]
}

// Add merges more into c, a file's share of a catalogue, and answers the
// keys c had already: those keep their first message, and a test of the
// catalogue reports them.
func (c Catalogue) Add(more Catalogue) (clashes []string) {
	for k, v := range more {
		if _, ok := c[k]; ok {
			clashes = append(clashes, k)
			continue
		}
		c[k] = v
	}
	return clashes
}

// LangCookie keeps the language a person picked with a page's switch. The
// console and the portal share it (same name, Path=/): whoever picked
// Chinese in one gets it in the other.
const LangCookie = "portico_lang"

// Lang picks English ("en") or Simplified Chinese ("zh-CN") for a
// request: the switch's cookie first, then Accept-Language.
func Lang(r *http.Request) string {
	if ck, err := r.Cookie(LangCookie); err == nil && (ck.Value == "en" || ck.Value == "zh-CN") {
		return ck.Value
	}
	for part := range strings.SplitSeq(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// KeepLang keeps the language of the switch's request r (its {lang}: "en"
// unless it is "zh-CN") in LangCookie for a year; secure marks the cookie
// Secure. The caller then sends the browser back where it came from.
func KeepLang(w http.ResponseWriter, r *http.Request, secure bool) {
	lang := r.PathValue("lang")
	if lang != "en" && lang != "zh-CN" {
		lang = "en"
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: secure, SameSite: http.SameSiteLaxMode})
}
