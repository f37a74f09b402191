// Command relayfloor is the benchmark's measure of what Go itself costs a
// proxy: three relays that do no HTTP work at all, each driving the
// sockets one way, and one that adds the HTTP parsing every proxy does. A
// proxy built on a network layer cannot cost less per request than the
// relay of the same layer, so the "relay floor" rows of
// docs/benchmark.md say how close to nginx each way of driving sockets
// can get before any proxy code runs.
//
//	relayfloor -mode goroutines|lockstep|eventloop|eventloop-http -addr 127.0.0.1:8084 -upstream 127.0.0.1:8081
//
// Modes:
//   - goroutines: Go's net package, two goroutines per client copying each
//     way (how a TCP relay is written in Go; Portico's stream proxy).
//   - lockstep: Go's net package, one goroutine per client that reads a
//     request, writes it upstream, reads the answer to the end of its
//     Content-Length and writes it back (how fasthttp and Portico's fast
//     engine drive a keep-alive connection).
//   - eventloop: lesismal/nbio, one epoll loop on one goroutine for every
//     connection, each read handed to a callback that writes it to the
//     other side (how an event-loop engine would drive the sockets).
//   - eventloop-http: eventloop, with each request's and answer's head
//     parsed and written again by fasthttp, as the fast engine does: the
//     floor of an event-loop engine built on that parser
//     (eventloop_http.go).
//
// Each client connection gets its own upstream connection, dialled when
// the client connects (eventloop: at its first request); the upstream
// must answer HTTP/1.1 with a Content-Length (lockstep relies on it).
package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"strconv"

	"github.com/lesismal/nbio"
)

func main() {
	mode := flag.String("mode", "goroutines", "goroutines, lockstep, eventloop or eventloop-http")
	addr := flag.String("addr", "127.0.0.1:8084", "listen address")
	upstream := flag.String("upstream", "127.0.0.1:8081", "origin host:port")
	flag.Parse()
	relays := map[string]func(client, up net.Conn){"goroutines": copyBothWays, "lockstep": lockstep}
	if relay, ok := relays[*mode]; ok {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			log.Fatalf("relayfloor: %v", err)
		}
		log.Fatalf("relayfloor: accept: %v", serveGoroutines(ln, *upstream, relay))
	}
	switch *mode {
	case "eventloop":
		serveEventLoop(*addr, *upstream)
	case "eventloop-http":
		if _, err := startEventLoopHTTP(*addr, *upstream); err != nil {
			log.Fatalf("relayfloor: %v", err)
		}
		select {}
	default:
		log.Fatalf("relayfloor: -mode %q: want goroutines, lockstep, eventloop or eventloop-http", *mode)
	}
}

// serveGoroutines accepts with Go's net package and gives each client
// connection, with its own upstream connection, to relay, until Accept
// fails.
func serveGoroutines(ln net.Listener, upstream string, relay func(client, up net.Conn)) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				log.Printf("relayfloor: dial: %v", err)
				return
			}
			defer up.Close()
			relay(c, up)
		}()
	}
}

func copyBothWays(client, up net.Conn) {
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 16<<10)
		_, _ = io.CopyBuffer(up, client, buf)
		_ = up.Close()
		close(done)
	}()
	buf := make([]byte, 16<<10)
	_, _ = io.CopyBuffer(client, up, buf)
	_ = client.Close()
	<-done
}

var errNoLength = errors.New("answer without Content-Length")

// lockstep relays one request, then its answer, on the client's goroutine.
// A request is whatever one read brings (wrk's GETs arrive whole).
func lockstep(client, up net.Conn) {
	req := make([]byte, 16<<10)
	resp := make([]byte, 16<<10)
	for {
		n, err := client.Read(req)
		if err != nil {
			return
		}
		if _, err := up.Write(req[:n]); err != nil {
			return
		}
		m, err := readAnswer(up, resp)
		if err != nil {
			log.Printf("relayfloor: upstream: %v", err)
			return
		}
		if _, err := client.Write(resp[:m]); err != nil {
			return
		}
	}
}

var (
	headEnd   = []byte("\r\n\r\n")
	lengthKey = []byte("\r\nContent-Length: ")
)

// readAnswer reads one answer into buf: its head, then as many bytes as
// its Content-Length says.
func readAnswer(up net.Conn, buf []byte) (int, error) {
	n := 0
	for {
		m, err := up.Read(buf[n:])
		if err != nil {
			return 0, err
		}
		n += m
		end := bytes.Index(buf[:n], headEnd)
		if end < 0 {
			if n == len(buf) {
				return 0, errors.New("answer head over 16 KiB")
			}
			continue
		}
		i := bytes.Index(buf[:end], lengthKey)
		if i < 0 {
			return 0, errNoLength
		}
		v := buf[i+len(lengthKey):]
		v = v[:bytes.IndexByte(v, '\r')]
		length, err := strconv.Atoi(string(v))
		if err != nil || end+4+length > len(buf) {
			return 0, errNoLength
		}
		for n < end+4+length {
			m, err := up.Read(buf[n:])
			if err != nil {
				return 0, err
			}
			n += m
		}
		return n, nil
	}
}

// serveEventLoop relays on one nbio poller: every read is written to the
// other side from the callback, and nbio keeps what the socket did not
// take.
func serveEventLoop(addr, upstream string) {
	engine := nbio.NewEngine(nbio.Config{Network: "tcp", Addrs: []string{addr}, NPoller: 1})
	engine.OnData(func(c *nbio.Conn, data []byte) {
		peer, _ := c.Session().(*nbio.Conn)
		if peer == nil {
			// A client's first request: its upstream connection joins
			// the same poller before anything is sent on it.
			nc, err := net.Dial("tcp", upstream)
			if err != nil {
				log.Printf("relayfloor: dial: %v", err)
				_ = c.Close()
				return
			}
			if peer, err = engine.AddConn(nc); err != nil {
				log.Printf("relayfloor: %v", err)
				_ = c.Close()
				return
			}
			peer.SetSession(c)
			c.SetSession(peer)
		}
		if _, err := peer.Write(data); err != nil {
			_ = c.Close()
		}
	})
	engine.OnClose(func(c *nbio.Conn, _ error) {
		if peer, _ := c.Session().(*nbio.Conn); peer != nil {
			_ = peer.Close()
		}
	})
	if err := engine.Start(); err != nil {
		log.Fatalf("relayfloor: %v", err)
	}
	select {}
}
