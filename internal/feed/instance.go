package feed

import (
	"os"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/internal/credential"
)

var (
	notIDChar  = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	instanceID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// ValidInstanceID says whether id can name a gateway instance: 1 to 64
// letters, digits, '.', '_' or '-', starting with a letter or digit.
func ValidInstanceID(id string) bool { return instanceID.MatchString(id) }

// NewInstanceID names a gateway process for its heartbeats: its host name
// (cut to fit) and eight random characters, so two processes on one host
// are told apart and a restart shows as a new instance.
func NewInstanceID() string {
	host, _ := os.Hostname()
	host = strings.Trim(notIDChar.ReplaceAllString(host, "-"), "-._")
	if len(host) > 50 {
		host = host[:50]
	}
	suffix := strings.ToLower(credential.Generate()[:8])
	if host == "" {
		return "gw-" + suffix
	}
	return host + "-" + suffix
}

// Hostname is the host name a heartbeat reports ("" when unknown).
func Hostname() string {
	h, _ := os.Hostname()
	return h
}
