package cloudwatch

import (
	"math"
	"sort"
	"strings"
	"time"
)

// agg is the aggregate of the samples of one storage bucket.
type agg struct {
	t                    int64 // bucket start, unix nanoseconds
	sum, min, max, count float64
}

// series is one metric (namespace, name, dimensions) over time.
type series struct {
	namespace, name string
	dims            map[string]string
	points          []agg // ascending t
}

func seriesKey(namespace, name string, dims map[string]string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString(namespace)
	sb.WriteByte(0)
	sb.WriteString(name)
	for _, k := range keys {
		sb.WriteByte(0)
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(dims[k])
	}
	return sb.String()
}

func (s *series) add(t int64, sum, lo, hi, count float64, oldest int64) {
	i := sort.Search(len(s.points), func(i int) bool { return s.points[i].t >= t })
	switch {
	case i < len(s.points) && s.points[i].t == t:
		p := &s.points[i]
		p.sum += sum
		p.count += count
		p.min = math.Min(p.min, lo)
		p.max = math.Max(p.max, hi)
	default:
		s.points = append(s.points, agg{})
		copy(s.points[i+1:], s.points[i:])
		s.points[i] = agg{t: t, sum: sum, min: lo, max: hi, count: count}
	}
	// Expire in batches (a quarter of the series at a time): retention is a
	// floor, and copying the series on every new bucket would cost more
	// than the points it frees.
	drop := sort.Search(len(s.points), func(i int) bool { return s.points[i].t >= oldest })
	if drop > 0 && drop*4 >= len(s.points) {
		s.points = append(s.points[:0], s.points[drop:]...)
	}
}

// window is one period to compute a statistic over: [start, end).
type window struct {
	start, end int64
}

// stat computes statistic over each window that holds samples; windows with
// none are missing from the result, as CloudWatch omits them.
func (s *series) stat(statistic string, windows []window) map[int64]float64 {
	out := map[int64]float64{}
	for _, w := range windows {
		i := sort.Search(len(s.points), func(i int) bool { return s.points[i].t >= w.start })
		var sum, count float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for ; i < len(s.points) && s.points[i].t < w.end; i++ {
			p := s.points[i]
			sum += p.sum
			count += p.count
			lo = math.Min(lo, p.min)
			hi = math.Max(hi, p.max)
		}
		if count == 0 {
			continue
		}
		switch statistic {
		case "Sum":
			out[w.start] = sum
		case "SampleCount":
			out[w.start] = count
		case "Average":
			out[w.start] = sum / count
		case "Minimum":
			out[w.start] = lo
		case "Maximum":
			out[w.start] = hi
		}
	}
	return out
}

var statistics = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}

// alignedWindows are the period-aligned windows covering [start, end).
func alignedWindows(start, end time.Time, width time.Duration) []window {
	w := int64(width)
	if w <= 0 {
		return nil
	}
	var out []window
	for s := start.UnixNano() / w * w; s < end.UnixNano(); s += w {
		out = append(out, window{s, s + w})
		if len(out) > 100800 { // GetMetricData's own ceiling
			break
		}
	}
	return out
}

// trailingWindows are the n windows of the given width ending at now, most
// recent first.
func trailingWindows(now time.Time, width time.Duration, n int) []window {
	out := make([]window, n)
	end := now.UnixNano()
	for i := range n {
		out[i] = window{end - int64(width)*int64(i+1), end - int64(width)*int64(i)}
	}
	return out
}
