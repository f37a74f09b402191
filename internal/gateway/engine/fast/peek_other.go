//go:build !linux && !darwin

package fast

import (
	"errors"
	"net"
)

// clientAlive cannot peek on this platform; a departed client is noticed
// when its answer is written.
func clientAlive(net.Conn) bool { return true }

// idleUsable cannot peek on this platform; a closed pooled connection is
// noticed when the request is written.
func idleUsable(net.Conn) bool { return true }

// canPark: this platform cannot wait for readability without reading, so
// idle connections keep their goroutine.
const canPark = false

func waitReadable(*net.TCPConn) error { return errors.ErrUnsupported }
