#!/usr/bin/env bash
# Regenerates the Go protobuf/gRPC code committed under examples/go.
#
# Developer step only: CI does not run this, it builds the committed code with
# `go build`. Run it after editing proto/hector/plugin/*.proto or
# examples/go/kv/proto/kv.proto, then commit the regenerated *.pb.go files.
#
# Needs:
#   protoc                 (e.g. apt-get install -y protobuf-compiler)
#   protoc-gen-go          go install google.golang.org/protobuf/cmd/protoc-gen-go@latest
#   protoc-gen-go-grpc     go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@latest
# (two separate `go install` commands: the tools live in different modules)
# and $(go env GOPATH)/bin on PATH.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
module="github.com/hector-plugins/hector-plugins/examples/go"

export PATH="$(go env GOPATH)/bin:$PATH"
for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null || { echo "generate.sh: $tool not found on PATH" >&2; exit 1; }
done

cd "$here"

# hector.plugin services -> proto/hectorpb (go_package set in the .proto files).
rm -f proto/hectorpb/*.pb.go
protoc -I "$repo/proto" \
  --go_out=. --go_opt="module=$module" \
  --go-grpc_out=. --go-grpc_opt="module=$module" \
  hector/plugin/common.proto \
  hector/plugin/llm.proto \
  hector/plugin/database.proto \
  hector/plugin/embedder.proto \
  hector/plugin/tool.proto \
  hector/plugin/reasoning.proto

# Generic kv example service -> kv/proto. The well-known types
# (google/protobuf/*.proto) come from protoc's own include directory.
rm -f kv/proto/*.pb.go
protoc -I kv/proto \
  --go_out=. --go_opt="module=$module" \
  --go-grpc_out=. --go-grpc_opt="module=$module" \
  kv.proto

echo "generated:"
find proto/hectorpb kv/proto -name '*.pb.go' | sort
