package benchproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of the times in /proc/<pid>/stat and /proc/stat
// (sysconf(_SC_CLK_TCK)).
var clockTicks = func() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100
}()

// ticks converts clock ticks to a duration.
func ticks(n uint64) time.Duration {
	return time.Duration(float64(n) / clockTicks * float64(time.Second))
}

// statFields are the fields of /proc/<pid>/stat after the command name
// (fields[0] is the state, field 3 of proc(5)).
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	return parseStat(string(b))
}

// parseStat splits a stat line after the command name, which may hold
// spaces and parentheses, hence the last ')'.
func parseStat(s string) ([]string, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return nil, errors.New("short stat")
	}
	return f, nil
}

// statCPU is utime + stime of a stat line (fields 14 and 15 of proc(5)),
// every thread of the process included.
func statCPU(f []string) (time.Duration, error) {
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed utime/stime")
	}
	return ticks(ut + st), nil
}

// CPU is the user+system CPU time of pid alone (the benchmark itself,
// say), its children not included.
func CPU(pid int) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	return statCPU(f)
}

// descendants is pid and every living process below it.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pid}
	}
	children := map[int][]int{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(n)
		if err != nil {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			children[pp] = append(children[pp], n)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// TreeCPU is the CPU time used so far by the processes and their
// descendants (nginx's master and worker; portico has none): the cost of a
// target. A nil process, or one that has exited, counts nothing.
func TreeCPU(ps ...*Proc) time.Duration {
	var sum time.Duration
	for _, p := range ps {
		if p == nil {
			continue
		}
		for _, pid := range descendants(p.Pid()) {
			if d, err := CPU(pid); err == nil {
				sum += d
			}
		}
	}
	return sum
}

// TreeRSS sums VmRSS over the processes and their descendants, in bytes
// (for nginx the master's pages count once more than they cost: they are
// shared).
func TreeRSS(ps ...*Proc) int64 {
	var sum int64
	for _, p := range ps {
		if p == nil {
			continue
		}
		for _, pid := range descendants(p.Pid()) {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				sum += StatusBytes(string(b), "VmRSS")
			}
		}
	}
	return sum
}

// StatusBytes reads one memory line (VmRSS, RssFile, VmHWM, …, in kB) of a
// /proc/<pid>/status text, in bytes; 0 when it is missing or malformed.
func StatusBytes(status, name string) int64 {
	for line := range strings.SplitSeq(status, "\n") {
		v, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// CPUBusy is the busy time of all CPUs (cpu < 0) or of one from /proc/stat,
// so the CPU the machine's other tenants took during a run can be
// estimated and a noisy round spotted.
func CPUBusy(cpu int) time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return parseCPUBusy(string(b), cpu)
}

// parseCPUBusy sums the busy columns of the "cpu" (cpu < 0) or "cpuN" line
// of a /proc/stat text.
func parseCPUBusy(stat string, cpu int) time.Duration {
	want := "cpu"
	if cpu >= 0 {
		want += strconv.Itoa(cpu)
	}
	for line := range strings.SplitSeq(stat, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != want {
			continue
		}
		var busy uint64
		for i, v := range f[1:] {
			// user nice system idle iowait irq softirq steal; guest is in user
			if i == 3 || i == 4 || i > 7 {
				continue
			}
			n, _ := strconv.ParseUint(v, 10, 64)
			busy += n
		}
		return ticks(busy)
	}
	return 0
}

// EstablishedTo counts the established IPv4 TCP connections whose local
// port is port, from /proc/net/tcp: on a server's port, the connections
// its clients hold to it (an origin's: what a proxy keeps open to it).
func EstablishedTo(port int) int {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return -1
	}
	return countEstablished(string(b), port)
}

func countEstablished(table string, port int) int {
	const established = "01"
	want := fmt.Sprintf(":%04X", port)
	n := 0
	for line := range strings.SplitSeq(table, "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], want) && f[3] == established {
			n++
		}
	}
	return n
}
