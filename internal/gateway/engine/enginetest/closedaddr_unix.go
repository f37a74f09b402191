//go:build unix

package enginetest

import (
	"strconv"
	"syscall"
	"testing"
)

// ClosedAddr is a 127.0.0.1 port that refuses connections for the rest of
// the test. A port merely closed again could be handed to the next
// listener the test opens, which would then answer as the dead node; a
// socket bound and never listening keeps the port to itself, and the
// kernel answers a connection to it with a reset.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("closed address: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("closed address: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("closed address: %v", err)
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		t.Fatalf("closed address: bound to %T", sa)
	}
	return "127.0.0.1:" + strconv.Itoa(in4.Port)
}
