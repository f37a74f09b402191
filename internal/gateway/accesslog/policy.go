package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Policy is a service's or route's access-log plugin config: whether its
// requests are logged, how many of them, and whether bodies are kept.
type Policy struct {
	Disabled bool
	// SampleRatio is the share of requests logged: 0 < r <= 1, 1 logs
	// every request.
	SampleRatio float64
	// Bodies, when not nil, keeps request and/or response bodies.
	Bodies *BodyPolicy
}

// BodyPolicy keeps bodies in access-log lines: capped, named JSON fields
// masked.
type BodyPolicy struct {
	Request, Response bool
	// MaxBytes caps each kept body (default 4096, at most 65536).
	MaxBytes int
	// Mask names JSON fields (case-insensitively) whose values are
	// replaced by "***" at any depth of a JSON body.
	Mask []string
}

// Body size limits.
const (
	DefaultBodyMaxBytes = 4096
	MaxBodyMaxBytes     = 65536
)

// JSONSchema describes the access-log plugin's config (ParsePolicy's
// input), for forms and editors.
var JSONSchema = json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "access-log",
  "description": "Whether requests of this service or route are written to the access log, how many of them, and whether their bodies are kept.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "disable": {
      "type": "boolean",
      "default": false,
      "description": "Write no access-log line for these requests."
    },
    "sample_ratio": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1,
      "description": "Share of requests logged; 1 logs every request."
    },
    "bodies": {
      "type": ["object", "null"],
      "additionalProperties": false,
      "description": "Keep request and/or response bodies in the lines, capped, with named JSON fields masked.",
      "properties": {
        "request": {"type": "boolean", "default": false, "description": "Keep the request body."},
        "response": {"type": "boolean", "default": false, "description": "Keep the response body."},
        "max_bytes": {"type": "integer", "minimum": 1, "maximum": 65536, "default": 4096, "description": "Bytes kept of each body."},
        "mask": {
          "type": "array",
          "items": {"type": "string", "minLength": 1},
          "description": "JSON field names (case-insensitive) whose values are written as \"***\" at any depth."
        }
      }
    }
  }
}`)

// policyFields and bodyFields are the names ParsePolicy accepts; the
// schema's properties are tested against them.
var (
	policyFields = []string{"disable", "sample_ratio", "bodies"}
	bodyFields   = []string{"request", "response", "max_bytes", "mask"}
)

// ParsePolicy decodes an access-log plugin config strictly: unknown
// fields and values out of range are refused with an error naming the
// field ("bodies.max_bytes: must be between 1 and 65536"). Empty input is
// the default policy (every request logged, no bodies).
func ParsePolicy(raw json.RawMessage) (*Policy, error) {
	p := &Policy{SampleRatio: 1}
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return p, nil
	}
	fields, err := objectFields(raw, "", policyFields)
	if err != nil {
		return nil, err
	}
	if v, ok := fields["disable"]; ok {
		if err := decodeField(v, "disable", "true or false", &p.Disabled); err != nil {
			return nil, err
		}
	}
	if v, ok := fields["sample_ratio"]; ok {
		if err := decodeField(v, "sample_ratio", "a number", &p.SampleRatio); err != nil {
			return nil, err
		}
		if !(p.SampleRatio > 0 && p.SampleRatio <= 1) {
			return nil, fmt.Errorf("sample_ratio: must be greater than 0 and at most 1 (use disable to log nothing), got %v", p.SampleRatio)
		}
	}
	if v, ok := fields["bodies"]; ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		b, err := parseBodyPolicy(v)
		if err != nil {
			return nil, err
		}
		p.Bodies = b
	}
	return p, nil
}

func parseBodyPolicy(raw json.RawMessage) (*BodyPolicy, error) {
	fields, err := objectFields(raw, "bodies.", bodyFields)
	if err != nil {
		return nil, err
	}
	b := &BodyPolicy{MaxBytes: DefaultBodyMaxBytes}
	for name, dst := range map[string]*bool{"request": &b.Request, "response": &b.Response} {
		if v, ok := fields[name]; ok {
			if err := decodeField(v, "bodies."+name, "true or false", dst); err != nil {
				return nil, err
			}
		}
	}
	if v, ok := fields["max_bytes"]; ok {
		var f float64
		if err := decodeField(v, "bodies.max_bytes", "a whole number", &f); err != nil {
			return nil, err
		}
		if f != math.Trunc(f) || f < 1 || f > MaxBodyMaxBytes {
			return nil, fmt.Errorf("bodies.max_bytes: must be between 1 and %d, got %v", MaxBodyMaxBytes, f)
		}
		b.MaxBytes = int(f)
	}
	if v, ok := fields["mask"]; ok {
		if err := decodeField(v, "bodies.mask", "a list of field names", &b.Mask); err != nil {
			return nil, err
		}
		for i, m := range b.Mask {
			if m == "" {
				return nil, fmt.Errorf("bodies.mask[%d]: empty field name", i)
			}
		}
	}
	if !b.Request && !b.Response {
		return nil, errors.New("bodies: turn on request, response or both (or remove bodies)")
	}
	return b, nil
}

// objectFields decodes raw as a JSON object and refuses names not in
// known, naming them with prefix ("bodies.").
func objectFields(raw json.RawMessage, prefix string, known []string) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		where := strings.TrimSuffix(prefix, ".")
		if where == "" {
			return nil, fmt.Errorf("access-log config: must be a JSON object: %v", jsonErrorText(err))
		}
		return nil, fmt.Errorf("%s: must be a JSON object", where)
	}
	var unknown []string
	for name := range fields {
		if !slices.Contains(known, name) {
			unknown = append(unknown, prefix+name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("%s: unknown field (known: %s%s)", strings.Join(unknown, ", "), prefix, strings.Join(known, ", "+prefix))
	}
	return fields, nil
}

func jsonErrorText(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

func decodeField(raw json.RawMessage, name, want string, dst any) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s: must be %s", name, want)
	}
	return nil
}

// Sampled reports whether the request with random number rnd (uniform
// over uint64, from the engine's generator) is logged. No lock, no
// allocation. A nil Policy logs every request.
func (p *Policy) Sampled(rnd uint64) bool {
	if p == nil {
		return true
	}
	if p.Disabled {
		return false
	}
	if p.SampleRatio >= 1 {
		return true
	}
	// The top 53 bits as a uniform fraction in [0, 1).
	return float64(rnd>>11)*(1.0/(1<<53)) < p.SampleRatio
}
