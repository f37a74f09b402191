package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/spf13/pflag"
)

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantAddr  string
		wantGroup []string
		wantErr   bool
	}{
		{name: "defaults", wantAddr: "127.0.0.1:9180", wantGroup: []string{"default"}},
		{name: "env sets", env: map[string]string{"PORTICO_ADMIN_ADDR": "127.0.0.1:1", "PORTICO_GROUP": "test,production"},
			wantAddr: "127.0.0.1:1", wantGroup: []string{"test", "production"}},
		{name: "flag beats env", env: map[string]string{"PORTICO_ADMIN_ADDR": "127.0.0.1:1"}, args: []string{"--admin-addr", ":2"},
			wantAddr: ":2", wantGroup: []string{"default"}},
		{name: "repeated flag", args: []string{"--group", "a", "--group", "b"}, wantAddr: "127.0.0.1:9180", wantGroup: []string{"a", "b"}},
		{name: "bad env value", env: map[string]string{"PORTICO_DRAIN": "soon"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			addr := fs.String("admin-addr", "127.0.0.1:9180", "")
			groups := fs.StringSlice("group", []string{"default"}, "")
			fs.Duration("drain", 0, "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := applyEnv(fs, envPrefix)
			if (err != nil) != tt.wantErr {
				t.Fatalf("applyEnv error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if *addr != tt.wantAddr {
				t.Errorf("admin-addr = %q, want %q", *addr, tt.wantAddr)
			}
			if len(*groups) != len(tt.wantGroup) {
				t.Fatalf("groups = %v, want %v", *groups, tt.wantGroup)
			}
			for i := range *groups {
				if (*groups)[i] != tt.wantGroup[i] {
					t.Errorf("groups = %v, want %v", *groups, tt.wantGroup)
				}
			}
		})
	}
}

// TestServerDefaults: the admin API and the status endpoints listen on
// loopback unless told otherwise; the gateway on every interface.
func TestServerDefaults(t *testing.T) {
	f := serverCmd().Flags()
	for name, want := range map[string]string{"admin-addr": "127.0.0.1:9180", "status-addr": "127.0.0.1:9091", "gateway-addr": ":9080"} {
		if got := f.Lookup(name).DefValue; got != want {
			t.Errorf("--%s defaults to %q, want %q", name, got, want)
		}
	}
	t.Setenv("PORTICO_ADMIN_ADDR", ":9180")
	if err := applyEnv(f, envPrefix); err != nil {
		t.Fatal(err)
	}
	if got := f.Lookup("admin-addr").Value.String(); got != ":9180" {
		t.Errorf("PORTICO_ADMIN_ADDR=:9180 gives %q", got)
	}
}

// TestServerReadyFile: --ready-file is off unless given, and follows the
// flag→environment convention like every other server flag.
func TestServerReadyFile(t *testing.T) {
	f := serverCmd().Flags()
	if got := f.Lookup("ready-file").DefValue; got != "" {
		t.Errorf("--ready-file defaults to %q, want none", got)
	}
	t.Setenv("PORTICO_READY_FILE", "/run/portico/ready.json")
	if err := applyEnv(f, envPrefix); err != nil {
		t.Fatal(err)
	}
	if got := f.Lookup("ready-file").Value.String(); got != "/run/portico/ready.json" {
		t.Errorf("PORTICO_READY_FILE gives %q", got)
	}
}

// TestOpenAPICommand: `portico openapi` prints the admin API's document.
func TestOpenAPICommand(t *testing.T) {
	var out bytes.Buffer
	cmd := openAPICmd()
	cmd.SetOut(&out)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.OpenAPI != "3.1.0" || len(doc.Paths) < 20 {
		t.Fatalf("openapi printed %d bytes: openapi %q, %d paths, %v", out.Len(), doc.OpenAPI, len(doc.Paths), err)
	}
}
