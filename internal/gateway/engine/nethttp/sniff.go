package nethttp

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
)

// net/http's parser reads a request before any handler runs and accepts
// what the gateway's request policy refuses (a folded header line, two
// equal Content-Lengths, Content-Length beside chunked), and it drops the
// evidence on the way: the handler sees one Content-Length and no fold.
// headSniffer reads the same bytes as they come off the client connection,
// finds every request head by following the body framing, and checks each
// head with the policy both engines share (reqpolicy.HeadScan). The
// handler of the n-th request then refuses it when the n-th head was bad
// (clientConn.refusal).
//
// Heads usually arrive in one read and are checked in place; a head split
// across reads is gathered in a pooled buffer until it is whole.

// sniffState is where the sniffer is in the request stream.
type sniffState uint8

const (
	sniffHead      sniffState = iota // reading a request head
	sniffBody                        // skipping remain bytes of a Content-Length body
	sniffChunkSize                   // reading a chunk-size line
	sniffChunkExt                    // skipping a chunk extension to the end of the line
	sniffChunkData                   // skipping remain bytes of chunk data
	sniffChunkCRLF                   // the CRLF after chunk data
	sniffTrailers                    // trailer lines after the last chunk
	sniffStopped                     // a refused head, an upgrade, or bytes that are not HTTP
)

type headSniffer struct {
	state   sniffState
	remain  int64 // body or chunk bytes left to skip
	digits  int   // hex digits of the chunk size so far
	lineLen int   // bytes on the current trailer line (CR excluded)
	heads   int   // heads seen
	maxHead int   // longest head gathered; net/http refuses longer ones
	pending *[]byte
	scan    reqpolicy.HeadScan

	// badAt is the 1-based index of the first refused head, 0 while none;
	// reason (written before badAt) says why. The handler reads them while
	// net/http's background read may be feeding the next head.
	badAt  atomic.Int32
	reason string
}

var headBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// feed takes the bytes just read from the client.
func (s *headSniffer) feed(b []byte) {
	for len(b) > 0 && s.state != sniffStopped {
		switch s.state {
		case sniffHead:
			b = s.feedHead(b)
		case sniffBody, sniffChunkData:
			n := min(int64(len(b)), s.remain)
			s.remain -= n
			b = b[n:]
			if s.remain == 0 {
				if s.state == sniffBody {
					s.state = sniffHead
				} else {
					s.state, s.lineLen = sniffChunkCRLF, 0
				}
			}
		case sniffChunkSize, sniffChunkExt:
			b = s.feedChunkSize(b)
		case sniffChunkCRLF:
			c := b[0]
			b = b[1:]
			switch {
			case c == '\r' && s.lineLen == 0:
				s.lineLen = 1
			case c == '\n':
				s.state, s.remain, s.digits = sniffChunkSize, 0, 0
			default:
				s.stop() // net/http refuses the body; the connection ends
			}
		case sniffTrailers:
			c := b[0]
			b = b[1:]
			switch c {
			case '\n':
				if s.lineLen == 0 {
					s.state = sniffHead
				}
				s.lineLen = 0
			case '\r':
			default:
				s.lineLen++
			}
		}
	}
}

// feedChunkSize reads a chunk-size line: hex digits, an optional
// extension, then LF (CR before it optional, as net/http reads it).
func (s *headSniffer) feedChunkSize(b []byte) []byte {
	for len(b) > 0 {
		c := b[0]
		b = b[1:]
		if c == '\n' {
			switch {
			case s.digits == 0:
				s.stop()
			case s.remain == 0:
				s.state, s.lineLen = sniffTrailers, 0
			default:
				s.state = sniffChunkData
			}
			return b
		}
		if s.state == sniffChunkExt || c == '\r' {
			continue
		}
		if c == ';' || c == ' ' || c == '\t' {
			s.state = sniffChunkExt
			continue
		}
		d := reqpolicy.Unhex(c)
		if d < 0 || s.digits == 15 {
			s.stop()
			return nil
		}
		s.remain = s.remain<<4 | int64(d)
		s.digits++
	}
	return b
}

// feedHead gathers a head until its blank line, checks it and sets up the
// framing of its body. It returns the bytes after the head.
func (s *headSniffer) feedHead(b []byte) []byte {
	if s.pending == nil {
		if end := headEnd(b, 0); end >= 0 {
			s.checkHead(b[:end])
			return b[end:]
		}
		s.pending = headBuffers.Get().(*[]byte)
		*s.pending = append((*s.pending)[:0], b...)
		s.checkSize()
		return nil
	}
	from := max(len(*s.pending)-3, 0)
	*s.pending = append(*s.pending, b...)
	end := headEnd(*s.pending, from)
	if end < 0 {
		s.checkSize()
		return nil
	}
	rest := b[len(b)-(len(*s.pending)-end):]
	s.checkHead((*s.pending)[:end]) // may stop, which releases pending
	s.release()
	return rest
}

// checkSize stops the sniffer once a gathered head is longer than net/http
// reads: it refuses the request itself (431).
func (s *headSniffer) checkSize() {
	if len(*s.pending) > s.maxHead {
		s.stop()
	}
}

func (s *headSniffer) release() {
	if s.pending != nil {
		if cap(*s.pending) <= 64<<10 {
			headBuffers.Put(s.pending)
		}
		s.pending = nil
	}
}

// stop ends sniffing for the connection.
func (s *headSniffer) stop() {
	s.state = sniffStopped
	s.release()
}

// headEnd returns the offset just past the blank line ending the head in
// b (LF or CRLF line ends), searching from from, or -1.
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
	return -1
}

// checkHead checks one whole head (request line, header lines, blank
// line) and sets the state for its body.
func (s *headSniffer) checkHead(head []byte) {
	s.heads++
	line, rest, _ := bytes.Cut(head, []byte{'\n'})
	version := requestVersion(line)
	reason := reqpolicy.VersionReason(version)
	s.scan.Reset()
	for reason == "" && len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			break
		}
		if _, _, ok := s.scan.Line(line); !ok {
			break
		}
	}
	if reason == "" {
		reason = s.scan.Done()
	}
	if reason == "" && s.scan.Chunked && string(version) == "HTTP/1.0" {
		reason = reqpolicy.ReasonChunkedHTTP10
	}
	switch {
	case reason != "":
		s.reason = reason
		s.badAt.Store(int32(s.heads))
		s.stop()
	case s.scan.Chunked:
		s.state, s.remain, s.digits = sniffChunkSize, 0, 0
	case s.scan.ContentLength > 0:
		s.state, s.remain = sniffBody, s.scan.ContentLength
	}
}

// requestVersion is the last word of a request line.
func requestVersion(line []byte) []byte {
	line = bytes.TrimRight(line, "\r\n")
	if i := bytes.LastIndexByte(line, ' '); i >= 0 {
		return line[i+1:]
	}
	return nil
}
