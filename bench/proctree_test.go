package bench

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// treeRSS returns the sum of VmRSS over pid and all its descendants (the
// hub and any ffmpeg, ffprobe or pdftoppm it runs), from /proc. Pages the
// processes share (libraries) count once per process, so the sum is an
// upper bound of what the tree holds.
func treeRSS(pid int) (int64, error) {
	st, err := readStatus(pid)
	if err != nil {
		return 0, err
	}
	sum := st.rss
	for _, c := range descendants(pid) {
		if cs, err := readStatus(c); err == nil { // a child may have exited meanwhile
			sum += cs.rss
		}
	}
	return sum, nil
}

// descendants returns the pids of every process under pid, read from the
// parent pid in each /proc/<pid>/stat.
func descendants(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// The command name is in parentheses and may contain spaces; the
		// state and the parent pid follow it.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(data[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, err1 := strconv.Atoi(fields[1])
		self, err2 := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if err1 != nil || err2 != nil {
			continue
		}
		children[ppid] = append(children[ppid], self)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			if !slices.Contains(out, c) {
				out = append(out, c)
				queue = append(queue, c)
			}
		}
	}
	return out
}

// ioBytes is what a process has had read from and written to storage
// (read_bytes, write_bytes of /proc/<pid>/io): a page-cache hit is no
// read, a buffered write counts when it dirties the cache.
type ioBytes struct{ read, write int64 }

func readIO(pid int) (ioBytes, error) {
	var io ioBytes
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return io, err
	}
	found := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "read_bytes" && k != "write_bytes") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return io, fmt.Errorf("/proc/%d/io: %q: %w", pid, line, err)
		}
		if k == "read_bytes" {
			io.read = n
		} else {
			io.write = n
		}
		found++
	}
	if found != 2 {
		return io, fmt.Errorf("/proc/%d/io has no read_bytes and write_bytes", pid)
	}
	return io, nil
}

// median returns the median of xs (the mean of the middle two for an
// even count); xs is not changed.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// xs: with fewer than 100 values the 99th is the largest.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	rank := int(math.Ceil(float64(len(s)) * p / 100))
	return s[min(max(rank, 1), len(s))-1]
}

// fmtRates formats values for a table's brackets.
func fmtRates(xs []float64, format string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(s, " ")
}

// loadAvg is the machine's load average over 1, 5 and 15 minutes, for the
// record: the machine is shared.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
