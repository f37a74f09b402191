package fast

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// upgrade proxies a request asking to switch protocols (WebSocket): on a
// dedicated upstream connection, since it will never return to a pool.
// When the backend answers 101 both connections are handed over to a pair
// of copies; any other answer is passed on and the connection closed.
func (st *state) upgrade(node *upstream.Node) {
	pool := st.pool
	setHost(&st.ctx.Request.Header, node, pool)
	if h := st.ex.UpstreamHost(); h != "" {
		st.ctx.Request.Header.SetHost(h)
	}
	dialer := net.Dialer{Timeout: pool.Timeouts.Connect}
	raw, err := dialer.Dial("tcp", node.Addr)
	if err != nil {
		pool.Observe(node, upstream.ConnectFailed)
		st.failed(&dialError{err})
		return
	}
	if pool.URLScheme() == "https" {
		tc := tls.Client(raw, pool.ClientTLS(node))
		_ = tc.SetDeadline(time.Now().Add(pool.Timeouts.Connect))
		if err := tc.Handshake(); err != nil {
			_ = raw.Close()
			pool.Observe(node, upstream.ConnectFailed)
			st.failed(&dialError{err})
			return
		}
		_ = tc.SetDeadline(noDeadline)
		raw = tc
	}
	conn := net.Conn(&upConn{Conn: raw, send: pool.Timeouts.Send, read: pool.Timeouts.Read})
	bw := bufio.NewWriter(conn)
	err = st.ctx.Request.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	br := bufio.NewReader(conn)
	resp := &st.ctx.Response
	if err == nil {
		err = resp.Header.Read(br)
	}
	if err != nil {
		_ = conn.Close()
		resp.Header.Reset()
		pool.Observe(node, outcomeOf(err))
		st.failed(err)
		return
	}
	pool.Observe(node, resp.Header.StatusCode())
	st.up.answered = true
	resp.Header.SetBytesV("X-Request-Id", st.idBuf)
	st.applyPreAnswer()
	if resp.Header.StatusCode() != http.StatusSwitchingProtocols {
		defer conn.Close()
		resp.Header.ResetConnectionClose()
		st.stripResponseHops()
		if st.ctx.IsHead() {
			resp.SkipBody = true
			return
		}
		if err := resp.ReadBody(br, 64<<20); err != nil {
			st.up.answered = false
			resp.Header.Reset()
			st.failed(err)
		}
		return
	}
	// The switch is the backend's answer as it came, Connection and
	// Upgrade included; then the two byte streams.
	answer := append([]byte(nil), resp.Header.Header()...)
	// From here the raw connection, past the timeouts of upConn: a tunnel
	// may stay quiet for longer than the upstream's read timeout.
	early, _ := br.Peek(br.Buffered())
	early = append([]byte(nil), early...)
	_ = raw.SetDeadline(noDeadline)
	st.ctx.HijackSetNoResponse(true)
	s := st.s
	clientRaw := st.ctx.Conn() // fasthttp's hijacked conn does not close
	hijack(st.ctx, func(client net.Conn) {
		s.tunnels.add(clientRaw, raw)
		defer s.tunnels.remove(clientRaw)
		_ = clientRaw.SetDeadline(noDeadline)
		if _, err := client.Write(answer); err == nil {
			tunnel(client, clientRaw, raw, io.MultiReader(bytes.NewReader(early), raw))
		}
		_ = clientRaw.Close()
		_ = raw.Close()
	})
}

// tunnelGrace is how long a tunnel waits for the client to close once the
// backend has.
const tunnelGrace = 5 * time.Second

// tunnel copies both ways. Each side's end is passed on as a half-close;
// when the backend is done the client gets tunnelGrace to finish.
func tunnel(client, clientRaw, backend net.Conn, fromBackend io.Reader) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(backend, client) // reads through fasthttp's buffer
		closeWrite(backend)
	}()
	_, _ = io.Copy(clientRaw, fromBackend) // what came after 101, then the rest
	closeWrite(clientRaw)
	_ = clientRaw.SetReadDeadline(time.Now().Add(tunnelGrace))
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

// tunnels tracks hijacked connections so Close can end them.
type tunnels struct {
	mu sync.Mutex
	m  map[net.Conn]net.Conn
}

func (t *tunnels) add(client, backend net.Conn) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[net.Conn]net.Conn{}
	}
	t.m[client] = backend
	t.mu.Unlock()
}

func (t *tunnels) remove(client net.Conn) {
	t.mu.Lock()
	delete(t.m, client)
	t.mu.Unlock()
}

func (t *tunnels) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, b := range t.m {
		_ = c.Close()
		_ = b.Close()
	}
}
