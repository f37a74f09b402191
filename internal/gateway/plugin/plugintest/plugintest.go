// Package plugintest gives plugin tests a fake engine backing for
// plugin.Exchange, so plugins are tested without an HTTP server.
package plugintest

import (
	"crypto/x509"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Backing is an in-memory plugin.Backing. Fields are the request; the
// recorded fields show what the plugin did.
type Backing struct {
	ReqMethod, ReqPath, ReqHost string
	ReqHeader                   http.Header
	ReqQuery                    map[string]string
	ReqRawQuery                 string
	// Backend is what BackendPath answers; "" means ReqPath.
	Backend string
	Client  netip.Addr
	Length  int64
	Peer    []*x509.Certificate // PeerCertificates
	// At is what Arrived answers: a test's clock; zero means now.
	At time.Time

	BodyLimit      int64 // set by LimitBody; 0 when not called
	UpstreamHeader http.Header
	Status         int
	RespHeader     http.Header
	ErrorStatus    int
	ErrorBody      []byte
	Errors         int // how many times WriteError was called
	// Responses counts WriteResponse calls; RespBody is the last body.
	Responses int
	RespBody  []byte
}

// New returns a GET / request from addr.
func New(addr string) *Backing {
	return &Backing{
		ReqMethod: "GET", ReqPath: "/", ReqHost: "example.com",
		ReqHeader: http.Header{}, ReqQuery: map[string]string{},
		Client: netip.MustParseAddr(addr), Length: -1,
		UpstreamHeader: http.Header{}, RespHeader: http.Header{}, Status: 200,
	}
}

// Exchange returns a fresh Exchange backed by b.
func (b *Backing) Exchange() *plugin.Exchange {
	ex := &plugin.Exchange{}
	ex.Reset(b, "req-1", &plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{Group: "default", ServiceName: "svc"}, RouteName: "r"}, nil)
	return ex
}

func (b *Backing) Method() string                    { return b.ReqMethod }
func (b *Backing) Path() string                      { return b.ReqPath }
func (b *Backing) Host() string                      { return b.ReqHost }
func (b *Backing) Header(name string) string         { return b.ReqHeader.Get(name) }
func (b *Backing) HeaderValues(name string) []string { return b.ReqHeader.Values(name) }
func (b *Backing) Query(name string) string          { return b.ReqQuery[name] }
func (b *Backing) RawQuery() string                  { return b.ReqRawQuery }
func (b *Backing) ClientAddr() netip.Addr            { return b.Client }
func (b *Backing) Arrived() time.Time {
	if b.At.IsZero() {
		return time.Now()
	}
	return b.At
}
func (b *Backing) PeerCertificates() []*x509.Certificate { return b.Peer }
func (b *Backing) ContentLength() int64                  { return b.Length }
func (b *Backing) LimitBody(max int64)                   { b.BodyLimit = max }
func (b *Backing) SetUpstreamHeader(name, value string)  { b.UpstreamHeader.Set(name, value) }
func (b *Backing) DelUpstreamHeader(name string)         { b.UpstreamHeader.Del(name) }
func (b *Backing) ResponseStatus() int                   { return b.Status }
func (b *Backing) ResponseHeader(name string) string     { return b.RespHeader.Get(name) }
func (b *Backing) SetResponseHeader(name, value string)  { b.RespHeader.Set(name, value) }
func (b *Backing) DelResponseHeader(name string)         { b.RespHeader.Del(name) }
func (b *Backing) SetResponseHeaderInt(name string, v int64) {
	b.RespHeader.Set(name, strconv.FormatInt(v, 10))
}

// WriteError records the gateway error.
func (b *Backing) WriteError(status int, body []byte) {
	b.Errors++
	b.ErrorStatus = status
	b.ErrorBody = append([]byte(nil), body...)
}

// BackendPath is Backend, or ReqPath when Backend is empty.
func (b *Backing) BackendPath() string {
	if b.Backend != "" {
		return b.Backend
	}
	return b.ReqPath
}

// WriteResponse records a plugin's own answer.
func (b *Backing) WriteResponse(status int, body []byte) {
	b.Responses++
	b.Status = status
	b.RespBody = append([]byte(nil), body...)
}
