//go:build !linux

package fast

import (
	"errors"
	"time"
)

// parkedSet: without epoll a parked connection waits on a goroutine of
// its own (Server.waitParked).
type parkedSet struct{ s *Server }

type parkedLinks struct{}

func (*parkedSet) add(*parkingConn, time.Duration) error { return errors.ErrUnsupported }
func (*parkedSet) remove(*parkingConn)                   {}
