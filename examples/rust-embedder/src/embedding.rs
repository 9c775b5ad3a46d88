//! The embedding both example embedders compute (this one and its Go twin,
//! `examples/go/embedder/embedding.go`), bit for bit, so a host gets the same vectors from either.
//!
//! The text's bytes, ASCII letters lower-cased, framed by one space on each side, are cut into
//! every run of 3 consecutive bytes. Each trigram's 64-bit FNV-1a hash picks a component
//! (`hash % dimension`) and a sign (its top bit set: -1, else +1), added to that component.
//! The sum is scaled to length 1: the norm is computed in f64 over the components in order, and
//! each component is `(x as f64 / norm) as f32`. Counts are small integers, exact in f32, so
//! both languages round the same way.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The vector of a non-empty `text`, `dimension` (> 0) floats of length 1 (all zero in the rare
/// case every trigram cancels another).
pub fn embed(text: &str, dimension: usize) -> Vec<f32> {
    let mut vector = vec![0f32; dimension];
    embed_into(text, &mut vector);
    vector
}

/// [`embed`] written into `vector` (zeroed, of the dimension's length).
fn embed_into(text: &str, vector: &mut [f32]) {
    let dimension = vector.len() as u64;
    let lowered = |b: u8| b.to_ascii_lowercase();
    let framed = std::iter::once(b' ').chain(text.bytes().map(lowered)).chain(std::iter::once(b' '));
    let mut window = [0u8; 3];
    for (i, byte) in framed.enumerate() {
        window = [window[1], window[2], byte];
        if i < 2 {
            continue;
        }
        let hash = fnv1a(&window);
        vector[(hash % dimension) as usize] += if hash >> 63 == 1 { -1.0 } else { 1.0 };
    }
    let norm = vector.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in vector.iter_mut() {
            *x = (f64::from(*x) / norm) as f32;
        }
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_have_length_one_and_the_asked_dimension() {
        for dimension in [1, 7, 384] {
            let vector = embed("Hello, embeddings!", dimension);
            assert_eq!(vector.len(), dimension);
            let norm: f64 = vector.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-6, "{dimension}: {norm}");
        }
    }

    #[test]
    fn ascii_case_does_not_matter_and_other_texts_differ() {
        assert_eq!(embed("Hello World", 64), embed("hello world", 64));
        assert_ne!(embed("hello world", 64), embed("hello there", 64));
    }

    #[test]
    fn the_hash_is_fnv1a_64() {
        // Published FNV-1a test vectors.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    /// The same values `embedding_test.go` checks for the Go twin (computed independently).
    #[test]
    fn known_vectors() {
        assert_eq!(embed("Hello, embeddings!", 8), [-0.75, 0.0, 0.0, 0.25, -0.25, 0.0, 0.5, -0.25]);
        // 1/sqrt(3), rounded to f32: the rounding both languages must share.
        let bits: Vec<u32> = embed("abc", 4).iter().map(|x| x.to_bits()).collect();
        assert_eq!(bits, [0xbf13_cd3a, 0, 0x3f13_cd3a, 0xbf13_cd3a]);
    }
}
