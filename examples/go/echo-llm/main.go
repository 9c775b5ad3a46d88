// Command echo-llm is a Hector LLM provider plugin built with hashicorp/go-plugin.
//
// It serves the hector.plugin.LLMProvider gRPC service and answers every
// request by echoing the last user message, which makes it a deterministic
// peer for host tests:
//
//   - Generate: text "Echo: <last user message>", tokens_used = word count.
//   - Tool calls: when the request carries tools and the last user message is
//     "call <name> [<json arguments>]", the reply is one ToolCall
//     {id "call_1", name <name>, arguments_json <json> or "{}"} and text "".
//     Each further line that starts with "call " is one more call ("call_2",
//     ...), so a model that asks for several tools at once can be played.
//   - After tools: when the last message is a tool result, the reply is the
//     final answer "Done: <result>; <result>" (the trailing tool messages, in
//     order), followed by " | <context>" when a system message starting with
//     "Context:" is in the conversation (its text after that word, on one
//     line), which lets an agent test see what its memory retrieved.
//   - GenerateStreaming: the same text word by word as TEXT chunks, then a
//     TOOL_CALL chunk per tool call, then DONE with tokens_used.
//
// Config keys understood by Initialize (all optional, values are strings):
//
//   - flood_bytes: an integer N. Before Initialize returns, the plugin writes N
//     bytes of text lines to each of its outputs (see flood_target), so tests
//     can check that a host keeps draining them after the handshake.
//   - flood_target: where flood_bytes goes. "process" = the real stdout and
//     stderr pipes of the process (fd 1 and 2); "stdio" = os.Stdout and
//     os.Stderr as redirected by go-plugin after the handshake, i.e. the
//     plugin.GRPCStdio/StreamStdio stream; "both" (default) = all four.
//   - stream_delay_ms: an integer; GenerateStreaming sleeps that long before
//     each chunk (handy for cancellation tests).
//   - greeting: accepted and remembered, not used.
//
// Build: cd examples/go && go build -o ../plugins/echo-llm-go ./echo-llm
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/hector-plugins/hector-plugins/examples/go/proto/hectorpb"
)

// Handshake is Hector's go-plugin handshake.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HECTOR_PLUGIN",
	MagicCookieValue: "hector_plugin_v1",
}

const (
	pluginName    = "echo-llm-go"
	pluginVersion = "1.0.0"
	modelName     = "echo-llm-v1.0"
)

// echoLLM implements pb.LLMProviderServer.
type echoLLM struct {
	pb.UnimplementedLLMProviderServer

	log hclog.Logger
	// The process's own stdout/stderr. go-plugin replaces os.Stdout and
	// os.Stderr with pipes feeding the GRPCStdio stream once the handshake line
	// is printed, so these are saved before plugin.Serve runs.
	procStdout io.Writer
	procStderr io.Writer

	mu     sync.Mutex
	config map[string]string
}

