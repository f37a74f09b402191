package accesslog

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSink(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SinkConfig
	}{
		{"stdout", SinkConfig{Kind: KindStdout, Name: "stdout"}},
		{"stdout?flush=50ms&batch=10", SinkConfig{Kind: KindStdout, Name: "stdout", FlushInterval: 50 * time.Millisecond, BatchEntries: 10}},
		{"file:/var/log/portico/access.log", SinkConfig{Kind: KindFile, Name: "file:/var/log/portico/access.log",
			File: FileOptions{Path: "/var/log/portico/access.log", MaxSizeMB: 100, MaxBackups: 5}}},
		{"file:///var/log/a.log?max_size_mb=10&max_backups=0&max_age_days=7&compress=true", SinkConfig{Kind: KindFile, Name: "file:/var/log/a.log",
			File: FileOptions{Path: "/var/log/a.log", MaxSizeMB: 10, MaxBackups: 0, MaxAgeDays: 7, Compress: true}}},
		{"file:logs/access.log", SinkConfig{Kind: KindFile, Name: "file:logs/access.log",
			File: FileOptions{Path: "logs/access.log", MaxSizeMB: 100, MaxBackups: 5}}},
		{"http://collector:8686/logs", SinkConfig{Kind: KindHTTP, Name: "http://collector:8686/logs",
			HTTP: HTTPOptions{URL: "http://collector:8686/logs", Format: FormatNDJSON, Timeout: 5 * time.Second}}},
		{"https://user:pw@logs.example.com/ingest?format=json&batch=100&flush=2s&timeout=3s&header=Authorization:Bearer+abc&header=X-Scope-OrgID:%20t1",
			SinkConfig{Kind: KindHTTP, Name: "https://logs.example.com/ingest", BatchEntries: 100, FlushInterval: 2 * time.Second,
				HTTP: HTTPOptions{URL: "https://user:pw@logs.example.com/ingest", Format: FormatJSON, Timeout: 3 * time.Second,
					Header: http.Header{"Authorization": {"Bearer abc"}, "X-Scope-Orgid": {"t1"}}}}},
		{"syslog://logs.example.com?tag=gw&facility=LOCAL3", SinkConfig{Kind: KindSyslog, Name: "syslog://logs.example.com",
			Syslog: SyslogOptions{Network: "udp", Address: "logs.example.com:514", Tag: "gw", Facility: "local3"}}},
		{"syslog+tcp://10.0.0.1:6514", SinkConfig{Kind: KindSyslog, Name: "syslog+tcp://10.0.0.1:6514",
			Syslog: SyslogOptions{Network: "tcp", Address: "10.0.0.1:6514", Tag: "portico", Facility: "local0"}}},
		{"syslog+tcp://[::1]", SinkConfig{Kind: KindSyslog, Name: "syslog+tcp://[::1]",
			Syslog: SyslogOptions{Network: "tcp", Address: "[::1]:601", Tag: "portico", Facility: "local0"}}},
		{"syslog+unix:///dev/log?batch=1", SinkConfig{Kind: KindSyslog, Name: "syslog+unix:///dev/log", BatchEntries: 1,
			Syslog: SyslogOptions{Network: "unix", Address: "/dev/log", Tag: "portico", Facility: "local0"}}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if tc.want.Kind == KindSyslog && !syslogSupported {
				t.Skip("no syslog sinks on this system")
			}
			got, err := ParseSink(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(SinkConfig{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if c, _ := ParseSink("stdout"); c.writer != os.Stdout {
		t.Error("stdout does not write to os.Stdout")
	}
}

func TestParseSinkRefuses(t *testing.T) {
	for _, tc := range []struct{ in, wantErr string }{
		{"", "empty sink"},
		{"kafka://broker:9092", `unknown scheme "kafka"`},
		{"/var/log/access.log", "unknown scheme"},
		{"stdout?color=1", `unknown parameter "color"`},
		{"stdout?batch=0", "batch: must be a whole number between 1 and 100000"},
		{"stdout?batch=ten", "batch: must be a whole number"},
		{"stdout?flush=-1s", "flush: must be a duration"},
		{"stdout?flush=soon", "flush: must be a duration"},
		{"stdout?batch=1&batch=2", "batch: given 2 times"},
		{"file:", "path: missing"},
		{"file://host/x.log", "file://HOST"},
		{"file:/x.log?max_size_mb=0", "max_size_mb: must be a whole number between 1"},
		{"file:/x.log?max_backups=-1", "max_backups"},
		{"file:/x.log?compress=maybe", "compress: must be true or false"},
		{"file:/x.log?rotate=daily&zz=1", `unknown parameter "rotate", "zz"`},
		{"http://", "missing host"},
		{"http://h/p?format=xml", `format: must be ndjson or json, got "xml"`},
		{"http://h/p?timeout=0s", "timeout: must be a duration"},
		{"http://h/p?header=NoColon", "header: want Name:Value"},
		{"http://h/p?header=Bad%20Name:v", "header: want Name:Value"},
		{"http://h/p?pipeline=x", `unknown parameter "pipeline"`},
		{"http://h/p#frag", "fragment"},
		{"syslog://", "host: missing"},
		{"syslog://h/path", "takes no path"},
		{"syslog://h?facility=local9", `facility: unknown "local9"`},
		{"syslog://h?tag=a%20b", "tag: must be"},
		{"syslog://h?severity=debug", `unknown parameter "severity"`},
		{"syslog+unix://", "path: want syslog+unix:///path"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseSink(tc.in)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `access-log sink "`+tc.in+`"`) {
				t.Errorf("error %q should name the sink and contain %q", err, tc.wantErr)
			}
		})
	}
}
