package accesslog

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePolicy(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *Policy
	}{
		{``, &Policy{SampleRatio: 1}},
		{`null`, &Policy{SampleRatio: 1}},
		{`{}`, &Policy{SampleRatio: 1}},
		{`{"disable": true}`, &Policy{Disabled: true, SampleRatio: 1}},
		{`{"sample_ratio": 0.1}`, &Policy{SampleRatio: 0.1}},
		{`{"bodies": null}`, &Policy{SampleRatio: 1}},
		{`{"bodies": {"request": true}}`, &Policy{SampleRatio: 1, Bodies: &BodyPolicy{Request: true, MaxBytes: 4096}}},
		{`{"disable": false, "sample_ratio": 1, "bodies": {"request": true, "response": true, "max_bytes": 65536, "mask": ["password","card"]}}`,
			&Policy{SampleRatio: 1, Bodies: &BodyPolicy{Request: true, Response: true, MaxBytes: 65536, Mask: []string{"password", "card"}}}},
	} {
		got, err := ParsePolicy(json.RawMessage(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParsePolicyRefuses(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		{`[]`, "must be a JSON object"},
		{`{"disable": true,}`, "must be a JSON object"},
		{`{"disabled": true}`, "disabled: unknown field"},
		{`{"bodies": {"request": true, "maxBytes": 1}}`, "bodies.maxBytes: unknown field"},
		{`{"disable": "yes"}`, "disable: must be true or false"},
		{`{"sample_ratio": 0}`, "sample_ratio: must be greater than 0"},
		{`{"sample_ratio": 1.5}`, "sample_ratio: must be greater than 0 and at most 1"},
		{`{"sample_ratio": "half"}`, "sample_ratio: must be a number"},
		{`{"bodies": true}`, "bodies: must be a JSON object"},
		{`{"bodies": {"request": true, "max_bytes": 0}}`, "bodies.max_bytes: must be between 1 and 65536"},
		{`{"bodies": {"request": true, "max_bytes": 65537}}`, "bodies.max_bytes: must be between 1 and 65536"},
		{`{"bodies": {"request": true, "max_bytes": 10.5}}`, "bodies.max_bytes: must be between 1 and 65536"},
		{`{"bodies": {"request": true, "mask": "password"}}`, "bodies.mask: must be a list"},
		{`{"bodies": {"request": true, "mask": [""]}}`, "bodies.mask[0]: empty field name"},
		{`{"bodies": {"request": false, "response": false}}`, "bodies: turn on request, response or both"},
		{`{"bodies": {"request": "on"}}`, "bodies.request: must be true or false"},
	} {
		_, err := ParsePolicy(json.RawMessage(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

// TestJSONSchemaMatchesParsePolicy: the schema describes exactly the
// fields ParsePolicy accepts.
func TestJSONSchemaMatchesParsePolicy(t *testing.T) {
	var schema struct {
		Schema               string `json:"$schema"`
		AdditionalProperties bool   `json:"additionalProperties"`
		Properties           map[string]struct {
			AdditionalProperties *bool                      `json:"additionalProperties"`
			Properties           map[string]json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(JSONSchema, &schema); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(schema.Schema, "2020-12") || schema.AdditionalProperties {
		t.Errorf("$schema %q, additionalProperties %v", schema.Schema, schema.AdditionalProperties)
	}
	top := slices.Sorted(maps.Keys(schema.Properties))
	if want := slices.Sorted(slices.Values(policyFields)); !slices.Equal(top, want) {
		t.Errorf("schema properties %v, ParsePolicy accepts %v", top, want)
	}
	bodies := schema.Properties["bodies"]
	if got, want := slices.Sorted(maps.Keys(bodies.Properties)), slices.Sorted(slices.Values(bodyFields)); !slices.Equal(got, want) {
		t.Errorf("schema bodies properties %v, ParsePolicy accepts %v", got, want)
	}
	if bodies.AdditionalProperties == nil || *bodies.AdditionalProperties {
		t.Error("bodies allows additional properties")
	}
}

func TestPolicySampled(t *testing.T) {
	var nilPolicy *Policy
	if !nilPolicy.Sampled(0) || !(&Policy{SampleRatio: 1}).Sampled(math.MaxUint64) {
		t.Error("a nil policy and ratio 1 must log every request")
	}
	if (&Policy{Disabled: true, SampleRatio: 1}).Sampled(0) {
		t.Error("a disabled policy logged")
	}
	p := &Policy{SampleRatio: 0.25}
	if !p.Sampled(0) || p.Sampled(math.MaxUint64) {
		t.Error("extremes of rnd")
	}
	if !p.Sampled(1<<62-1<<11) || p.Sampled(1<<62) {
		t.Error("the boundary of a quarter")
	}
	// Over evenly spread numbers, the share logged is the ratio.
	const n = 100_000
	logged := 0
	for i := range uint64(n) {
		if p.Sampled(i * (math.MaxUint64 / n)) {
			logged++
		}
	}
	if logged < n/4-10 || logged > n/4+10 {
		t.Errorf("logged %d of %d at ratio 0.25", logged, n)
	}
	if a := testing.AllocsPerRun(100, func() { p.Sampled(12345) }); a != 0 {
		t.Errorf("Sampled allocates %v", a)
	}
}