func (e *echoLLM) Initialize(_ context.Context, req *pb.InitializeRequest) (*pb.InitializeResponse, error) {
	cfg := make(map[string]string, len(req.GetConfig()))
	keys := make([]string, 0, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		cfg[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)

	e.mu.Lock()
	e.config = cfg
	e.mu.Unlock()
	if level := cfg["log_level"]; level != "" {
		e.log.SetLevel(hclog.LevelFromString(level))
	}

	e.log.Info("echo-llm initialized", "config_keys", keys)

	if raw, ok := cfg["flood_bytes"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || n < 0 {
			return &pb.InitializeResponse{
				Success: false,
				Error:   fmt.Sprintf("flood_bytes must be a non-negative integer, got %q", raw),
			}, nil
		}
		target := cfg["flood_target"]
		if target == "" {
			target = "both"
		}
		var outs []namedWriter
		switch target {
		case "process":
			outs = e.processOutputs()
		case "stdio":
			outs = stdioOutputs()
		case "both":
			outs = append(e.processOutputs(), stdioOutputs()...)
		default:
			return &pb.InitializeResponse{
				Success: false,
				Error:   fmt.Sprintf("flood_target must be process, stdio or both, got %q", target),
			}, nil
		}
		start := time.Now()
		for _, o := range outs {
			if err := flood(o.w, o.name, n); err != nil {
				return &pb.InitializeResponse{Success: false, Error: fmt.Sprintf("flood %s: %v", o.name, err)}, nil
			}
		}
		e.log.Info("flood done", "bytes_per_output", n, "target", target,
			"outputs", len(outs), "elapsed_ms", time.Since(start).Milliseconds())
	}

	return &pb.InitializeResponse{Success: true}, nil
}

func (e *echoLLM) Shutdown(context.Context, *pb.ShutdownRequest) (*pb.ShutdownResponse, error) {
	e.log.Info("echo-llm shutdown requested")
	return &pb.ShutdownResponse{Success: true}, nil
}

func (e *echoLLM) Health(context.Context, *pb.HealthRequest) (*pb.HealthResponse, error) {
	return &pb.HealthResponse{Healthy: true, Message: "ok"}, nil
}

func (e *echoLLM) GetManifest(context.Context, *pb.ManifestRequest) (*pb.ManifestResponse, error) {
	return &pb.ManifestResponse{
		Name:          pluginName,
		Version:       pluginVersion,
		Author:        "hector-plugins",
		Description:   "Echo LLM plugin written in Go with hashicorp/go-plugin",
		Type:          "llm_provider",
		Protocol:      "grpc",
		HectorVersion: ">=0.1.0",
		Capabilities:  map[string]string{"streaming": "true"},
	}, nil
}

func (e *echoLLM) GetStatus(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	return &pb.StatusResponse{Status: "ready"}, nil
}

func (e *echoLLM) Generate(_ context.Context, req *pb.GenerateRequest) (*pb.GenerateResponse, error) {
	text, calls := reply(req)
	resp := &pb.GenerateResponse{Text: text, TokensUsed: countWords(text), ToolCalls: calls}
	e.log.Debug("generate", "messages", len(req.GetMessages()), "tools", len(req.GetTools()),
		"tool_calls", len(calls))
	return resp, nil
}

func (e *echoLLM) GenerateStreaming(req *pb.GenerateRequest, stream grpc.ServerStreamingServer[pb.StreamChunk]) error {
	text, calls := reply(req)
	delay := e.streamDelay()
	ctx := stream.Context()

	send := func(c *pb.StreamChunk) error {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return stream.Send(c)
	}

	for _, piece := range splitWords(text) {
		if err := send(&pb.StreamChunk{Type: pb.StreamChunk_TEXT, Text: piece}); err != nil {
			return err
		}
	}
	for _, call := range calls {
		if err := send(&pb.StreamChunk{Type: pb.StreamChunk_TOOL_CALL, ToolCall: call}); err != nil {
			return err
		}
	}
	return send(&pb.StreamChunk{Type: pb.StreamChunk_DONE, TokensUsed: countWords(text)})
}

func (e *echoLLM) GetModelInfo(context.Context, *pb.Empty) (*pb.ModelInfo, error) {
	return &pb.ModelInfo{ModelName: modelName, MaxTokens: 4096, Temperature: 0.7}, nil
}

func (e *echoLLM) streamDelay() time.Duration {
	e.mu.Lock()
	raw := e.config["stream_delay_ms"]
	e.mu.Unlock()
	ms, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || ms <= 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// reply computes the answer to a request: the echo text, or ("", tool call).
func reply(req *pb.GenerateRequest) (string, []*pb.ToolCall) {
	msgs := req.GetMessages()
	if n := len(msgs); n > 0 && strings.EqualFold(msgs[n-1].GetRole(), "tool") {
		return finalAnswer(msgs), nil
	}
	content := lastUserContent(msgs)
	if len(req.GetTools()) > 0 {
		if calls := parseToolCalls(content); len(calls) > 0 {
			return "", calls
		}
	}
	return "Echo: " + content, nil
}

func lastUserContent(msgs []*pb.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		role := msgs[i].GetRole()
		if strings.EqualFold(role, "user") || strings.EqualFold(role, "ROLE_USER") {
			return msgs[i].GetContent()
		}
	}
	return ""
}

// finalAnswer quotes the tool results that end the conversation and the
// memory context, if any: what a model would answer once its tools ran.
func finalAnswer(msgs []*pb.Message) string {
	first := len(msgs)
	for first > 0 && strings.EqualFold(msgs[first-1].GetRole(), "tool") {
		first--
	}
	results := make([]string, 0, len(msgs)-first)
	for _, m := range msgs[first:] {
		results = append(results, m.GetContent())
	}
	answer := "Done: " + strings.Join(results, "; ")
	for i := len(msgs) - 1; i >= 0; i-- {
		if !strings.EqualFold(msgs[i].GetRole(), "system") {
			continue
		}
		if context, ok := strings.CutPrefix(msgs[i].GetContent(), "Context:"); ok {
			answer += " | " + strings.Join(strings.Fields(context), " ")
			break
		}
	}
	return answer
}

// parseToolCalls turns `call <name> [<arguments json>]` into a ToolCall, and
// each further line starting with "call " into one more; other lines continue
// the arguments of the call before them.
func parseToolCalls(content string) []*pb.ToolCall {
	if !strings.HasPrefix(content, "call ") {
		return nil
	}
	var pieces []string
	for _, line := range strings.Split(content, "\n") {
		if strings.HasPrefix(line, "call ") || len(pieces) == 0 {
			pieces = append(pieces, line)
		} else {
			pieces[len(pieces)-1] += "\n" + line
		}
	}
	var calls []*pb.ToolCall
	for _, piece := range pieces {
		call := parseToolCall(strings.TrimPrefix(piece, "call "))
		if call == nil {
			return nil
		}
		call.Id = fmt.Sprintf("call_%d", len(calls)+1)
		calls = append(calls, call)
	}
	return calls
}

// parseToolCall turns `<name> [<arguments json>]` into a ToolCall.
func parseToolCall(rest string) *pb.ToolCall {
	rest = strings.TrimLeft(rest, " \t\r\n")
	end := strings.IndexAny(rest, " \t\r\n")
	name, args := rest, ""
	if end >= 0 {
		name, args = rest[:end], strings.TrimSpace(rest[end:])
	}
	if name == "" {
		return nil
	}
	if args == "" {
		args = "{}"
	}
	return &pb.ToolCall{Name: name, ArgumentsJson: args}
}

func countWords(s string) int32 { return int32(len(strings.Fields(s))) }

// splitWords cuts s at single spaces, keeping the space on every piece but the
// last, so that concatenating the pieces gives back s exactly.
func splitWords(s string) []string {
	var out []string
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	return out
}

type namedWriter struct {
	name string
	w    io.Writer
}

func (e *echoLLM) processOutputs() []namedWriter {
	return []namedWriter{{"process stdout", e.procStdout}, {"process stderr", e.procStderr}}
}

// stdioOutputs reads os.Stdout/os.Stderr at call time: after the handshake
// go-plugin has pointed them at its GRPCStdio pipes.
func stdioOutputs() []namedWriter {
	return []namedWriter{{"go-plugin stdio stdout", os.Stdout}, {"go-plugin stdio stderr", os.Stderr}}
}

// flood writes exactly n bytes of newline-terminated text lines to w.
func flood(w io.Writer, name string, n int) error {
	const lineLen = 100
	buf := make([]byte, 0, 64*1024)
	line := 0
	for n > 0 {
		l := min(lineLen, n)
		prefix := fmt.Sprintf("flood %s line %07d ", name, line)
		b := make([]byte, l)
		for i := range b {
			b[i] = 'x'
		}
		copy(b, prefix)
		b[l-1] = '\n'
		buf = append(buf, b...)
		n -= l
		line++
		if len(buf) >= 60*1024 || n == 0 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

// llmPlugin is the go-plugin glue: plugin.GRPCPlugin for the LLMProvider service.
type llmPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl pb.LLMProviderServer
}

func (p *llmPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterLLMProviderServer(s, p.impl)
	return nil
}

// GRPCClient lets a Go host dispense this plugin as a pb.LLMProviderClient.
func (p *llmPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewLLMProviderClient(c), nil
}

func main() {
	// Saved before plugin.Serve swaps os.Stdout/os.Stderr for its stdio pipes.
	procStdout, procStderr := os.Stdout, os.Stderr

	logger := hclog.New(&hclog.LoggerOptions{
		Name: "echo-llm",
		// Per-call lines are debug: on only with `log_level: debug` in the plugin config.
		Level:      hclog.Info,
		Output:     procStderr,
		JSONFormat: true,
	})

	impl := &echoLLM{log: logger, procStdout: procStdout, procStderr: procStderr}

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins: plugin.PluginSet{
			"llm_provider": &llmPlugin{impl: impl},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     logger,
	})
}
