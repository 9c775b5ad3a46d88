// Command tools is a Hector tool provider plugin built with hashicorp/go-plugin
// (hector.plugin.ToolProvider, docs/protocol.md §7.7).
//
// Tools:
//
//   - calculator {expression}: arithmetic (+ - * / % ^, parentheses) with a
//     parser of its own (calc.go); nothing is evaluated as code.
//   - read_file {path}: a file under the configured root; absolute paths, ".."
//     and symlinks leading outside the root are refused (files.go).
//   - slow {seconds, steps}: waits `seconds` (default 1) in `steps` (default 4)
//     steps; ExecuteToolStreaming reports each step as progress.
//   - crash {}: exits the process mid-call; listed only with config
//     crash_tool = "true" (for tests of a host's crash handling).
//
// A tool's own failure (bad expression, refused path) is an in-band result with
// success = false. An unknown tool is a NOT_FOUND status, arguments that are not
// a JSON object INVALID_ARGUMENT.
//
// Config keys (all optional): root (the read_file root), crash_tool,
// streaming ("false": ExecuteToolStreaming answers UNIMPLEMENTED, so a host
// falls back to ExecuteTool).
//
// Build: cd examples/go && go build -o ../plugins/tools-go ./tools
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/hector-plugins/hector-plugins/examples/go/proto/hectorpb"
)

var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HECTOR_PLUGIN",
	MagicCookieValue: "hector_plugin_v1",
}

const (
	pluginName    = "tools-go"
	pluginVersion = "1.0.0"
)

type toolProvider struct {
	pb.UnimplementedToolProviderServer

	log    hclog.Logger
	mu     sync.Mutex
	config map[string]string
}

func (t *toolProvider) setting(key string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.config[key]
}

func (t *toolProvider) Initialize(_ context.Context, req *pb.InitializeRequest) (*pb.InitializeResponse, error) {
	cfg := make(map[string]string, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		cfg[k] = v
	}
	if root := cfg["root"]; root != "" {
		if info, err := os.Stat(root); err != nil || !info.IsDir() {
			return &pb.InitializeResponse{Success: false, Error: fmt.Sprintf("root %q is not a directory", root)}, nil
		}
	}
	t.mu.Lock()
	t.config = cfg
	t.mu.Unlock()
	return &pb.InitializeResponse{Success: true}, nil
}

func (t *toolProvider) Shutdown(context.Context, *pb.ShutdownRequest) (*pb.ShutdownResponse, error) {
	return &pb.ShutdownResponse{Success: true}, nil
}

func (t *toolProvider) Health(context.Context, *pb.HealthRequest) (*pb.HealthResponse, error) {
	return &pb.HealthResponse{Healthy: true, Message: "ok"}, nil
}

func (t *toolProvider) GetManifest(context.Context, *pb.ManifestRequest) (*pb.ManifestResponse, error) {
	return &pb.ManifestResponse{
		Name:          pluginName,
		Version:       pluginVersion,
		Author:        "hector-plugins",
		Description:   "Tool provider in Go: calculator, files under a root, a slow tool",
		Type:          "tool_provider",
		Protocol:      "grpc",
		HectorVersion: ">=0.1.0",
		Capabilities:  map[string]string{"streaming": "true"},
	}, nil
}

func (t *toolProvider) GetStatus(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	return &pb.StatusResponse{Status: "ready"}, nil
}

func schema(properties string, required ...string) string {
	req, _ := json.Marshal(required)
	return fmt.Sprintf(`{"type":"object","properties":{%s},"required":%s}`, properties, req)
}

func (t *toolProvider) ListTools(context.Context, *pb.Empty) (*pb.ListToolsResponse, error) {
	tools := []*pb.ToolDefinition{
		{
			Name:           "calculator",
			Description:    "Evaluates an arithmetic expression (+ - * / % ^ and parentheses).",
			ParametersJson: schema(`"expression":{"type":"string"}`, "expression"),
		},
		{
			Name:           "read_file",
			Description:    "Reads a text file under the configured root directory.",
			ParametersJson: schema(`"path":{"type":"string","description":"relative to the root"}`, "path"),
		},
		{
			Name:           "slow",
			Description:    "Waits a while, reporting progress (for timeouts and streaming).",
			ParametersJson: schema(`"seconds":{"type":"number"},"steps":{"type":"integer"}`),
		},
	}
	if t.setting("crash_tool") == "true" {
		tools = append(tools, &pb.ToolDefinition{
			Name:           "crash",
			Description:    "Exits the plugin process mid-call.",
			ParametersJson: schema(""),
		})
	}
	return &pb.ListToolsResponse{Tools: tools}, nil
}

