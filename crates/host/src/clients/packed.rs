//! Answers whose `repeated float` field is kept as the bytes the wire carries, so a large block
//! of vectors reaches Python in one copy instead of being decoded float by float.
//!
//! proto3 packs a `repeated float` as one length-delimited run of little-endian floats: the same
//! wire form as a `bytes` field, which the decoder hands over without copying it (a slice of the
//! received buffer). A sender may also write the floats unpacked, one 32-bit field each, or in
//! several runs; parsers must accept all of these, and so does this one (gathering them).

use bytes::{Bytes, BytesMut};
use prost::encoding::{self, DecodeContext, WireType};
use prost::DecodeError;

/// Little-endian float32s, as received.
#[derive(Debug, Clone, PartialEq)]
pub enum FloatBytes {
    /// One packed run (the usual case): a slice of the received message, not a copy.
    Run(Bytes),
    /// Several runs, or unpacked floats, gathered.
    Gathered(BytesMut),
}

impl Default for FloatBytes {
    fn default() -> Self {
        FloatBytes::Run(Bytes::new())
    }
}

impl FloatBytes {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            FloatBytes::Run(bytes) => bytes,
            FloatBytes::Gathered(bytes) => bytes,
        }
    }

    /// The bytes, without a copy for a single run.
    pub fn into_bytes(self) -> Bytes {
        match self {
            FloatBytes::Run(bytes) => bytes,
            FloatBytes::Gathered(bytes) => bytes.freeze(),
        }
    }

    fn push(&mut self, more: &[u8]) {
        match self {
            FloatBytes::Run(run) if run.is_empty() => *run = Bytes::copy_from_slice(more),
            FloatBytes::Run(run) => {
                let mut gathered = BytesMut::with_capacity(run.len() + more.len());
                gathered.extend_from_slice(run);
                gathered.extend_from_slice(more);
                *self = FloatBytes::Gathered(gathered);
            }
            FloatBytes::Gathered(gathered) => gathered.extend_from_slice(more),
        }
    }

    /// One occurrence of the field: a packed run (kept as is when it is the first), or one
    /// unpacked float.
    fn merge(&mut self, wire_type: WireType, buf: &mut impl bytes::Buf, ctx: DecodeContext) -> Result<(), DecodeError> {
        if wire_type == WireType::ThirtyTwoBit {
            let mut value = 0f32;
            encoding::float::merge(wire_type, &mut value, buf, ctx)?;
            self.push(&value.to_le_bytes());
            return Ok(());
        }
        let mut run = Bytes::new();
        encoding::bytes::merge(wire_type, &mut run, buf, ctx)?;
        match self {
            FloatBytes::Run(first) if first.is_empty() => *first = run,
            _ => self.push(&run),
        }
        Ok(())
    }
}

/// `EmbedBatchResponse` (docs/protocol.md §7.5) with `vectors` (field 1) as [`FloatBytes`].
/// Its encoding is the packed form, the same bytes as the generated message's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackedEmbedBatchResponse {
    pub vectors: FloatBytes,
    pub dimension: i32,
    pub error: String,
}

impl prost::Message for PackedEmbedBatchResponse {
    fn encode_raw(&self, buf: &mut impl bytes::BufMut) {
        let vectors = self.vectors.as_bytes();
        if !vectors.is_empty() {
            encoding::bytes::encode(1, &self.vectors.clone().into_bytes(), buf);
        }
        if self.dimension != 0 {
            encoding::int32::encode(2, &self.dimension, buf);
        }
        if !self.error.is_empty() {
            encoding::string::encode(3, &self.error, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl bytes::Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => self.vectors.merge(wire_type, buf, ctx),
            2 => encoding::int32::merge(wire_type, &mut self.dimension, buf, ctx),
            3 => encoding::string::merge(wire_type, &mut self.error, buf, ctx),
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        let vectors = self.vectors.as_bytes().len();
        (if vectors > 0 { encoding::key_len(1) + encoding::encoded_len_varint(vectors as u64) + vectors } else { 0 })
            + (if self.dimension != 0 { encoding::int32::encoded_len(2, &self.dimension) } else { 0 })
            + (if self.error.is_empty() { 0 } else { encoding::string::encoded_len(3, &self.error) })
    }

    fn clear(&mut self) {
        *self = PackedEmbedBatchResponse::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::hector::EmbedBatchResponse;
    use prost::Message;

    fn floats(bytes: &[u8]) -> Vec<f32> {
        bytes.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
    }

    #[test]
    fn a_packed_answer_is_kept_as_one_slice_of_the_message() {
        let sent = EmbedBatchResponse { vectors: vec![1.0, -2.5, 3.25, 0.0], dimension: 2, error: String::new() };
        let wire = Bytes::from(sent.encode_to_vec());
        let got = PackedEmbedBatchResponse::decode(wire.clone()).unwrap();
        assert_eq!(got.dimension, 2);
        assert_eq!(floats(got.vectors.as_bytes()), sent.vectors);
        let FloatBytes::Run(run) = &got.vectors else { panic!("gathered: {got:?}") };
        assert!(wire.as_ptr_range().contains(&run.as_ptr()), "a copy, not a slice of the received bytes");
        // And it encodes back to the same bytes.
        assert_eq!(got.encode_to_vec(), wire.to_vec());
        assert_eq!(got.encoded_len(), wire.len());
    }

    #[test]
    fn unpacked_floats_and_several_runs_are_gathered_in_order() {
        let mut wire = Vec::new();
        for x in [1.5f32, 2.5] {
            encoding::float::encode(1, &x, &mut wire); // unpacked: one field per float
        }
        encoding::string::encode(3, &"partial".to_string(), &mut wire);
        let run: Vec<u8> = [3.5f32, 4.5].iter().flat_map(|x| x.to_le_bytes()).collect();
        encoding::bytes::encode(1, &run, &mut wire); // then a packed run
        encoding::uint64::encode(9, &7, &mut wire); // an unknown field is skipped
        let got = PackedEmbedBatchResponse::decode(wire.as_slice()).unwrap();
        assert_eq!(floats(got.vectors.as_bytes()), [1.5, 2.5, 3.5, 4.5]);
        assert_eq!(got.error, "partial");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_a_decode_error() {
        let mut wire = Vec::new();
        encoding::uint64::encode(1, &7, &mut wire);
        assert!(PackedEmbedBatchResponse::decode(wire.as_slice()).is_err());
    }
}
