package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/portico-gw/portico/bench/internal/benchproc"
)

// The connections a proxy opens to the origin, and its memory, under load:
// a proxy should hold about as many upstream connections as it has
// requests in flight (nginx's keepalive pool), not one per client, and its
// memory should stay bounded at any concurrency.

// upstreamWatch samples, every 100 ms while a run lasts, how many
// connections are open to the origin.
type upstreamWatch struct {
	stop chan struct{}
	most chan int
}

func watchUpstream(originAddr string) *upstreamWatch {
	w := &upstreamWatch{stop: make(chan struct{}), most: make(chan int, 1)}
	_, p, err := net.SplitHostPort(originAddr)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil {
		w.most <- -1
		return w
	}
	go func() {
		most := 0
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				w.most <- most
				return
			case <-t.C:
				most = max(most, benchproc.EstablishedTo(port))
			}
		}
	}()
	return w
}

// end stops the sampling and returns the most connections seen (-1: the
// origin's port is unknown).
func (w *upstreamWatch) end() int {
	close(w.stop)
	return <-w.most
}

// originConns is how many connections to the origin are open now.
func originConns(originAddr string) int {
	_, p, err := net.SplitHostPort(originAddr)
	if err != nil {
		return -1
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return -1
	}
	return benchproc.EstablishedTo(port)
}

// printConnsTable is, for the plain rows at c connections, the upstream
// connections and the resident memory (medians over rounds).
func printConnsTable(w io.Writer, c int, rows []target, samples []sample) {
	fmt.Fprintf(w, "c=%d, connections to the origin and memory (medians):\n", c)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tupstream conns (most during load)\tupstream conns left open\tRSS at end of load\t")
	for _, t := range rows {
		mine := filter(samples, t.name, c)
		if len(mine) == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t\n", rowLabel(t.name),
			median(field(mine, func(s sample) float64 { return float64(s.upConnsMost) })),
			median(field(mine, func(s sample) float64 { return float64(s.upConnsAfter) })),
			mib(int64(median(field(mine, func(s sample) float64 { return float64(s.rss) })))))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}
