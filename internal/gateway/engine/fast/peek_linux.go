//go:build linux || darwin

package fast

import (
	"errors"
	"net"
	"syscall"
)

// clientAlive peeks at the client's socket without consuming anything: a
// read of 0 bytes is the client's FIN, a reset is an error. Bytes waiting
// (a pipelined request) or nothing yet both mean alive.
func clientAlive(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true // TLS or a wrapped conn: no cheap check, assume alive
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	alive := true
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil && n == 0:
			alive = false
		case err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR):
			alive = false
		}
		return true // never wait for readiness
	})
	return alive
}

// idleUsable peeks at a pooled upstream connection before a request is
// sent on it: nothing waiting means usable; the backend's FIN, a reset or
// bytes it sent unasked (a TLS close_notify, a stray answer) mean the
// connection must be closed instead.
func idleUsable(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	usable := true
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		usable = errors.Is(err, syscall.EAGAIN)
		return true // never wait for readiness
	})
	return usable
}
