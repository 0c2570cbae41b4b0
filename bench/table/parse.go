package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// result is one benchmark result line of `go test -bench`: the
// benchmark's name as printed (with its -GOMAXPROCS suffix, if any), its
// iterations and its metrics by unit, b.ReportMetric's included.
type result struct {
	name    string
	n       int64
	metrics map[string]float64
}

// parseResults returns every result line in r, in order. Lines that are
// not results (the benchmarks' own output, go test's headers, PASS) are
// skipped.
func parseResults(r io.Reader) ([]result, error) {
	var out []result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if res, ok := parseLine(sc.Text()); ok {
			out = append(out, res)
		}
	}
	return out, sc.Err()
}

// parseLine reads a result line: a name starting with "Benchmark", an
// iteration count, then value and unit pairs. Anything printed before
// the name on the same line (a benchmark's output without a final
// newline) is ignored.
func parseLine(line string) (result, bool) {
	f := strings.Fields(line)
	for i, tok := range f {
		at := strings.Index(tok, "Benchmark")
		if at < 0 || len(f)-i < 4 || (len(f)-i)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			continue
		}
		res := result{name: tok[at:], n: n, metrics: map[string]float64{}}
		ok := true
		for j := i + 2; j < len(f); j += 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				ok = false
				break
			}
			res.metrics[f[j+1]] = v
		}
		if ok {
			return res, true
		}
	}
	return result{}, false
}

// is says whether the result is of the benchmark name: the same name,
// or it followed by a -GOMAXPROCS suffix.
func (r result) is(name string) bool {
	rest, ok := strings.CutPrefix(r.name, name)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	digits, ok := strings.CutPrefix(rest, "-")
	_, err := strconv.Atoi(digits)
	return ok && err == nil
}
