package main

import "math"

const (
	fnvOffset uint64 = 0xcbf29ce484222325
	fnvPrime  uint64 = 0x00000100000001b3
)

// embed is the embedding both example embedders compute (this one and its
// Rust twin, examples/rust-embedder/src/embedding.rs), bit for bit.
//
// The text's bytes, ASCII letters lower-cased, framed by one space on each
// side, are cut into every run of 3 consecutive bytes. Each trigram's 64-bit
// FNV-1a hash picks a component (hash % dimension) and a sign (its top bit
// set: -1, else +1), added to that component. The sum is scaled to length 1:
// the norm is computed in float64 over the components in order, and each
// component is float32(float64(x) / norm). Counts are small integers, exact
// in float32, so both languages round the same way.
func embed(text string, dimension int) []float32 {
	framed := make([]byte, 0, len(text)+2)
	framed = append(framed, ' ')
	for i := 0; i < len(text); i++ {
		b := text[i]
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		framed = append(framed, b)
	}
	framed = append(framed, ' ')

	vector := make([]float32, dimension)
	for i := 0; i+3 <= len(framed); i++ {
		hash := fnv1a(framed[i : i+3])
		if hash>>63 == 1 {
			vector[hash%uint64(dimension)]--
		} else {
			vector[hash%uint64(dimension)]++
		}
	}
	var sum float64
	for _, x := range vector {
		sum += float64(x) * float64(x)
	}
	if norm := math.Sqrt(sum); norm > 0 {
		for i, x := range vector {
			vector[i] = float32(float64(x) / norm)
		}
	}
	return vector
}

func fnv1a(bytes []byte) uint64 {
	hash := fnvOffset
	for _, b := range bytes {
		hash ^= uint64(b)
		hash *= fnvPrime
	}
	return hash
}
