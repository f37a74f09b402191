package fast

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// parkedSet holds parked connections without a goroutine each: one epoll
// instance watches them all for readability, and one goroutine waits on
// it and closes those whose idle time runs out. A parked connection then
// costs its socket, its netFD and a few words here (~1 KB), where a
// goroutine waiting on it would add its 2 KB minimum stack and its g.
//
// The runtime's own netpoller keeps watching the descriptor too (a
// descriptor may sit in several epoll sets); this set's registration is
// one-shot, and closing the connection removes it from both.
type parkedSet struct {
	s    *Server
	once sync.Once
	epfd int
	err  error // why the set could not be made: parking falls back to a goroutine

	mu   sync.Mutex
	byID map[uint64]*parkingConn
	// head…tail, oldest first: every connection parks for the same rest of
	// the idle timeout, so this order is also the order of expiry.
	head, tail *parkingConn
	nextID     uint64
}

// parkedLinks are a parkingConn's place in its parkedSet.
type parkedLinks struct {
	id         uint64
	until      time.Time
	prev, next *parkingConn
	registered bool // in the epoll set (disabled after it fired)
}

// add parks c until it is readable or rest passes; an error means it was
// not parked (the caller waits on a goroutine instead).
func (p *parkedSet) add(c *parkingConn, rest time.Duration) error {
	p.once.Do(p.start)
	if p.err != nil {
		return p.err
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	c.park.id, c.park.until = id, time.Now().Add(rest)
	p.byID[c.park.id] = c
	p.pushLocked(c)
	op := syscall.EPOLL_CTL_ADD
	if c.park.registered {
		op = syscall.EPOLL_CTL_MOD
	}
	// Set before the registration (and under the lock the event's
	// receiver takes): from then on the event may fire and another
	// goroutine resume the connection.
	c.park.registered = true
	p.mu.Unlock()

	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT}
	ev.Fd, ev.Pad = int32(uint32(id)), int32(uint32(id>>32))
	rc, err := c.TCPConn.SyscallConn()
	if err == nil {
		// Control holds the descriptor open while it runs, so a
		// concurrent close cannot hand its number to another socket.
		cerr := rc.Control(func(fd uintptr) {
			err = syscall.EpollCtl(p.epfd, op, int(fd), &ev)
			if errors.Is(err, syscall.ENOENT) {
				err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
			}
		})
		err = errors.Join(err, cerr)
	}
	if err != nil {
		p.mu.Lock()
		p.removeLocked(c)
		p.mu.Unlock()
		return fmt.Errorf("park: %w", err)
	}
	return nil
}

// remove takes c out of the set (a parked connection being closed).
func (p *parkedSet) remove(c *parkingConn) {
	p.mu.Lock()
	p.removeLocked(c)
	p.mu.Unlock()
}

func (p *parkedSet) start() {
	p.epfd, p.err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if p.err != nil {
		p.err = fmt.Errorf("epoll_create1: %w", p.err)
		return
	}
	// Under the lock: remove, for any connection closing, reads it
	// without going through once.
	p.mu.Lock()
	p.byID = map[uint64]*parkingConn{}
	p.mu.Unlock()
	go p.run()
}

// run waits for parked connections to become readable and resumes them,
// and closes those whose idle time has run out, until the server stops.
func (p *parkedSet) run() {
	defer syscall.Close(p.epfd)
	events := make([]syscall.EpollEvent, 256)
	var ready, expired []*parkingConn
	for {
		select {
		case <-p.s.stopped:
			return
		default:
		}
		// At most a second, so expiry and the stop are noticed in time.
		n, err := syscall.EpollWait(p.epfd, events, 1000)
		if err != nil && !errors.Is(err, syscall.EINTR) {
			p.s.cfg.Logger.Error("parked connections: epoll_wait failed; they will be closed as they expire", "error", err)
			time.Sleep(time.Second)
		}
		now := time.Now()
		ready, expired = ready[:0], expired[:0]
		p.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if c, ok := p.byID[id]; ok {
				p.removeLocked(c)
				if gone(c, ev.Events) {
					expired = append(expired, c)
				} else {
					ready = append(ready, c)
				}
			}
		}
		for p.head != nil && !p.head.park.until.After(now) {
			c := p.head
			p.removeLocked(c)
			expired = append(expired, c)
		}
		p.mu.Unlock()
		for _, c := range ready {
			go p.s.resume(c)
		}
		for _, c := range expired {
			_ = c.closeNow()
		}
		clear(ready[:cap(ready)])
		clear(expired[:cap(expired)])
	}
}

// gone reports whether a parked connection's event is its client leaving
// with nothing left to read (a reset, or a FIN with no request before
// it): it is closed here rather than handed back to fasthttp to find out,
// so thousands of clients leaving at once cost no goroutine each.
func gone(c *parkingConn, events uint32) bool {
	if events&(syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
		return true
	}
	if events&syscall.EPOLLRDHUP == 0 {
		return false
	}
	n, checked, err := peek(c.TCPConn)
	return checked && n == 0 && err == nil
}

func (p *parkedSet) pushLocked(c *parkingConn) {
	c.park.prev, c.park.next = p.tail, nil
	if p.tail != nil {
		p.tail.park.next = c
	} else {
		p.head = c
	}
	p.tail = c
}

func (p *parkedSet) removeLocked(c *parkingConn) {
	if _, ok := p.byID[c.park.id]; !ok {
		return
	}
	delete(p.byID, c.park.id)
	if c.park.prev != nil {
		c.park.prev.park.next = c.park.next
	} else {
		p.head = c.park.next
	}
	if c.park.next != nil {
		c.park.next.park.prev = c.park.prev
	} else {
		p.tail = c.park.prev
	}
	c.park.prev, c.park.next = nil, nil
}
