//go:build linux || darwin

package fast

import (
	"errors"
	"net"
	"syscall"
)

// peek looks at a socket without consuming anything and without waiting:
// n is 1 when a byte is waiting, 0 with a nil err at the peer's FIN, and
// err is syscall.EAGAIN when nothing is there yet. checked is false when
// the connection offers no socket to peek at (TLS, a wrapper).
func peek(c net.Conn) (n int, checked bool, err error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false, nil
	}
	rc, e := sc.SyscallConn()
	if e != nil {
		return 0, false, nil
	}
	// Control, not Read: Read fails at once, without looking, once the
	// connection's read deadline has passed (a parked connection's, a
	// request's waiting on a slow upstream), and that would read as the
	// peer's FIN.
	var buf [1]byte
	if cerr := rc.Control(func(fd uintptr) {
		n, _, err = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	}); cerr != nil {
		return 0, true, cerr
	}
	return n, true, err
}

// clientAlive reports whether a client is still there: a read of 0 bytes
// is its FIN, a reset is an error. Bytes waiting (a pipelined request) or
// nothing yet both mean alive; without a socket to peek at, assume alive.
func clientAlive(c net.Conn) bool {
	n, checked, err := peek(c)
	switch {
	case !checked:
		return true
	case err == nil:
		return n > 0
	default:
		return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR)
	}
}

// idleUsable peeks at a pooled upstream connection before a request is
// sent on it: nothing waiting means usable; the backend's FIN, a reset or
// bytes it sent unasked (a TLS close_notify, a stray answer) mean the
// connection must be closed instead.
func idleUsable(c net.Conn) bool {
	_, checked, err := peek(c)
	return !checked || errors.Is(err, syscall.EAGAIN)
}

// canPark: idle connections can be parked here (park.go).
const canPark = true

// waitReadable blocks until c has a byte, its peer's FIN or an error
// waiting, or c's read deadline passes, without consuming anything.
func waitReadable(c *net.TCPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var buf [1]byte
	return rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return !errors.Is(err, syscall.EAGAIN) // anything else is for fasthttp to read
	})
}
