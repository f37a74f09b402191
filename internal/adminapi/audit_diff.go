package adminapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Secrets in audit details. An audit event outlives the objects it
// describes (exports to a log system, backups, years of retention) and
// is read by people who could never read the objects' secrets, so every
// detail is masked by member name before it is stored, whatever the
// handler passed: answers are redacted already, and this is the second
// lock, the one that also covers plugin configurations (headers such as
// Authorization, a query's api_key) that no type describes.

// masked replaces a secret value in an audit detail.
const masked = "***"

// secretWords mark a member as secret when its lowercased name contains
// one ("private_key", "X-Api-Key", "client_secret", "accessToken").
var secretWords = []string{"password", "passwd", "secret", "token", "key", "sealed", "hash", "authorization", "cookie"}

// publicNames contain a secret word but name no secret: how a balancer
// hashes (a variable's name, not a value), a token's lifetime or type.
// Names ending in "_id" are identifiers (key_id, token_id). Anything
// else with a secret word is masked, the false positives included: a
// limit-count "key" (the variable counted by) is masked like the key of
// a key-auth credential, for the rule reads names, not meanings, and
// showing a secret is the worse mistake.
var publicNames = []string{"hash_on", "hash_on_header", "hash_on_cookie", "hash_on_query_arg", "hash_fallback", "token_ttl", "token_type"}

// secretName reports whether a member of that name holds a secret.
func secretName(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	if strings.HasSuffix(n, "_id") || slices.Contains(publicNames, n) {
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// maskValue is what a secret member shows: null, "", [], {} and booleans
// as they are (whether one is set, has_password), anything else masked.
func maskValue(v any) any {
	switch v := v.(type) {
	case nil, bool:
		return v
	case string:
		if v == "" {
			return v
		}
	case []any:
		if len(v) == 0 {
			return v
		}
	case map[string]any:
		if len(v) == 0 {
			return v
		}
	}
	return masked
}

// mask returns v (decoded JSON) with the value of every secret member
// masked, at any depth.
func mask(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if secretName(k) {
				out[k] = maskValue(x)
			} else {
				out[k] = mask(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = mask(x)
		}
		return out
	}
	return v
}

// jsonTree is v as decoded JSON (numbers kept exact); nil for nil.
func jsonTree(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var t any
	if err := d.Decode(&t); err != nil {
		return nil, err
	}
	return t, nil
}

// maskedJSON is the JSON of v with its secrets masked; nil for nil.
func maskedJSON(v any) (json.RawMessage, error) {
	t, err := jsonTree(v)
	if err != nil || t == nil {
		return nil, err
	}
	return json.Marshal(mask(t))
}

// changeDetail is the detail of an audited change: the object before
// and after it (null when created, null when deleted), secrets masked,
// and the paths of what differs ("nodes[0].port", "plugins.cors").
// Changed is computed before masking, so a secret that was replaced is
// named there although both sides show "***".
type changeDetail struct {
	Before  any      `json:"before"`
	After   any      `json:"after"`
	Changed []string `json:"changed"`
}

// changeJSON builds the detail of a change from before to after.
func changeJSON(before, after any) (json.RawMessage, error) {
	b, err := jsonTree(before)
	if err != nil {
		return nil, fmt.Errorf("before: %w", err)
	}
	a, err := jsonTree(after)
	if err != nil {
		return nil, fmt.Errorf("after: %w", err)
	}
	d := changeDetail{Before: mask(b), After: mask(a), Changed: []string{}}
	// A created or deleted object changes in every member it has.
	rootB, rootA := b, a
	if rootB == nil {
		rootB = map[string]any{}
	}
	if rootA == nil {
		rootA = map[string]any{}
	}
	diffPaths(rootB, rootA, "", &d.Changed)
	return json.Marshal(d)
}

// diffPaths appends to out the paths where a and b (decoded JSON)
// differ: the member or element itself when it is missing on one side,
// of another kind, or an array of another length; the leaves otherwise.
func diffPaths(a, b any, path string, out *[]string) {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(a)+len(bm))
		for k := range a {
			keys = append(keys, k)
		}
		for k := range bm {
			if _, ok := a[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			av, inA := a[k]
			bv, inB := bm[k]
			if !inA || !inB {
				*out = append(*out, p)
				continue
			}
			diffPaths(av, bv, p, out)
		}
		return
	case []any:
		bs, ok := b.([]any)
		if !ok || len(bs) != len(a) {
			break
		}
		for i := range a {
			diffPaths(a[i], bs[i], path+"["+strconv.Itoa(i)+"]", out)
		}
		return
	default:
		if sameLeaf(a, b) {
			return
		}
	}
	*out = append(*out, path)
}

// sameLeaf compares two decoded JSON scalars (json.Number, string, bool,
// nil).
func sameLeaf(a, b any) bool {
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}

// secretMark stands for a write-only secret (a password, a private key)
// in an object passed to auditChange, whose real value is never read for
// an audit: "" when none is set; else a marker that masking shows as
// "***", one for a secret kept as stored and another for one this request
// set, so that changed names the secret exactly when it was set, replaced
// or removed.
func secretMark(set, setNow bool) string {
	switch {
	case !set:
		return ""
	case setNow:
		return "set by this change"
	}
	return "stored"
}
