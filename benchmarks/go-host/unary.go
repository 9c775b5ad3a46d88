package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	pb "github.com/hector-plugins/hector-plugins/examples/go/proto/hectorpb"
)

// concurrencies are the goroutine counts of the throughput measurements.
var concurrencies = []int{16, 256}

// unaryRounds holds every round's figures; the report gives their medians.
type unaryRounds struct {
	P50us   []float64       `json:"p50_us"`
	P99us   []float64       `json:"p99_us"`
	Seq     []float64       `json:"seq_calls_per_s"`
	C16     []float64       `json:"c16_calls_per_s"`
	C256    []float64       `json:"c256_calls_per_s"`
	samples []time.Duration // latencies of the last sequential round
}

// generate is one unary call, the request built per call as a real caller
// (and our Python host) would.
func generate(llm pb.LLMProviderClient) error {
	req := &pb.GenerateRequest{Messages: []*pb.Message{{Role: "user", Content: "hi"}}}
	resp, err := llm.Generate(context.Background(), req)
	if err != nil {
		return fmt.Errorf("Generate: %w", err)
	}
	if resp.GetText() != "Echo: hi" {
		return fmt.Errorf("Generate: unexpected reply %q", resp.GetText())
	}
	return nil
}

// sequential makes n calls one after the other and returns each call's
// latency and the wall time of the whole loop.
func sequential(llm pb.LLMProviderClient, n int) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := range lat {
		t := time.Now()
		if err := generate(llm); err != nil {
			return nil, 0, err
		}
		lat[i] = time.Since(t)
	}
	return lat, time.Since(start), nil
}

// concurrent makes n calls in total from `workers` goroutines, each calling
// sequentially, and returns the wall time.
func concurrent(llm pb.LLMProviderClient, n, workers int) (time.Duration, error) {
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	start := time.Now()
	for w := range workers {
		share := n / workers
		if w < n%workers {
			share++
		}
		wg.Go(func() {
			for range share {
				if err := generate(llm); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// warmUp runs before every measurement, like benchmarks/measure.py: a sequential
// pass then a 16-way pass, so connections, buffers and goroutines are hot.
func warmUp(llm pb.LLMProviderClient, n int) error {
	if _, _, err := sequential(llm, n); err != nil {
		return err
	}
	_, err := concurrent(llm, n, 16)
	return err
}

func runUnary(llm pb.LLMProviderClient, calls, rounds, warm int) (*unaryRounds, error) {
	r := &unaryRounds{}
	for round := 1; round <= rounds; round++ {
		if err := unaryRound(llm, calls, warm, r); err != nil {
			return nil, err
		}
		last := len(r.P50us) - 1
		logf("  unary round %d/%d: p50 %.1f µs, p99 %.1f µs, seq %.0f/s, c16 %.0f/s, c256 %.0f/s",
			round, rounds, r.P50us[last], r.P99us[last], r.Seq[last], r.C16[last], r.C256[last])
	}
	return r, nil
}

func unaryRound(llm pb.LLMProviderClient, calls, warm int, into *unaryRounds) error {
	if err := warmUp(llm, warm); err != nil {
		return err
	}
	lat, wall, err := sequential(llm, calls)
	if err != nil {
		return err
	}
	into.Seq = append(into.Seq, perSecond(calls, wall))
	into.samples = slices.Clone(lat)
	slices.Sort(lat)
	into.P50us = append(into.P50us, micros(percentile(lat, 0.50)))
	into.P99us = append(into.P99us, micros(percentile(lat, 0.99)))

	for _, workers := range concurrencies {
		if err := warmUp(llm, warm); err != nil {
			return err
		}
		wall, err := concurrent(llm, calls, workers)
		if err != nil {
			return err
		}
		rate := perSecond(calls, wall)
		if workers == 16 {
			into.C16 = append(into.C16, rate)
		} else {
			into.C256 = append(into.C256, rate)
		}
	}
	return nil
}
