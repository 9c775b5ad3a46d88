//! Vectors between Python and the wire without a Python float per element.
//!
//! In: a list or tuple of numbers, `array('f')`/`array('d')`, a numpy array of any float dtype
//! (converted once), or any buffer of floats. Out: one contiguous float32 block, as a numpy
//! array when numpy can be imported, else a `memoryview` of format `f` (docs/python-api.md).

use crate::errors::{config_error, type_error};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyMemoryView, PyString, PyTuple};

/// numpy, imported once; None when it is not installed.
fn numpy(py: Python<'_>) -> Option<&Bound<'_, PyModule>> {
    static NUMPY: PyOnceLock<Option<Py<PyModule>>> = PyOnceLock::new();
    NUMPY.get_or_init(py, || py.import("numpy").ok().map(Bound::unbind)).as_ref().map(|m| m.bind(py))
}

/// One vector from Python; `what` names it in errors (`vector`, `vectors[3]`).
// Its user, the database client, is being written (issue 10); the allow goes with it.
#[allow(dead_code)]
pub fn vector_from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f32>> {
    let vector = if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(type_error(format!("{what} must be a sequence or buffer of floats, not {}", type_name(value))));
    } else if let Some(array) = numpy_array(value)? {
        from_numpy(&array, what)?
    } else if let Ok(view) = PyMemoryView::from(value) {
        from_buffer(&view, what)?
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        from_sequence(value, what)?
    } else {
        return Err(type_error(format!(
            "{what} must be a list of floats, an array('f'), a numpy array or a buffer of floats, not {}",
            type_name(value)
        )));
    };
    if vector.is_empty() {
        return Err(config_error(format!("{what} is empty")));
    }
    if let Some(index) = vector.iter().position(|x| !x.is_finite()) {
        return Err(config_error(format!("{what}[{index}] is {}: a vector must hold finite numbers", vector[index])));
    }
    Ok(vector)
}

/// `value` if it is a numpy array.
fn numpy_array<'py>(value: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(numpy) = numpy(value.py()) else { return Ok(None) };
    Ok(value.is_instance(&numpy.getattr("ndarray")?)?.then(|| value.clone()))
}

fn from_numpy(array: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f32>> {
    let dtype = array.getattr("dtype")?;
    if dtype.getattr("kind")?.extract::<String>()? != "f" {
        return Err(type_error(format!("{what} must hold floats, not numpy dtype {}", dtype.str()?)));
    }
    let ndim: usize = array.getattr("ndim")?.extract()?;
    if ndim != 1 {
        return Err(type_error(format!("{what} must be one-dimensional, not a {ndim}-dimensional array")));
    }
    // One conversion to native float32 (no copy when it already is), then its bytes.
    let native = array.call_method1("astype", ("=f4",))?;
    let bytes = native.call_method0("tobytes")?;
    Ok(floats_from_bytes(bytes.cast::<PyBytes>()?.as_bytes()))
}

fn from_buffer(view: &Bound<'_, PyMemoryView>, what: &str) -> PyResult<Vec<f32>> {
    let format: String = view.getattr("format")?.extract()?;
    let ndim: usize = view.getattr("ndim")?.extract()?;
    if ndim != 1 {
        return Err(type_error(format!("{what} must be one-dimensional, not a {ndim}-dimensional buffer")));
    }
    let bytes = view.call_method0("tobytes")?;
    let bytes = bytes.cast::<PyBytes>()?.as_bytes();
    match format.trim_start_matches(['@', '=']) {
        "f" => Ok(floats_from_bytes(bytes)),
        "d" => Ok(bytes.chunks_exact(8).map(|b| f64::from_ne_bytes(b.try_into().expect("8 bytes")) as f32).collect()),
        other => {
            Err(type_error(format!("{what} must be a buffer of floats (format 'f' or 'd'), not format {other:?}")))
        }
    }
}

fn from_sequence(sequence: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f32>> {
    let mut vector = Vec::with_capacity(sequence.len()?);
    for (index, item) in sequence.try_iter()?.enumerate() {
        let item = item?;
        let number: f64 = item
            .extract()
            .map_err(|_| type_error(format!("{what}[{index}] must be a number, not {}", type_name(&item))))?;
        vector.push(number as f32);
    }
    Ok(vector)
}

fn floats_from_bytes(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_ne_bytes(b.try_into().expect("4 bytes"))).collect()
}

/// `rows` vectors of `dim` floats, row after row, as one float32 block of shape `(rows, dim)`.
// Batches of embeddings come as wire bytes (`matrix_from_le_bytes`); this one is for decoded
// floats (the database client, being written: issue 10). The allow goes when it is used.
#[allow(dead_code)]
pub fn matrix_to_py<'py>(py: Python<'py>, data: &[f32], rows: usize, dim: usize) -> PyResult<Bound<'py, PyAny>> {
    debug_assert_eq!(data.len(), rows * dim);
    shaped(py, data, (rows, dim).into_pyobject(py)?.into_any())
}

/// `rows` vectors of `dim` float32s given as little-endian bytes (as a plugin sent them), as
/// one block of shape `(rows, dim)`: on a little-endian machine one copy of the bytes, nothing
/// per float.
pub fn matrix_from_le_bytes<'py>(
    py: Python<'py>,
    bytes: &[u8],
    rows: usize,
    dim: usize,
) -> PyResult<Bound<'py, PyAny>> {
    debug_assert_eq!(bytes.len(), rows * dim * 4);
    let shape = (rows, dim).into_pyobject(py)?.into_any();
    if cfg!(target_endian = "little") {
        return float32_view(py, PyByteArray::new(py, bytes), shape);
    }
    let floats: Vec<f32> = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    shaped(py, &floats, shape)
}

/// One vector as a float32 block of shape `(len,)`.
pub fn vector_to_py<'py>(py: Python<'py>, data: &[f32]) -> PyResult<Bound<'py, PyAny>> {
    shaped(py, data, (data.len(),).into_pyobject(py)?.into_any())
}

/// The floats written once into a `bytearray`, which numpy (or a memoryview) then uses in place.
fn shaped<'py>(py: Python<'py>, data: &[f32], shape: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let block = PyByteArray::new_with(py, std::mem::size_of_val(data), |buffer| {
        for (bytes, value) in buffer.chunks_exact_mut(4).zip(data) {
            bytes.copy_from_slice(&value.to_ne_bytes());
        }
        Ok(())
    })?;
    float32_view(py, block, shape)
}

/// Native float32s in `block`, seen in place with `shape`: a numpy array, else a memoryview.
fn float32_view<'py>(
    py: Python<'py>,
    block: Bound<'py, PyByteArray>,
    shape: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    match numpy(py) {
        Some(numpy) => numpy.call_method1("frombuffer", (block, "=f4"))?.call_method1("reshape", (shape,)),
        // A byte view may be cast to any shape of floats at once.
        None => PyMemoryView::from(block.as_any())?.call_method1("cast", ("f", shape)),
    }
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}
