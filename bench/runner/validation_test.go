package main

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestPostedBody(t *testing.T) {
	if len(benchOrder) < 1024 || len(benchOrder) > 1100 || !json.Valid(benchOrder) {
		t.Fatalf("the bench body is %d bytes, valid JSON %v", len(benchOrder), json.Valid(benchOrder))
	}
	if pluginBody(validationBench) == nil || pluginBody(postBench) == nil || pluginBody(benchPlugins) != nil {
		t.Fatal("pluginBody: the body rows post, the others GET")
	}
	dir := t.TempDir()
	ld, err := withBody(wrkLoader{path: "wrk"}, benchOrder, dir)
	if err != nil {
		t.Fatal(err)
	}
	script := ld.(wrkLoader).script
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `wrk.method = "POST"`) || !strings.Contains(string(b), string(benchOrder)) {
		t.Errorf("script:\n%s", b)
	}
	if same, err := withBody(wrkLoader{path: "wrk"}, nil, dir); err != nil || same.(wrkLoader).script != "" {
		t.Errorf("no body: %+v %v", same, err)
	}
	var skip skipError
	if _, err := withBody(goLoader{}, benchOrder, dir); !errors.As(err, &skip) {
		t.Errorf("the built-in loader posting a body: %v, want a skip", err)
	}
}
