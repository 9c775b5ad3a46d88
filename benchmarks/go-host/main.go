// Command go-host benchmarks HashiCorp go-plugin's own Go host against the Go
// echo LLM plugin (examples/go/echo-llm), for comparison with our Python host.
//
// It measures unary Generate latency and throughput, GenerateStreaming
// chunks/s, and the time to start K plugins at once, and prints one JSON
// object on stdout. Progress goes to stderr. See README.md.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

type options struct {
	plugin       string
	calls        int
	rounds       int
	streamChunks int
	startup      []int
	samples      string
	skipStartup  bool
	logLevel     string
}

// report is the JSON printed on stdout; the keys are shared with the other
// benchmarks, keep them stable.
type report struct {
	Host      string       `json:"host"`
	Go        string       `json:"go"`
	Plugin    string       `json:"plugin"`
	Unary     unaryReport  `json:"unary"`
	Stream    streamReport `json:"stream"`
	StartupMs orderedMs    `json:"startup_ms"`
}

type unaryReport struct {
	P50us  float64      `json:"p50_us"`
	P99us  float64      `json:"p99_us"`
	Seq    float64      `json:"seq_calls_per_s"`
	C16    float64      `json:"c16_calls_per_s"`
	C256   float64      `json:"c256_calls_per_s"`
	Rounds *unaryRounds `json:"rounds"`
}

type streamReport struct {
	Chunks     int       `json:"chunks"`
	ChunksPerS float64   `json:"chunks_per_s"`
	Rounds     []float64 `json:"rounds"`
}

// orderedMs is the startup_ms object with its keys in the order measured
// (a Go map would sort "5" after "10").
type orderedMs []msEntry

type msEntry struct {
	count int
	ms    float64
}

func (o orderedMs) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", strconv.Itoa(e.count), strconv.FormatFloat(e.ms, 'f', -1, 64))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var cleanupOnce sync.Once

// cleanup kills every plugin this process started; it may be reached from
// both main and the signal handler, but killAll must run only once.
func cleanup() { cleanupOnce.Do(killAll) }

func main() {
	opts, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-host:", err)
		os.Exit(2)
	}
	go exitOnSignal()

	code := 0
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "go-host: error:", err)
		code = 1
	}
	cleanup()
	os.Exit(code)
}

// exitOnSignal makes Ctrl-C or a SIGTERM kill the plugins before exiting:
// os.Exit skips deferred calls, and go-plugin never kills plugins by itself.
func exitOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	sig := <-ch
	logf("go-host: %s, killing plugins", sig)
	cleanup()
	os.Exit(128 + int(sig.(syscall.Signal)))
}

func run(opts options) error {
	logger := newLogger(opts.logLevel)
	warm := max(50, opts.calls/10)

	logf("go-host: launching %s", opts.plugin)
	p, err := launch(opts.plugin, logger)
	if err != nil {
		return err
	}
	defer p.client.Kill()

	logf("unary Generate: %d calls per measurement, %d rounds, %d warm-up calls", opts.calls, opts.rounds, warm)
	unary, err := runUnary(p.llm, opts.calls, opts.rounds, warm)
	if err != nil {
		return err
	}
	if opts.samples != "" {
		if err := writeSamples(opts.samples, unary); err != nil {
			return err
		}
	}

	logf("GenerateStreaming: %d chunks per stream, %d rounds", opts.streamChunks, opts.rounds)
	stream, err := runStream(p.llm, opts.streamChunks, opts.rounds, warm)
	if err != nil {
		return err
	}
	if err := p.kill(); err != nil {
		return err
	}

	startup := orderedMs{}
	if !opts.skipStartup {
		logf("startup: plugin counts %v", opts.startup)
		if startup, err = runStartup(opts.plugin, opts.startup, logger); err != nil {
			return err
		}
	}

	return printReport(opts, unary, stream, startup)
}

func printReport(opts options, unary *unaryRounds, stream []float64, startup orderedMs) error {
	rounded := &unaryRounds{
		P50us: roundAll(unary.P50us, 1),
		P99us: roundAll(unary.P99us, 1),
		Seq:   roundAll(unary.Seq, 0),
		C16:   roundAll(unary.C16, 0),
		C256:  roundAll(unary.C256, 0),
	}
	for i := range startup {
		startup[i].ms = round(startup[i].ms, 1)
	}
	r := report{
		Host:   "go-plugin " + goPluginModuleVersion(),
		Go:     runtime.Version(),
		Plugin: opts.plugin,
		Unary: unaryReport{
			P50us:  round(median(unary.P50us), 1),
			P99us:  round(median(unary.P99us), 1),
			Seq:    round(median(unary.Seq), 0),
			C16:    round(median(unary.C16), 0),
			C256:   round(median(unary.C256), 0),
			Rounds: rounded,
		},
		Stream: streamReport{
			Chunks:     opts.streamChunks,
			ChunksPerS: round(median(stream), 0),
			Rounds:     roundAll(stream, 0),
		},
		StartupMs: startup,
	}
	out, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(os.Stdout, string(out))
	return err
}

// goPluginModuleVersion reads the linked go-plugin version from the build
// info, so the report cannot drift from go.mod.
func goPluginModuleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/hashicorp/go-plugin" {
				return dep.Version
			}
		}
	}
	return goPluginVersion
}

// writeSamples writes the last sequential round's latencies, one integer
// nanosecond count per line, in call order.
func writeSamples(path string, unary *unaryRounds) error {
	var b strings.Builder
	for _, d := range unary.samples {
		b.WriteString(strconv.FormatInt(d.Nanoseconds(), 10))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write samples: %w", err)
	}
	logf("wrote %d latency samples to %s", len(unary.samples), path)
	return nil
}

func parseFlags() (options, error) {
	var o options
	var startup string
	flag.StringVar(&o.plugin, "plugin", "", "path of the echo-llm-go plugin binary (required)")
	flag.IntVar(&o.calls, "calls", 5000, "calls per unary measurement")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds of every measurement")
	flag.IntVar(&o.streamChunks, "stream-chunks", 10000, "TEXT chunks per stream")
	flag.StringVar(&startup, "startup", "1,10,50", "comma-separated plugin counts for the startup test")
	flag.StringVar(&o.samples, "samples", "", "file for the last sequential round's latencies (ns, one per line)")
	flag.BoolVar(&o.skipStartup, "skip-startup", false, "skip the startup test")
	flag.BoolVar(&autoMTLS, "automtls", false, "use go-plugin's automatic mTLS with the plugin")
	flag.StringVar(&o.logLevel, "log-level", "warn", "go-plugin host log level (trace, debug, info, warn, error)")
	flag.Parse()

	switch {
	case flag.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %v", flag.Args())
	case o.plugin == "":
		return o, errors.New("-plugin PATH is required")
	case o.calls < 1 || o.rounds < 1 || o.streamChunks < 1:
		return o, errors.New("-calls, -rounds and -stream-chunks must be at least 1")
	}
	if _, err := os.Stat(o.plugin); err != nil {
		return o, err
	}
	for _, f := range strings.Split(startup, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			return o, fmt.Errorf("-startup: %q is not a positive integer", f)
		}
		o.startup = append(o.startup, k)
	}
	return o, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
