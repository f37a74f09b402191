//go:build linux || darwin || freebsd || netbsd || openbsd

package nethttp

import "syscall"

// peekOpen reports whether the socket fd is open with nothing to read:
// a non-blocking peek that finds no data (EAGAIN). EOF, data the backend
// sent unasked, or an error all mean the connection cannot be reused.
func peekOpen(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK
}