// progress receives each step of a slow run; nil when nobody streams.
type progress func(*pb.ToolProgress) error

func (t *toolProvider) run(ctx context.Context, req *pb.ToolRequest, report progress) (*pb.ToolResult, error) {
	var args map[string]any
	if err := json.Unmarshal([]byte(orEmptyObject(req.GetArgumentsJson())), &args); err != nil || args == nil {
		return nil, status.Errorf(codes.InvalidArgument, "arguments must be a JSON object: %q", req.GetArgumentsJson())
	}
	started := time.Now()
	var result *pb.ToolResult
	switch req.GetName() {
	case "calculator":
		expression, _ := args["expression"].(string)
		value, err := evaluate(expression)
		result = outcome(strconv.FormatFloat(value, 'g', -1, 64), err)
		if err == nil {
			result.OutputJson = fmt.Sprintf(`{"value":%s}`, strconv.FormatFloat(value, 'g', -1, 64))
		}
	case "read_file":
		path, _ := args["path"].(string)
		result = outcome(readUnderRoot(t.setting("root"), path))
	case "slow":
		var err error
		result, err = slow(ctx, args, report)
		if err != nil {
			return nil, err
		}
	case "crash":
		if t.setting("crash_tool") == "true" {
			t.log.Error("crash tool called: exiting")
			os.Exit(3)
		}
		fallthrough
	default:
		return nil, status.Errorf(codes.NotFound, "no tool named %q", req.GetName())
	}
	result.CallId = req.GetCallId()
	result.DurationMs = time.Since(started).Milliseconds()
	return result, nil
}

func orEmptyObject(text string) string {
	if text == "" {
		return "{}"
	}
	return text
}

// outcome is a tool's in-band answer: its content, or success = false and the error.
func outcome(content string, err error) *pb.ToolResult {
	if err != nil {
		return &pb.ToolResult{Success: false, Error: err.Error()}
	}
	return &pb.ToolResult{Success: true, Content: content}
}

func number(args map[string]any, key string, fallback float64) float64 {
	if value, ok := args[key].(float64); ok {
		return value
	}
	return fallback
}

func slow(ctx context.Context, args map[string]any, report progress) (*pb.ToolResult, error) {
	seconds := number(args, "seconds", 1)
	steps := int(number(args, "steps", 4))
	if steps < 1 || steps > 1000 || seconds < 0 || seconds > 3600 {
		return outcome("", fmt.Errorf("seconds must be within 0..3600 and steps within 1..1000")), nil
	}
	step := time.Duration(seconds * float64(time.Second) / float64(steps))
	for i := 1; i <= steps; i++ {
		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-time.After(step):
		}
		if report != nil {
			fraction := float64(i) / float64(steps)
			if err := report(&pb.ToolProgress{
				Message:        fmt.Sprintf("step %d of %d", i, steps),
				PartialContent: fmt.Sprintf("step %d\n", i),
				Fraction:       &fraction,
			}); err != nil {
				return nil, err
			}
		}
	}
	return outcome(fmt.Sprintf("waited %g s in %d steps", seconds, steps), nil), nil
}

func (t *toolProvider) ExecuteTool(ctx context.Context, req *pb.ToolRequest) (*pb.ToolResult, error) {
	return t.run(ctx, req, nil)
}

func (t *toolProvider) ExecuteToolStreaming(req *pb.ToolRequest, stream grpc.ServerStreamingServer[pb.ToolProgress]) error {
	if t.setting("streaming") == "false" {
		return status.Error(codes.Unimplemented, "streaming is off (config streaming=false)")
	}
	result, err := t.run(stream.Context(), req, stream.Send)
	if err != nil {
		return err
	}
	return stream.Send(&pb.ToolProgress{Done: true, Result: result})
}

// toolPlugin is the go-plugin glue for the ToolProvider service.
type toolPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl pb.ToolProviderServer
}

func (p *toolPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterToolProviderServer(s, p.impl)
	return nil
}

func (p *toolPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewToolProviderClient(c), nil
}

func main() {
	logger := hclog.New(&hclog.LoggerOptions{Name: "tools", Level: hclog.Info, Output: os.Stderr, JSONFormat: true})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{"tool_provider": &toolPlugin{impl: &toolProvider{log: logger}}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger:          logger,
	})
}
