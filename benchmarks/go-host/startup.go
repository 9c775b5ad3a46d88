package main

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

const (
	// startupReps is how many times each plugin count is measured (median reported).
	startupReps = 3
	// startupBudget stops repeating a count early once its repetitions (launch
	// plus kill) have taken this long, so a slow machine still finishes.
	startupBudget = 60 * time.Second
)

// runStartup returns the median ready time in ms for each plugin count.
func runStartup(path string, counts []int, logger hclog.Logger) (orderedMs, error) {
	out := orderedMs{}
	for _, k := range counts {
		var times []float64
		began := time.Now()
		for rep := 1; rep <= startupReps; rep++ {
			ready, err := startupOnce(path, k, logger)
			if err != nil {
				return nil, fmt.Errorf("startup with %d plugins: %w", k, err)
			}
			times = append(times, millis(ready))
			logf("  startup %d plugins, rep %d/%d: all ready in %.1f ms", k, rep, startupReps, millis(ready))
			if rep < startupReps && time.Since(began) > startupBudget {
				logf("  startup %d plugins: stopping after %d reps (over the %s budget)", k, rep, startupBudget)
				break
			}
		}
		out = append(out, msEntry{k, median(times)})
	}
	return out, nil
}

// startupOnce launches k plugins at once (one goroutine each: NewClient,
// Client, Dispense, Initialize), times until all are ready, then kills them
// all and checks that no process is left.
func startupOnce(path string, k int, logger hclog.Logger) (time.Duration, error) {
	plugins := make([]*loaded, k)
	launchErrs := make([]error, k)
	var wg sync.WaitGroup

	start := time.Now()
	for i := range k {
		wg.Go(func() { plugins[i], launchErrs[i] = launch(path, logger) })
	}
	wg.Wait()
	ready := time.Since(start)

	// Kill in parallel too: go-plugin's Kill waits for each process to exit.
	killErrs := make([]error, k)
	for i, p := range plugins {
		if p != nil {
			wg.Go(func() { killErrs[i] = p.kill() })
		}
	}
	wg.Wait()
	return ready, errors.Join(errors.Join(launchErrs...), errors.Join(killErrs...))
}
