package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	pb "github.com/hector-plugins/hector-plugins/examples/go/proto/hectorpb"
)

// streamContent makes echo-llm reply with exactly `chunks` TEXT chunks: it
// answers "Echo: <content>" cut after every space, so C-1 words give C pieces.
func streamContent(chunks int) string {
	if chunks <= 1 {
		return ""
	}
	return strings.TrimSuffix(strings.Repeat("w ", chunks-1), " ")
}

// streamOnce reads one GenerateStreaming call to its end and returns the
// number of TEXT chunks and the time from the call to the end of stream.
func streamOnce(llm pb.LLMProviderClient, content string) (int, time.Duration, error) {
	req := &pb.GenerateRequest{Messages: []*pb.Message{{Role: "user", Content: content}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	start := time.Now()
	stream, err := llm.GenerateStreaming(ctx, req)
	if err != nil {
		return 0, 0, fmt.Errorf("GenerateStreaming: %w", err)
	}
	texts, done := 0, false
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return texts, 0, fmt.Errorf("GenerateStreaming after %d chunks: %w", texts, err)
		}
		switch chunk.GetType() {
		case pb.StreamChunk_TEXT:
			texts++
		case pb.StreamChunk_DONE:
			done = true
		case pb.StreamChunk_ERROR:
			return texts, 0, fmt.Errorf("GenerateStreaming: ERROR chunk: %s", chunk.GetError())
		}
	}
	elapsed := time.Since(start)
	if !done {
		return texts, elapsed, fmt.Errorf("GenerateStreaming: stream ended without a DONE chunk")
	}
	return texts, elapsed, nil
}

// streamChecked is streamOnce that also insists on exactly `want` TEXT chunks:
// a different count means the plugin is not the echo plugin we think it is,
// and chunks/s would be wrong.
func streamChecked(llm pb.LLMProviderClient, content string, want int) (time.Duration, error) {
	got, elapsed, err := streamOnce(llm, content)
	if err != nil {
		return 0, err
	}
	if got != want {
		return 0, fmt.Errorf("GenerateStreaming: received %d TEXT chunks, expected %d", got, want)
	}
	return elapsed, nil
}

// runStream measures chunks/s per round. The warm-up uses the same total
// number of calls as the unary warm-up, but short 10-chunk streams: `warm`
// full-size streams would take longer than the measurement itself.
func runStream(llm pb.LLMProviderClient, chunks, rounds, warm int) ([]float64, error) {
	const warmChunks = 10
	warmContent := streamContent(warmChunks)
	for range warm {
		if _, err := streamChecked(llm, warmContent, warmChunks); err != nil {
			return nil, err
		}
	}
	// One full-size stream too, so buffers and flow-control windows have grown.
	content := streamContent(chunks)
	if _, err := streamChecked(llm, content, chunks); err != nil {
		return nil, err
	}

	var rates []float64
	for round := 1; round <= rounds; round++ {
		elapsed, err := streamChecked(llm, content, chunks)
		if err != nil {
			return nil, err
		}
		rates = append(rates, perSecond(chunks, elapsed))
		logf("  stream round %d/%d: %d chunks in %.1f ms, %.0f chunks/s",
			round, rounds, chunks, millis(elapsed), rates[len(rates)-1])
	}
	return rates, nil
}
