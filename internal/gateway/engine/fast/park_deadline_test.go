package fast

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// connPair is a parkingConn on the server side of a loopback connection,
// and its client side.
func connPair(t *testing.T) (*parkingConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	pc := newParkingConn(sc, &Server{})
	t.Cleanup(func() { _ = client.Close(); _ = pc.TCPConn.Close() })
	return pc, client
}

// A read deadline is given to the socket at the next Read, the last one
// asked for winning; SetDeadline replaces a pending one; a hijacked
// connection's deadline applies at once, ending a Read already waiting.
func TestParkingConnReadDeadline(t *testing.T) {
	buf := make([]byte, 8)
	timedOut := func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

	t.Run("the deadline asked for last applies at the next read", func(t *testing.T) {
		pc, _ := connPair(t)
		_ = pc.SetReadDeadline(time.Now().Add(-time.Second)) // superseded before any read
		_ = pc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		start := time.Now()
		if _, err := pc.Read(buf); !timedOut(err) {
			t.Fatalf("read: %v, want a timeout", err)
		}
		if waited := time.Since(start); waited < 15*time.Millisecond {
			t.Fatalf("the read gave up after %v: the superseded deadline applied", waited)
		}
	})

	t.Run("a read gets its data before a later deadline", func(t *testing.T) {
		pc, client := connPair(t)
		_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Write([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		if n, err := pc.Read(buf); err != nil || string(buf[:n]) != "hi" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
	})

	t.Run("SetDeadline replaces a pending read deadline", func(t *testing.T) {
		pc, client := connPair(t)
		_ = pc.SetReadDeadline(time.Now().Add(-time.Second))
		_ = pc.SetDeadline(time.Time{})
		// A past deadline fails a read at once, data or not.
		if _, err := client.Write([]byte("late")); err != nil {
			t.Fatal(err)
		}
		if n, err := pc.Read(buf); err != nil || string(buf[:n]) != "late" {
			t.Fatalf("read %q, %v: the past deadline applied after SetDeadline cleared it", buf[:n], err)
		}
	})

	t.Run("a hijacked connection's deadline ends a waiting read", func(t *testing.T) {
		pc, _ := connPair(t)
		markHijacked(pc)
		done := make(chan error, 1)
		go func() {
			_, err := pc.Read(make([]byte, 8))
			done <- err
		}()
		time.Sleep(20 * time.Millisecond) // let the read start waiting; the test holds without it
		_ = pc.SetReadDeadline(time.Now())
		select {
		case err := <-done:
			if !timedOut(err) {
				t.Fatalf("read: %v, want a timeout", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the deadline did not end the waiting read")
		}
	})
}

// A write deadline moved later by less than an eighth of the send timeout
// stays where it is; a larger move, an earlier one or a clearing applies.
func TestParkingConnWriteDeadline(t *testing.T) {
	pc, _ := connPair(t)
	pc.s.cfg.SendTimeout = 80 * time.Second // slack 10 s
	base := time.Now().Add(80 * time.Second)
	for _, step := range []struct {
		name string
		set  time.Time
		want time.Time
	}{
		{"first", base, base},
		{"later by 5 s: kept", base.Add(5 * time.Second), base},
		{"later by 11 s: moved", base.Add(11 * time.Second), base.Add(11 * time.Second)},
		{"earlier: moved", base, base},
		{"cleared", time.Time{}, time.Time{}},
		{"set again", base, base},
	} {
		if err := pc.SetWriteDeadline(step.set); err != nil {
			t.Fatal(err)
		}
		if !pc.writeDeadline.Equal(step.want) {
			t.Fatalf("%s: the socket's write deadline is %v, want %v", step.name, pc.writeDeadline, step.want)
		}
	}
	markHijacked(pc)
	if err := pc.SetWriteDeadline(base.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if !pc.writeDeadline.Equal(base) {
		t.Fatal("a hijacked connection's deadline went through the kept state")
	}
}
