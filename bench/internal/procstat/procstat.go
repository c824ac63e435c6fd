package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100 on every Linux
// architecture Go supports.
const clockTick = 100

// ErrNoProcess is returned when the process (or its stat file) is gone.
var ErrNoProcess = errors.New("procstat: no such process")

// CPU is the CPU time a group of processes has used.
type CPU struct {
	User   time.Duration `json:"user_ns"`
	System time.Duration `json:"system_ns"`
}

// Total is user plus system time.
func (c CPU) Total() time.Duration { return c.User + c.System }

// Add returns the sum of c and o (two processes' CPU time).
func (c CPU) Add(o CPU) CPU { return CPU{User: c.User + o.User, System: c.System + o.System} }

// Sub returns c minus an earlier sample.
func (c CPU) Sub(earlier CPU) CPU {
	return CPU{User: c.User - earlier.User, System: c.System - earlier.System}
}

// stat is the part of /proc/PID/stat the package uses.
type stat struct {
	ppid         int
	utime, stime int64
}

// parseStat parses one /proc/PID/stat line. The command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func parseStat(line []byte) (stat, error) {
	i := bytes.LastIndexByte(line, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("procstat: malformed stat line %q", line)
	}
	f := strings.Fields(string(line[i+1:]))
	// After ')': state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return stat{}, fmt.Errorf("procstat: short stat line %q", line)
	}
	var s stat
	var err1, err2, err3 error
	s.ppid, err1 = strconv.Atoi(f[1])
	s.utime, err2 = strconv.ParseInt(f[11], 10, 64)
	s.stime, err3 = strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return stat{}, fmt.Errorf("procstat: bad stat line: %w", err)
	}
	return s, nil
}

func readStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, ErrNoProcess
	}
	return parseStat(b)
}

// Tree returns pid and every live descendant of it.
func Tree(pid int) []int {
	parents := map[int][]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if s, err := readStat(child); err == nil {
			parents[s.ppid] = append(parents[s.ppid], child)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, parents[out[i]]...)
	}
	return out
}

// TreeCPU returns the CPU time used so far by pid and its live descendants. Time of
// descendants that already exited and were reaped is included through the parent's
// cumulative fields only if the parent waited for them; servers that keep their workers
// alive during a run are measured exactly.
func TreeCPU(pid int) (CPU, error) {
	var c CPU
	for i, p := range Tree(pid) {
		s, err := readStat(p)
		if err != nil {
			if i == 0 {
				return CPU{}, err
			}
			continue
		}
		c.User += ticks(s.utime)
		c.System += ticks(s.stime)
	}
	return c, nil
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / clockTick }

// RSS returns VmRSS of one process in KiB.
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, ErrNoProcess
	}
	defer f.Close()
	return parseVmRSS(f)
}

func parseVmRSS(f *os.File) (int64, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return parseKiB(v)
		}
	}
	return 0, fmt.Errorf("procstat: no VmRSS in %s", f.Name())
}

// parseKiB parses "   1234 kB".
func parseKiB(v string) (int64, error) {
	f := strings.Fields(v)
	if len(f) != 2 || f[1] != "kB" {
		return 0, fmt.Errorf("procstat: bad VmRSS value %q", v)
	}
	return strconv.ParseInt(f[0], 10, 64)
}

// TreeRSS returns the summed VmRSS of pid and its live descendants, in KiB.
func TreeRSS(pid int) (int64, error) {
	var sum int64
	for i, p := range Tree(pid) {
		r, err := RSS(p)
		if err != nil {
			if i == 0 {
				return 0, err
			}
			continue
		}
		sum += r
	}
	return sum, nil
}

// FileLimit returns the soft and hard RLIMIT_NOFILE of this process.
func FileLimit() (soft, hard uint64, err error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0, fmt.Errorf("procstat: getrlimit: %w", err)
	}
	return r.Cur, r.Max, nil
}

// RaiseFileLimit sets the soft RLIMIT_NOFILE to the hard limit and returns it.
func RaiseFileLimit() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("procstat: getrlimit: %w", err)
	}
	r.Cur = r.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("procstat: setrlimit: %w", err)
	}
	return r.Cur, nil
}

// SelfCPU returns the CPU time this process has used (getrusage RUSAGE_SELF).
func SelfCPU() CPU {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return CPU{User: time.Duration(ru.Utime.Nano()), System: time.Duration(ru.Stime.Nano())}
}

// ChildCPU returns the CPU time of an exited child from its rusage.
func ChildCPU(ps *os.ProcessState) CPU {
	if ps == nil {
		return CPU{}
	}
	return CPU{User: ps.UserTime(), System: ps.SystemTime()}
}

// SystemCPU is the machine-wide CPU time from the first line of /proc/stat, in clock ticks.
type SystemCPU struct {
	Total, Idle, Steal int64
}

// ReadSystemCPU reads the machine-wide counters.
func ReadSystemCPU() (SystemCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return SystemCPU{}, fmt.Errorf("procstat: %w", err)
	}
	return parseSystemCPU(strings.SplitN(string(b), "\n", 2)[0])
}

// parseSystemCPU parses "cpu  user nice system idle iowait irq softirq steal ...".
func parseSystemCPU(line string) (SystemCPU, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return SystemCPU{}, fmt.Errorf("procstat: bad /proc/stat line %q", line)
	}
	var s SystemCPU
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return SystemCPU{}, fmt.Errorf("procstat: bad /proc/stat line %q", line)
		}
		if i < 8 { // guest time is already counted in user and nice
			s.Total += n
		}
		switch i {
		case 3, 4:
			s.Idle += n
		case 7:
			s.Steal = n
		}
	}
	return s, nil
}

// Shares returns the busy (not idle, not stolen) and stolen shares of the time between an
// earlier sample and s.
func (s SystemCPU) Shares(earlier SystemCPU) (busy, steal float64) {
	total := float64(s.Total - earlier.Total)
	if total <= 0 {
		return 0, 0
	}
	steal = float64(s.Steal-earlier.Steal) / total
	busy = 1 - float64(s.Idle-earlier.Idle)/total - steal
	return busy, steal
}
