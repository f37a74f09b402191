package benchproc

import (
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a parenthesis, as proc(5) allows.
	line := "1234 (nginx: worker (x)) S 1200 1200 1200 0 -1 4194624 100 0 0 0 250 75 0 0 20 0 1 0 100 1000 200"
	f, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if f[0] != "S" || f[1] != "1200" {
		t.Fatalf("fields = %v", f[:2])
	}
	d, err := statCPU(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(float64(325) / clockTicks * float64(time.Second)); d != want {
		t.Errorf("cpu = %v, want %v", d, want)
	}
	if _, err := parseStat("1234 (x) S 1"); err == nil {
		t.Error("a short stat parsed")
	}
}

func TestStatusBytes(t *testing.T) {
	status := "Name:\tportico\nVmPeak:\t  900000 kB\nVmHWM:\t   30000 kB\nVmRSS:\t   20480 kB\nRssAnon:\t 10000 kB\nRssFile:\t  8000 kB\n"
	for name, want := range map[string]int64{"VmRSS": 20480 << 10, "RssFile": 8000 << 10, "VmHWM": 30000 << 10, "VmSwap": 0} {
		if got := StatusBytes(status, name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if got := StatusBytes("Name:\tzombie\n", "VmRSS"); got != 0 {
		t.Errorf("no VmRSS = %d", got)
	}
}

func TestParseCPUBusy(t *testing.T) {
	stat := "cpu  100 5 50 1000 20 1 2 3 7 0\ncpu0 60 5 30 500 10 1 1 2 0 0\ncpu1 40 0 20 500 10 0 1 1 0 0\nintr 1\n"
	tick := func(n int) time.Duration { return time.Duration(float64(n) / clockTicks * float64(time.Second)) }
	// user nice system irq softirq steal; idle, iowait and guest are not busy.
	for cpu, want := range map[int]time.Duration{-1: tick(161), 0: tick(99), 1: tick(62), 2: 0} {
		if got := parseCPUBusy(stat, cpu); got != want {
			t.Errorf("cpu %d: busy %v, want %v", cpu, got, want)
		}
	}
}

// The readings work on this machine's /proc.
func TestCPUReading(t *testing.T) {
	d, err := CPU(1)
	if err != nil || d < 0 {
		t.Errorf("CPU(1) = %v %v", d, err)
	}
	if CPUBusy(-1) <= 0 {
		t.Error("CPUBusy(-1) is 0")
	}
}

func TestCountEstablished(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2C4 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:D2C4 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F90 0100007F:D2C6 06 00000000:00000000 03:00000000 00000000     0        0 0 3 0000000000000000
   4: 0100007F:1F90 0100007F:D2C8 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
`
	// Port 8080 (1F90): two established server-side sockets; the listener,
	// the TIME_WAIT one and the client side do not count.
	if n := countEstablished(table, 8080); n != 2 {
		t.Errorf("countEstablished = %d, want 2", n)
	}
}
