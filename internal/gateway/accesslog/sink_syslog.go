package accesslog

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// SyslogOptions are a syslog sink's server and message header.
type SyslogOptions struct {
	Network  string // "udp", "tcp" or "unix"
	Address  string // host:port, or the socket's path for unix
	Tag      string
	Facility string // a name from syslogFacilities
}

// syslogFacilities are the facility names a syslog sink accepts, with
// their codes (RFC 5424 section 6.2.1).
var syslogFacilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

func parseSyslogSink(s string) (SinkConfig, error) {
	if !syslogSupported {
		return SinkConfig{}, errors.New("syslog sinks are not supported on this operating system")
	}
	u, err := url.Parse(s)
	if err != nil {
		return SinkConfig{}, fmt.Errorf("url: %w", err)
	}
	q, err := parseParams(u.RawQuery, append([]string{"tag", "facility"}, commonParams...))
	if err != nil {
		return SinkConfig{}, err
	}
	c := SinkConfig{Kind: KindSyslog, Syslog: SyslogOptions{Tag: "portico", Facility: "local0"}}
	switch strings.ToLower(u.Scheme) {
	case "syslog", "syslog+udp":
		c.Syslog.Network = "udp"
		c.Syslog.Address, err = hostPort(u, "514")
	case "syslog+tcp":
		c.Syslog.Network = "tcp"
		c.Syslog.Address, err = hostPort(u, "601")
	case "syslog+unix":
		c.Syslog.Network = "unix"
		if u.Host != "" || u.Path == "" {
			return SinkConfig{}, errors.New("path: want syslog+unix:///path/to/socket")
		}
		c.Syslog.Address = u.Path
	}
	if err != nil {
		return SinkConfig{}, err
	}
	if q.has("tag") {
		c.Syslog.Tag = q.get("tag")
		if c.Syslog.Tag == "" || strings.ContainsAny(c.Syslog.Tag, " :[]\n") || len(c.Syslog.Tag) > 48 {
			return SinkConfig{}, fmt.Errorf("tag: must be 1 to 48 characters without spaces, ':' or brackets, got %q", c.Syslog.Tag)
		}
	}
	if q.has("facility") {
		f := strings.ToLower(q.get("facility"))
		if _, ok := syslogFacilities[f]; !ok {
			return SinkConfig{}, fmt.Errorf("facility: unknown %q (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0 … local7)", q.get("facility"))
		}
		c.Syslog.Facility = f
	}
	if err := c.parseBatching(q); err != nil {
		return SinkConfig{}, err
	}
	c.Name = strings.ToLower(u.Scheme) + "://" + u.Host + u.Path
	return c, nil
}

func hostPort(u *url.URL, defaultPort string) (string, error) {
	if u.Hostname() == "" {
		return "", errors.New("host: missing")
	}
	if u.Path != "" && u.Path != "/" {
		return "", fmt.Errorf("path: a network syslog sink takes no path, got %q", u.Path)
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}
