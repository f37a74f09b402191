//go:build !unix

package enginetest

import (
	"net"
	"testing"
)

// ClosedAddr is a 127.0.0.1 port nothing listens on. Without a way to
// hold a port unlistened, the port is free again when this returns, so a
// listener opened later in the test may be given it.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
