package main

import (
	"math"
	"slices"
	"time"
)

// percentile picks a value from sorted samples the same way
// percentile in benchmarks/measure.py does (nearest index, rounded half to even), so
// the two hosts' p50/p99 are computed alike.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.RoundToEven(q * float64(len(sorted)-1)))
	return sorted[max(0, min(len(sorted)-1, i))]
}

// median of a list (mean of the two middle values for an even count), like
// Python's statistics.median.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func millis(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func perSecond(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// round keeps the JSON readable: 0.1 µs and 0.1 call/s are far below the noise.
func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

func roundAll(xs []float64, digits int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = round(x, digits)
	}
	return out
}
