//go:build !windows && !plan9

package accesslog

import (
	"context"
	"errors"
	"fmt"
	"log/syslog"
)

const syslogSupported = true

// syslogSink writes each line as one syslog message at info severity.
// It connects on its first batch (and log/syslog reconnects after a
// failed write), so a collector that is down at start delays nothing.
type syslogSink struct {
	opts     SyslogOptions
	priority syslog.Priority
	w        *syslog.Writer
}

func openSyslogSink(o SyslogOptions) (Sink, error) {
	code, ok := syslogFacilities[o.Facility]
	if !ok {
		return nil, fmt.Errorf("syslog: unknown facility %q", o.Facility)
	}
	if o.Address == "" {
		return nil, errors.New("syslog: no address")
	}
	return &syslogSink{opts: o, priority: syslog.Priority(code<<3) | syslog.LOG_INFO}, nil
}

func (s *syslogSink) dial() (*syslog.Writer, error) {
	if s.opts.Network != "unix" {
		return syslog.Dial(s.opts.Network, s.opts.Address, s.priority, s.opts.Tag)
	}
	// /dev/log is a datagram socket on most systems, a stream socket on
	// some.
	w, err := syslog.Dial("unixgram", s.opts.Address, s.priority, s.opts.Tag)
	if err != nil {
		w, err = syslog.Dial("unix", s.opts.Address, s.priority, s.opts.Tag)
	}
	return w, err
}

func (s *syslogSink) WriteBatch(_ context.Context, b *Batch) error {
	if s.w == nil {
		w, err := s.dial()
		if err != nil {
			return fmt.Errorf("syslog %s %s: %w", s.opts.Network, s.opts.Address, err)
		}
		s.w = w
	}
	for i := range b.Len() {
		if err := s.w.Info(string(b.Line(i))); err != nil {
			return fmt.Errorf("syslog %s %s: %w (%d of %d lines written)", s.opts.Network, s.opts.Address, err, i, b.Len())
		}
	}
	return nil
}

func (s *syslogSink) Close() error {
	if s.w == nil {
		return nil
	}
	return s.w.Close()
}
