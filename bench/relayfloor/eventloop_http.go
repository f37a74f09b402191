package main

import (
	"bufio"
	"bytes"
	"log"
	"net"

	"github.com/lesismal/nbio"
	"github.com/valyala/fasthttp"
)

// The eventloop-http mode: the eventloop relay plus the HTTP/1.1 work
// every proxy does on a request, with the parser the fast engine uses.
// Each request head is parsed with fasthttp's RequestHeader, given a Via
// header and written upstream from the parsed header; each
// answer's head is parsed with fasthttp's ResponseHeader and written back
// from it, its body after. What this costs over the eventloop row is what
// an event-loop engine would pay for fasthttp's parsing before any
// routing or plugin: the floor of such an engine.
//
// A head is parsed once it is whole (a callback gets what one read
// returned, so the bytes are gathered until the blank line); a body is
// passed on once its Content-Length has arrived. Chunked bodies, pipelined
// requests and anything else the benchmark does not send are refused by
// closing the connection.

var via = []byte("1.1 relayfloor")

// httpSession is one client connection and its upstream connection.
type httpSession struct {
	client, up *nbio.Conn

	in, upIn []byte // bytes gathered from the client and from upstream
	out      []byte // what is written next, reused

	req  fasthttp.RequestHeader
	resp fasthttp.ResponseHeader
	src  bytes.Reader
	br   *bufio.Reader
}

// startEventLoopHTTP serves addr in the eventloop-http mode until the
// engine is stopped.
func startEventLoopHTTP(addr, upstream string) (*nbio.Engine, error) {
	engine := nbio.NewEngine(nbio.Config{Network: "tcp", Addrs: []string{addr}, NPoller: 1})
	engine.OnData(func(c *nbio.Conn, data []byte) {
		s, _ := c.Session().(*httpSession)
		if s == nil {
			var err error
			if s, err = newHTTPSession(engine, c, upstream); err != nil {
				log.Printf("relayfloor: %v", err)
				_ = c.Close()
				return
			}
		}
		var ok bool
		if c == s.client {
			s.in = append(s.in, data...)
			ok = s.forwardRequest()
		} else {
			s.upIn = append(s.upIn, data...)
			ok = s.forwardAnswer()
		}
		if !ok {
			_ = s.client.Close()
		}
	})
	engine.OnClose(func(c *nbio.Conn, _ error) {
		if s, _ := c.Session().(*httpSession); s != nil {
			_ = s.client.Close()
			_ = s.up.Close()
		}
	})
	if err := engine.Start(); err != nil {
		return nil, err
	}
	return engine, nil
}

// newHTTPSession dials the client's upstream connection into the same
// poller, before anything is sent on it.
func newHTTPSession(engine *nbio.Engine, client *nbio.Conn, upstream string) (*httpSession, error) {
	nc, err := net.Dial("tcp", upstream)
	if err != nil {
		return nil, err
	}
	up, err := engine.AddConn(nc)
	if err != nil {
		return nil, err
	}
	s := &httpSession{client: client, up: up, br: bufio.NewReaderSize(nil, 4096)}
	client.SetSession(s)
	up.SetSession(s)
	return s, nil
}

// head is what both messages' heads are: fasthttp's RequestHeader and
// ResponseHeader.
type head interface {
	Read(*bufio.Reader) error
	ContentLength() int
	AppendBytes(dst []byte) []byte
}

// forwardRequest sends the gathered request upstream once its head and
// body are whole; false: the connection is to be closed.
func (s *httpSession) forwardRequest() bool { return s.forward(&s.in, &s.req, true, s.up) }

// forwardAnswer sends the gathered answer to the client once its head
// and its Content-Length of body are whole.
func (s *httpSession) forwardAnswer() bool { return s.forward(&s.upIn, &s.resp, false, s.client) }

// forward writes the message gathered in *in to dst once its head and
// its Content-Length of body are whole, the head written again from h,
// parsed; a request's gets a Via. False: the connection is to be closed
// (a head past 8 KiB or unreadable, a chunked or unbounded body, a
// pipelined message).
func (s *httpSession) forward(in *[]byte, h head, request bool, dst *nbio.Conn) bool {
	buf := *in
	end := bytes.Index(buf, headEnd)
	if end < 0 {
		return len(buf) <= 8<<10
	}
	n := end + len(headEnd)
	s.src.Reset(buf[:n])
	s.br.Reset(&s.src)
	if err := h.Read(s.br); err != nil {
		return false
	}
	cl := h.ContentLength()
	if request && cl == -2 { // neither a length nor chunked: no body
		cl = 0
	}
	if cl < 0 || len(buf) > n+cl {
		return false
	}
	if len(buf) < n+cl {
		return true
	}
	if request {
		// A header edit, as every proxy makes one (X-Forwarded-For,
		// Via); not the client's address, which nbio's accept goroutine
		// writes without an order the race detector sees.
		s.req.SetBytesV("Via", via)
	}
	s.out = append(h.AppendBytes(s.out[:0]), buf[n:]...)
	*in = buf[:0]
	_, err := dst.Write(s.out)
	return err == nil
}
