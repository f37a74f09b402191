//go:build windows || plan9

package accesslog

import "errors"

// log/syslog does not exist here; ParseSink refuses syslog sinks.
const syslogSupported = false

func openSyslogSink(SyslogOptions) (Sink, error) {
	return nil, errors.New("syslog sinks are not supported on this operating system")
}
