package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/hector-plugins/hector-plugins/examples/go/proto/hectorpb"
)

// goPluginVersion is the go-plugin release this host is built against (see go.mod).
const goPluginVersion = "v1.8.0"

// handshake must match the one in examples/go/echo-llm/main.go, or the plugin
// refuses to start ("This binary is a plugin...").
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HECTOR_PLUGIN",
	MagicCookieValue: "hector_plugin_v1",
}

// autoMTLS turns on go-plugin's automatic mTLS for every launch (flag -automtls).
var autoMTLS bool

// pluginKey is the plugin map key echo-llm serves. In gRPC mode it never
// crosses the wire, it only picks our GRPCClient below.
const pluginKey = "llm_provider"

// llmPlugin is the host half of the go-plugin glue: it turns the connection
// go-plugin opened into a generated LLMProvider client.
type llmPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (llmPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("go-host only dispenses clients")
}

func (llmPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewLLMProviderClient(c), nil
}

// loaded is one running plugin process and its ready-to-call client.
type loaded struct {
	client *plugin.Client
	llm    pb.LLMProviderClient
}

// launchGate closes a gap in go-plugin: CleanupClients skips a client whose
// process is not started yet, and nothing stops that client from starting it
// right after. Launches hold the read side while they spawn; shutdown takes
// the write side, so it waits for them and no launch can begin afterwards.
var launchGate struct {
	sync.RWMutex
	closed bool
}

// killAll kills every plugin this process started (see launchGate). It must
// run only once, like plugin.CleanupClients; the caller exits right after.
func killAll() {
	launchGate.Lock()
	launchGate.closed = true
	launchGate.Unlock()
	plugin.CleanupClients()
}

// launch starts the plugin and gets it as far as our Python host does before
// handing it to the user: handshake, gRPC connection, dispense, Initialize.
// On error the process is already killed.
func launch(path string, logger hclog.Logger) (*loaded, error) {
	launchGate.RLock()
	defer launchGate.RUnlock()
	if launchGate.closed {
		return nil, errors.New("shutting down, not launching")
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		Plugins:          plugin.PluginSet{pluginKey: llmPlugin{}},
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           logger,
		AutoMTLS:         autoMTLS,
		// Managed: plugin.CleanupClients kills it even if we lose track of it.
		Managed: true,
	})
	llm, err := connect(client)
	if err != nil {
		client.Kill()
		return nil, err
	}
	return &loaded{client: client, llm: llm}, nil
}

func connect(client *plugin.Client) (pb.LLMProviderClient, error) {
	proto, err := client.Client()
	if err != nil {
		return nil, fmt.Errorf("start plugin: %w", err)
	}
	raw, err := proto.Dispense(pluginKey)
	if err != nil {
		return nil, fmt.Errorf("dispense %q: %w", pluginKey, err)
	}
	llm, ok := raw.(pb.LLMProviderClient)
	if !ok {
		return nil, fmt.Errorf("dispense %q: got %T, not an LLMProviderClient", pluginKey, raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := llm.Initialize(ctx, &pb.InitializeRequest{Config: map[string]string{}})
	if err != nil {
		return nil, fmt.Errorf("Initialize: %w", err)
	}
	if !resp.GetSuccess() {
		return nil, fmt.Errorf("Initialize refused: %s", resp.GetError())
	}
	return llm, nil
}

// pid is the plugin's process id, 0 if it never started.
func (l *loaded) pid() int {
	if rc := l.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// kill stops the plugin (go-plugin: close the connection, which asks the
// plugin to exit, wait up to 2 s, then SIGKILL) and checks it is really gone.
func (l *loaded) kill() error {
	pid := l.pid()
	l.client.Kill()
	if !l.client.Exited() {
		return fmt.Errorf("plugin pid %d: Kill returned but the process has not exited", pid)
	}
	// Kill waits for the process, so it is reaped: signal 0 must find nothing.
	if pid > 0 {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("plugin pid %d still exists after Kill (kill -0: %v)", pid, err)
		}
	}
	return nil
}

// newLogger is a quiet hclog for go-plugin: warnings and errors only by
// default, since go-plugin also replays every plugin stderr line through it.
func newLogger(level string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   "go-host",
		Level:  hclog.LevelFromString(level),
		Output: os.Stderr,
	})
}
