package main

import (
	"math"
	"reflect"
	"testing"
)

func TestFNV1a64(t *testing.T) {
	// Published FNV-1a test vectors.
	for text, want := range map[string]uint64{"": 0xcbf29ce484222325, "a": 0xaf63dc4c8601ec8c, "foobar": 0x85944171f73967e8} {
		if got := fnv1a([]byte(text)); got != want {
			t.Errorf("fnv1a(%q) = %#x, want %#x", text, got, want)
		}
	}
}

// The same values the Rust twin's tests check (computed independently).
func TestKnownVectors(t *testing.T) {
	got := embed("Hello, embeddings!", 8)
	want := []float32{-0.75, 0, 0, 0.25, -0.25, 0, 0.5, -0.25}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("embed(Hello, embeddings!, 8) = %v, want %v", got, want)
	}
	// 1/sqrt(3), rounded to float32: the rounding both languages must share.
	var bits []uint32
	for _, x := range embed("abc", 4) {
		bits = append(bits, math.Float32bits(x))
	}
	if wantBits := []uint32{0xbf13cd3a, 0, 0x3f13cd3a, 0xbf13cd3a}; !reflect.DeepEqual(bits, wantBits) {
		t.Errorf("embed(abc, 4) bits = %#x, want %#x", bits, wantBits)
	}
}

func TestCaseAndLength(t *testing.T) {
	if !reflect.DeepEqual(embed("Hello World", 64), embed("hello world", 64)) {
		t.Error("ASCII case changed the vector")
	}
	var sum float64
	for _, x := range embed("Hello, embeddings!", 384) {
		sum += float64(x) * float64(x)
	}
	if math.Abs(math.Sqrt(sum)-1) > 1e-6 {
		t.Errorf("norm %v, want 1", math.Sqrt(sum))
	}
}
