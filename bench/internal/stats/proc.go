package stats

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// ClockTick is the length of one /proc/[pid]/stat clock tick (USER_HZ, 100
// on every Linux architecture Go supports).
const ClockTick = 10 * time.Millisecond

// ProcRSS returns the resident set size (VmRSS) of process pid in bytes.
func ProcRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, "VmRSS:")
}

// parseStatusKB returns the value of a "Key:   123 kB" line of
// /proc/[pid]/status in bytes.
func parseStatusKB(b []byte, key string) (int64, error) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, fmt.Errorf("%w: no %s", ErrProcFormat, key)
	}
	line := b[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) != 2 || string(f[1]) != "kB" {
		return 0, fmt.Errorf("%w: %s %q", ErrProcFormat, key, line)
	}
	v, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrProcFormat, key, err)
	}
	return v * 1024, nil
}

// ProcCPU returns the CPU time (user + system) process pid has used.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/[pid]/stat line. The command name (field 2) may contain spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: stat without ')'", ErrProcFormat)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields", ErrProcFormat, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: utime %q stime %q", ErrProcFormat, f[11], f[12])
	}
	return time.Duration(ut+st) * ClockTick, nil
}

// SelfCPU returns the CPU time (user + system) of the calling process.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MachineTimes is the aggregate line of /proc/stat: busy and total CPU time
// over all cores since boot. Busy excludes idle and iowait and includes
// softirq, where loopback TCP receive work is accounted.
type MachineTimes struct {
	Busy, Total time.Duration
}

// ReadMachineTimes reads the "cpu" line of /proc/stat.
func ReadMachineTimes() (MachineTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineTimes{}, err
	}
	return parseMachineTimes(b)
}

func parseMachineTimes(b []byte) (MachineTimes, error) {
	if !bytes.HasPrefix(b, []byte("cpu ")) {
		return MachineTimes{}, fmt.Errorf("%w: /proc/stat starts %q", ErrProcFormat, b[:min(len(b), 8)])
	}
	line := b
	if j := bytes.IndexByte(b, '\n'); j >= 0 {
		line = b[:j]
	}
	f := bytes.Fields(line)[1:]
	if len(f) < 5 {
		return MachineTimes{}, fmt.Errorf("%w: short cpu line", ErrProcFormat)
	}
	var t MachineTimes
	// user nice system idle iowait irq softirq steal [guest guest_nice]:
	// guest time is already included in user, so stop at steal.
	for i := 0; i < len(f) && i < 8; i++ {
		v, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil {
			return MachineTimes{}, fmt.Errorf("%w: cpu field %d: %w", ErrProcFormat, i, err)
		}
		d := time.Duration(v) * ClockTick
		t.Total += d
		if i != 3 && i != 4 {
			t.Busy += d
		}
	}
	return t, nil
}

// LoadAvg returns the 1, 5 and 15 minute load averages of /proc/loadavg.
func LoadAvg() ([3]float64, error) {
	var l [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l, err
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return l, fmt.Errorf("%w: loadavg %q", ErrProcFormat, b)
	}
	for i := range l {
		if l[i], err = strconv.ParseFloat(string(f[i]), 64); err != nil {
			return l, fmt.Errorf("%w: loadavg: %w", ErrProcFormat, err)
		}
	}
	return l, nil
}

// MemTotal returns the machine's RAM (MemTotal of /proc/meminfo) in bytes.
func MemTotal() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, "MemTotal:")
}
