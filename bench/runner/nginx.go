package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

// nginxConf is the reference nginx of docs/benchmark.md: one worker, upstream
// keep-alive (without it nginx opens a connection per request and the
// comparison is meaningless), no access log unless asked for, everything
// under dir.
var nginxConf = template.Must(template.New("nginx").Parse(`# written by bench/runner
worker_processes {{.Workers}};
daemon off;
master_process on;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;
{{if .Root}}user root;
{{end}}
{{- if gt .WorkerConnections 4096}}
worker_rlimit_nofile {{.WorkerConnections}};
{{- end}}
events {
    worker_connections {{.WorkerConnections}};
}

http {
{{- if .AccessLog}}
    # The fields of Portico's access-log line, the same JSON escaping, a
    # buffered file (what --access-log file: does): the reference for what
    # an access log costs a proxy.
    log_format portico escape=json '{"time":"$time_iso8601","request_id":"$request_id",'
        '"instance":"nginx","group":"default","project":"default","service":"bench",'
        '"service_id":"01a245dc-9e34-7719-92e4-2a54154361fd","version":"1.0.0","route":"bench",'
        '"client":"$remote_addr","method":"$request_method","host":"$host","path":"$uri",'
        '"status":$status,"upstream":"$upstream_addr","upstream_status":$upstream_status,'
        '"bytes_in":$request_length,"bytes_out":$bytes_sent,"latency_ms":$request_time,'
        '"upstream_latency_ms":$upstream_response_time}';
    access_log {{.AccessLog}} portico buffer=256k flush=200ms;
{{- else}}
    access_log off;
{{- end}}
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path {{.Dir}}/proxy;
    fastcgi_temp_path {{.Dir}}/fastcgi;
    uwsgi_temp_path {{.Dir}}/uwsgi;
    scgi_temp_path {{.Dir}}/scgi;

    upstream origin {
        server {{.Origin}};
        keepalive 1024;
        keepalive_requests 1000000;
        keepalive_timeout 75s;
    }

    server {
        listen {{.Listen}}{{with .TLS}} ssl{{if and .H2 (not .H2Directive)}} http2{{end}}{{end}};
{{- with .TLS}}
{{- if .H2Directive}}
        http2 {{if .H2}}on{{else}}off{{end}};
{{- end}}
        ssl_certificate {{.Cert}};
        ssl_certificate_key {{.Key}};
        # What Portico's listener offers and prefers (crypto/tls on a CPU
        # with AES instructions: AES-128-GCM first), so both sides of a
        # TLS comparison run the same protocol and suite whatever the
        # client lists first. nginx 1.22's default ssl_protocols lacks
        # TLSv1.3.
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
        ssl_prefer_server_ciphers on;
{{- end}}
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
        }
    }
}
`))

// nginxTLS is the TLS side of a nginx row's server block.
type nginxTLS struct {
	Cert, Key string
	H2        bool // ALPN offers h2
	// H2Directive: this nginx takes `http2 on|off;` (1.25.1+), not the
	// listen parameter.
	H2Directive bool
}

// writeNginxConf writes dir/nginx.conf proxying listen to origin (over TLS
// when tls is set, with an access log to the file accessLog when it is not
// empty; room for at least workerConns connections; workers worker
// processes, at least one) and returns its path.
func writeNginxConf(dir, listen, origin string, tls *nginxTLS, accessLog string, workerConns, workers int) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var b strings.Builder
	err := nginxConf.Execute(&b, map[string]any{
		"Dir": dir, "Listen": listen, "Origin": origin, "TLS": tls, "AccessLog": accessLog,
		"WorkerConnections": max(workerConns, 4096),
		"Workers":           max(workers, 1),
		// As root nginx would switch its worker to nobody, who cannot
		// write the temp dirs; as anyone else the directive is an error.
		"Root": os.Geteuid() == 0,
	})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "nginx.conf")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// nginxVersion is what `nginx -v` says, for the facts header.
func nginxVersion(path string) string {
	out, err := exec.Command(path, "-v").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	s := strings.TrimSpace(string(out))
	if _, v, ok := strings.Cut(s, "version: "); ok {
		return v
	}
	return s
}

// nginxArgv is the command line that runs the config at conf in the
// foreground; -e keeps the start-up error log out of /var/log.
func nginxArgv(path, dir, conf string) []string {
	return []string{path, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log")}
}

// checkNginxConf runs nginx -t on conf, so a bad config is reported with
// nginx's own words rather than as a start that never answers.
func checkNginxConf(path, dir, conf string) error {
	argv := append(nginxArgv(path, dir, conf), "-t", "-q")
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	return nil
}
