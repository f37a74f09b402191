// Command origin is the benchmark's origin server: a minimal keep-alive
// HTTP/1.1 responder answering every request with the same 94-byte JSON
// body, so that the proxy in front of it, not the origin, dominates the
// cost of a request (measured here: ~15–19 µs per request against ~31–37
// for a net/http origin, which -mode nethttp serves for comparison).
//
//	origin -addr 127.0.0.1:8081 [-mode raw|nethttp]
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// Body is what every request gets: 94 bytes of JSON.
const Body = `{"service":"bench-origin","status":"ok","items":[1,2,3,4,5],"message":"hello from the origin"}`

const maxLine = 8 << 10 // longest request or header line accepted

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	mode := flag.String("mode", "raw", "raw: hand-written HTTP/1.1 responder; nethttp: net/http server")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("origin: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); ln.Close() }()
	fmt.Printf("origin (%s) listening on %s\n", *mode, ln.Addr())

	switch *mode {
	case "raw":
		err = serveRaw(ln)
	case "nethttp":
		err = (&http.Server{Handler: http.HandlerFunc(nethttpHandler), ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	default:
		log.Fatalf("origin: unknown -mode %q (raw or nethttp)", *mode)
	}
	if ctx.Err() == nil && err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("origin: %v", err)
	}
}

func nethttpHandler(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(Body))}
	_, _ = io.WriteString(w, Body)
}

// date holds the current Date header line, refreshed every second.
var date atomic.Pointer[[]byte]

func refreshDate() {
	b := []byte("Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n")
	date.Store(&b)
}

func serveRaw(ln net.Listener) error {
	refreshDate()
	go func() {
		for range time.Tick(time.Second) {
			refreshDate()
		}
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return err
		}
		go serveConn(c)
	}
}

var (
	errLineTooLong = errors.New("line too long")
	errBadRequest  = errors.New("malformed request")
)

// request is what serveConn needs to know of a request head.
type request struct {
	head      bool  // HEAD: answer without a body
	keepAlive bool  // the connection stays open after the answer
	bodyLen   int64 // Content-Length; -1 with chunked
	chunked   bool
}

func serveConn(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4<<10)
	bw := bufio.NewWriterSize(c, 4<<10)
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		req, err := readHead(br)
		if err != nil {
			if errors.Is(err, errBadRequest) || errors.Is(err, errLineTooLong) {
				_, _ = bw.WriteString("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				_ = bw.Flush()
			}
			return
		}
		if err := discardBody(br, req); err != nil {
			return
		}
		writeAnswer(bw, req)
		// Flush only when no further pipelined request is already buffered.
		if !req.keepAlive || br.Buffered() == 0 {
			if bw.Flush() != nil || !req.keepAlive {
				return
			}
		}
	}
}

func writeAnswer(bw *bufio.Writer, req request) {
	_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nServer: bench-origin\r\nContent-Type: application/json\r\nContent-Length: 94\r\n")
	_, _ = bw.Write(*date.Load())
	if !req.keepAlive {
		_, _ = bw.WriteString("Connection: close\r\n")
	}
	_, _ = bw.WriteString("\r\n")
	if !req.head {
		_, _ = bw.WriteString(Body)
	}
}

// readLine returns one line without its CRLF; the slice is valid until the
// next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errLineTooLong
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

func readHead(br *bufio.Reader) (request, error) {
	var req request
	line, err := readLine(br)
	for err == nil && len(line) == 0 { // tolerate blank lines between requests
		line, err = readLine(br)
	}
	if err != nil {
		return req, err
	}
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1 {
		return req, errBadRequest
	}
	req.head = string(line[:sp1]) == "HEAD"
	proto := line[sp2+1:]
	switch string(proto) {
	case "HTTP/1.1":
		req.keepAlive = true
	case "HTTP/1.0":
	default:
		return req, errBadRequest
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return req, err
		}
		if len(line) == 0 {
			return req, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return req, errBadRequest
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return req, errBadRequest
			}
			req.bodyLen = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			req.chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			v := bytes.ToLower(value)
			if bytes.Contains(v, []byte("close")) {
				req.keepAlive = false
			} else if bytes.Contains(v, []byte("keep-alive")) {
				req.keepAlive = true
			}
		}
	}
}

func discardBody(br *bufio.Reader, req request) error {
	if !req.chunked {
		_, err := br.Discard(int(req.bodyLen))
		return err
	}
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return errBadRequest
		}
		if size == 0 {
			for { // trailers until the empty line
				line, err := readLine(br)
				if err != nil {
					return err
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(size) + 2); err != nil {
			return err
		}
	}
}
