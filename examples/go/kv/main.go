// Command kv is a generic hashicorp/go-plugin gRPC plugin that is not a Hector
// service. It proves that a host can drive any go-plugin plugin by calling
// methods with raw protobuf bytes.
//
// The service (kv/proto/kv.proto, RPC paths /kv.KV/<Method>) uses only
// protobuf well-known types:
//
//	Put(StringValue "key=value") -> Empty
//	Get(StringValue key) -> StringValue value, or NOT_FOUND
//	Count(Int32Value n) -> stream Int32Value 1..n
//	Version(Empty) -> Int32Value negotiated app protocol version
//	PutMany(stream StringValue "key=value") -> Int32Value how many were stored
//	Echo(stream BytesValue) -> stream BytesValue, each message sent back as it arrives
//
// The plugin offers app protocol versions 2 and 3 through
// ServeConfig.VersionedPlugins; go-plugin serves the highest version that is
// also listed in the host's PLUGIN_PROTOCOL_VERSIONS (and falls back to the
// lowest, 2, when nothing matches, leaving the host to reject the handshake).
//
// Build: cd examples/go && go build -o ../plugins/kv-go ./kv
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	kvpb "github.com/hector-plugins/hector-plugins/examples/go/kv/proto"
)

// Handshake is the kv example's handshake. ProtocolVersion is left 0: the
// versions come from VersionedPlugins.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "KV_PLUGIN",
	MagicCookieValue: "kv-example-cookie",
}

// kvServer implements kvpb.KVServer.
type kvServer struct {
	kvpb.UnimplementedKVServer

	version int32
	log     hclog.Logger

	mu   sync.RWMutex
	data map[string]string
}

func (s *kvServer) Put(_ context.Context, req *wrapperspb.StringValue) (*emptypb.Empty, error) {
	key, value, ok := strings.Cut(req.GetValue(), "=")
	if !ok || key == "" {
		return nil, status.Errorf(codes.InvalidArgument, "Put expects \"key=value\", got %q", req.GetValue())
	}
	s.mu.Lock()
	s.data[key] = value
	s.mu.Unlock()
	s.log.Debug("put", "key", key)
	return &emptypb.Empty{}, nil
}

func (s *kvServer) Get(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	s.mu.RLock()
	value, ok := s.data[req.GetValue()]
	s.mu.RUnlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "key %q not found", req.GetValue())
	}
	return wrapperspb.String(value), nil
}

func (s *kvServer) Count(req *wrapperspb.Int32Value, stream grpc.ServerStreamingServer[wrapperspb.Int32Value]) error {
	for i := int32(1); i <= req.GetValue(); i++ {
		if err := stream.Context().Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		if err := stream.Send(wrapperspb.Int32(i)); err != nil {
			return err
		}
	}
	return nil
}

func (s *kvServer) Version(context.Context, *emptypb.Empty) (*wrapperspb.Int32Value, error) {
	return wrapperspb.Int32(s.version), nil
}

func (s *kvServer) PutMany(stream grpc.ClientStreamingServer[wrapperspb.StringValue, wrapperspb.Int32Value]) error {
	var stored int32
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(wrapperspb.Int32(stored))
		}
		if err != nil {
			return err
		}
		if _, err := s.Put(stream.Context(), req); err != nil {
			return err
		}
		stored++
	}
}

// Echo logs how the stream ended: "echo ended" with the error when the host
// cancelled it (a reset request stream), without one when the host ended its
// requests normally.
func (s *kvServer) Echo(stream grpc.BidiStreamingServer[wrapperspb.BytesValue, wrapperspb.BytesValue]) error {
	for echoed := 0; ; echoed++ {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			s.log.Info("echo ended", "messages", echoed)
			return nil
		}
		if err == nil {
			err = stream.Send(msg)
		}
		if err != nil {
			s.log.Info("echo ended", "messages", echoed, "error", err.Error())
			return err
		}
	}
}

// kvPlugin is the go-plugin glue for one protocol version.
type kvPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	version int32
	log     hclog.Logger
}

func (p *kvPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	p.log.Info("kv server registered", "protocol_version", p.version)
	kvpb.RegisterKVServer(s, &kvServer{version: p.version, log: p.log, data: map[string]string{}})
	return nil
}

// GRPCClient lets a Go host dispense this plugin as a kvpb.KVClient.
func (p *kvPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return kvpb.NewKVClient(c), nil
}

func main() {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "kv",
		Level:      hclog.Debug,
		Output:     os.Stderr, // the process's stderr: read before plugin.Serve redirects it
		JSONFormat: true,
	})

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{
			2: {"kv": &kvPlugin{version: 2, log: logger}},
			3: {"kv": &kvPlugin{version: 3, log: logger}},
		},
		GRPCServer: plugin.DefaultGRPCServer,
		Logger:     logger,
	})
}
