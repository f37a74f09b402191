package gateway

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// A stream route that terminates TLS on a certificate naming a client CA
// admits only clients with a certificate that CA signed; a certificate
// without one asks for none.
func TestStreamTerminateRequiresClientCertificate(t *testing.T) {
	ca, clients, strangers := certtest.NewCA(t), certtest.NewCA(t), certtest.NewCA(t)
	mutual := ca.Issue(t, "db.example.com").GroupCertificate(t, "db", false)
	mutual.ClientCA = clients.PEM
	open := ca.Issue(t, "cache.example.com").GroupCertificate(t, "cache", false)
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{Group: spec.GatewayGroup{Name: "g"},
		Certificates: []spec.Certificate{mutual, open}}}}
	tbl, err := routing.Build(snap, routing.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	var table atomic.Pointer[routing.Table]
	table.Store(tbl)
	cfg := streamTLSConfig(&table)

	handshake := func(sni string, cert *certtest.Pair) (asked bool, err error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		done := make(chan error, 1)
		go func() {
			a, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			defer a.Close()
			srv := tls.Server(a, cfg)
			err = srv.Handshake()
			if err == nil {
				// TLS 1.3 checks the client's certificate before the
				// server's first read completes.
				_, err = srv.Read(make([]byte, 1))
				if errors.Is(err, io.EOF) {
					err = nil
				}
			}
			done <- err
		}()
		b, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		cc := &tls.Config{RootCAs: ca.Pool(), ServerName: sni,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				asked = true
				if cert == nil {
					return &tls.Certificate{}, nil
				}
				c := cert.TLS(t)
				return &c, nil
			}}
		cli := tls.Client(b, cc)
		cerr := cli.Handshake()
		if cerr == nil {
			cli.Close() // the server's read ends
		}
		serr := <-done
		if cerr == nil && serr == nil {
			// TLS 1.3: the server's refusal of a client certificate comes
			// after the client's handshake; serr carries it.
			return asked, nil
		}
		if serr != nil {
			return asked, serr
		}
		return asked, cerr
	}
	known, foreign := clients.Issue(t, "client.example.com"), strangers.Issue(t, "client.example.com")
	if _, err := handshake("db.example.com", &known); err != nil {
		t.Errorf("a client certificate of the client CA: %v", err)
	}
	if _, err := handshake("db.example.com", nil); err == nil {
		t.Error("no client certificate was admitted")
	}
	if _, err := handshake("db.example.com", &foreign); err == nil {
		t.Error("a client certificate of another CA was admitted")
	}
	if asked, err := handshake("cache.example.com", nil); err != nil || asked {
		t.Errorf("a certificate without a client CA: asked %v, err %v", asked, err)
	}
}
