// Command embedder is a Hector embedder plugin built with hashicorp/go-plugin.
//
// It computes the same deterministic hashed trigram embeddings as the Rust
// example (embedding.go), but serves only Embed: it predates EmbedBatch, so a
// host answered UNIMPLEMENTED for EmbedBatch falls back to one Embed per text
// and must get the same vectors as from the Rust plugin's EmbedBatch.
//
//   - Embed: the vector of the text. An empty text is refused in-band (Error),
//     a text longer than max_text_bytes with the status INVALID_ARGUMENT.
//   - GetEmbedderInfo: model ngram-hash-3 and the dimension.
//
// Config keys (optional): dimension (default 384) and max_text_bytes (default
// 8192), positive integers; anything else fails Initialize.
//
// Build: cd examples/go && go build -o ../plugins/embedder-go ./embedder
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/hector-plugins/hector-plugins/examples/go/proto/hectorpb"
)

// Handshake is Hector's go-plugin handshake.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "HECTOR_PLUGIN",
	MagicCookieValue: "hector_plugin_v1",
}

const (
	pluginName       = "embedder-go"
	pluginVersion    = "1.0.0"
	modelName        = "ngram-hash-3"
	largestDimension = 65536
)

type settings struct {
	dimension    int
	maxTextBytes int
}

var defaults = settings{dimension: 384, maxTextBytes: 8192}

// embedder implements pb.EmbedderProviderServer; the embedded
// Unimplemented server answers EmbedBatch with UNIMPLEMENTED.
type embedder struct {
	pb.UnimplementedEmbedderProviderServer

	log      hclog.Logger
	mu       sync.Mutex
	settings settings
}

func (e *embedder) current() settings {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.settings
}

func positive(config map[string]string, key string, fallback, largest int) (int, error) {
	raw, ok := config[key]
	if !ok {
		return fallback, nil
	}
	value, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || value <= 0 || value > largest {
		return 0, fmt.Errorf("%s must be an integer from 1 to %d, got %q", key, largest, raw)
	}
	return value, nil
}

func (e *embedder) Initialize(_ context.Context, req *pb.InitializeRequest) (*pb.InitializeResponse, error) {
	dimension, err := positive(req.GetConfig(), "dimension", defaults.dimension, largestDimension)
	if err != nil {
		return &pb.InitializeResponse{Success: false, Error: err.Error()}, nil
	}
	maxTextBytes, err := positive(req.GetConfig(), "max_text_bytes", defaults.maxTextBytes, int(^uint(0)>>1))
	if err != nil {
		return &pb.InitializeResponse{Success: false, Error: err.Error()}, nil
	}
	e.mu.Lock()
	e.settings = settings{dimension: dimension, maxTextBytes: maxTextBytes}
	e.mu.Unlock()
	e.log.Info("embedder initialized", "dimension", dimension)
	return &pb.InitializeResponse{Success: true}, nil
}

func (e *embedder) Shutdown(context.Context, *pb.ShutdownRequest) (*pb.ShutdownResponse, error) {
	e.log.Info("embedder shutdown requested")
	return &pb.ShutdownResponse{Success: true}, nil
}

func (e *embedder) Health(context.Context, *pb.HealthRequest) (*pb.HealthResponse, error) {
	return &pb.HealthResponse{Healthy: true, Message: "ok"}, nil
}

func (e *embedder) GetManifest(context.Context, *pb.ManifestRequest) (*pb.ManifestResponse, error) {
	return &pb.ManifestResponse{
		Name:          pluginName,
		Version:       pluginVersion,
		Author:        "hector-plugins",
		Description:   "Embedder plugin written in Go with hashicorp/go-plugin, without EmbedBatch",
		Type:          "embedder_provider",
		Protocol:      "grpc",
		HectorVersion: ">=0.1.0",
		Capabilities:  map[string]string{"dimension": strconv.Itoa(e.current().dimension)},
	}, nil
}

func (e *embedder) GetStatus(context.Context, *pb.StatusRequest) (*pb.StatusResponse, error) {
	return &pb.StatusResponse{Status: "ready"}, nil
}

func (e *embedder) Embed(_ context.Context, req *pb.EmbedRequest) (*pb.EmbedResponse, error) {
	s := e.current()
	text := req.GetText()
	if text == "" {
		return &pb.EmbedResponse{Error: "the text is empty: cannot embed an empty text"}, nil
	}
	if len(text) > s.maxTextBytes {
		return nil, status.Errorf(codes.InvalidArgument, "the text has %d bytes, more than max_text_bytes (%d)", len(text), s.maxTextBytes)
	}
	return &pb.EmbedResponse{Vector: embed(text, s.dimension)}, nil
}

func (e *embedder) GetEmbedderInfo(context.Context, *pb.Empty) (*pb.EmbedderInfo, error) {
	return &pb.EmbedderInfo{ModelName: modelName, Dimension: int32(e.current().dimension)}, nil
}

// embedderPlugin is the go-plugin glue: plugin.GRPCPlugin for the EmbedderProvider service.
type embedderPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl pb.EmbedderProviderServer
}

func (p *embedderPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterEmbedderProviderServer(s, p.impl)
	return nil
}

// GRPCClient lets a Go host dispense this plugin as a pb.EmbedderProviderClient.
func (p *embedderPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return pb.NewEmbedderProviderClient(c), nil
}

func main() {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "embedder",
		Level:      hclog.Info,
		Output:     os.Stderr,
		JSONFormat: true,
	})
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins: plugin.PluginSet{
			"embedder_provider": &embedderPlugin{impl: &embedder{log: logger, settings: defaults}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     logger,
	})
}
