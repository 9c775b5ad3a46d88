//! Bytes-like Python objects (the serialized messages of raw calls) into `Bytes`.

use bytes::Bytes;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView};

/// bytes, bytearray, memoryview or anything with the buffer protocol; None for anything else.
/// The extension uses the stable ABI of Python 3.9 (abi3), where `PyBuffer` is missing: bytes are
/// read in place, other buffers through a memoryview (it accepts exactly the buffer protocol).
pub fn bytes_like(value: &Bound<'_, PyAny>) -> PyResult<Option<Bytes>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(Some(Bytes::copy_from_slice(bytes.as_bytes())));
    }
    let Ok(view) = PyMemoryView::from(value) else {
        return Ok(None);
    };
    let copy = view.call_method0("tobytes")?;
    Ok(Some(Bytes::copy_from_slice(copy.cast::<PyBytes>()?.as_bytes())))
}

/// The type name an error message shows for `value`.
pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// Whether `value` is bytes-like, without copying it.
pub fn is_bytes_like(value: &Bound<'_, PyAny>) -> bool {
    value.cast::<PyBytes>().is_ok() || PyMemoryView::from(value).is_ok()
}
