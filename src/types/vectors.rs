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
    checked(vector, what)
}

/// Several vectors from Python: a two-dimensional numpy array or buffer of floats (such as the
/// block an embedder returns; converted once, then cut into rows), or a list of vectors of any
/// of the kinds [`vector_from_py`] takes; `what[i]` names each in errors.
pub fn vectors_from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Vec<f32>>> {
    if let Some(array) = numpy_array(value)? {
        return rows_from_numpy(&array, what);
    }
    if let Some(view) = buffer_of_ndim(value, 2)? {
        let (rows, dim): (usize, usize) = view.getattr("shape")?.extract()?;
        return cut_into_rows(floats_from_buffer(&view, what)?, rows, dim, what);
    }
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Err(type_error(format!(
            "{what} must be a list of vectors or a 2-dimensional array, not {}",
            type_name(value)
        )));
    }
    let items = value.try_iter().map_err(|_| {
        type_error(format!("{what} must be a list of vectors or a 2-dimensional array, not {}", type_name(value)))
    })?;
    items.enumerate().map(|(index, item)| vector_from_py(&item?, &format!("{what}[{index}]"))).collect()
}

/// A vector that may go on the wire: not empty, finite numbers only.
fn checked(vector: Vec<f32>, what: &str) -> PyResult<Vec<f32>> {
    if vector.is_empty() {
        return Err(config_error(format!("{what} is empty")));
    }
    if let Some(index) = vector.iter().position(|x| !x.is_finite()) {
        return Err(config_error(format!("{what}[{index}] is {}: a vector must hold finite numbers", vector[index])));
    }
    Ok(vector)
}

fn rows_from_numpy(array: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Vec<f32>>> {
    let ndim: usize = array.getattr("ndim")?.extract()?;
    if ndim != 2 {
        return Err(type_error(format!(
            "{what} must be a 2-dimensional array (one row per vector), not {ndim}-dimensional"
        )));
    }
    let (rows, dim): (usize, usize) = array.getattr("shape")?.extract()?;
    cut_into_rows(floats_from_numpy(array, what)?, rows, dim, what)
}

/// `rows` vectors of `dim` floats laid end to end, each checked.
fn cut_into_rows(floats: Vec<f32>, rows: usize, dim: usize, what: &str) -> PyResult<Vec<Vec<f32>>> {
    if dim == 0 {
        return (0..rows).map(|index| checked(Vec::new(), &format!("{what}[{index}]"))).collect();
    }
    floats
        .chunks_exact(dim)
        .enumerate()
        .map(|(index, row)| checked(row.to_vec(), &format!("{what}[{index}]")))
        .collect()
}

/// `value` if it is a numpy array.
fn numpy_array<'py>(value: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(numpy) = numpy(value.py()) else { return Ok(None) };
    Ok(value.is_instance(&numpy.getattr("ndarray")?)?.then(|| value.clone()))
}

fn from_numpy(array: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f32>> {
    let ndim: usize = array.getattr("ndim")?.extract()?;
    if ndim != 1 {
        return Err(type_error(format!("{what} must be one-dimensional, not a {ndim}-dimensional array")));
    }
    floats_from_numpy(array, what)
}

/// A float array's elements in C order, as float32.
fn floats_from_numpy(array: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<f32>> {
    let dtype = array.getattr("dtype")?;
    if dtype.getattr("kind")?.extract::<String>()? != "f" {
        return Err(type_error(format!("{what} must hold floats, not numpy dtype {}", dtype.str()?)));
    }
    // One conversion to native float32 (no copy when it already is), then its bytes.
    let options = pyo3::types::PyDict::new(array.py());
    options.set_item("copy", false)?;
    let native = array.call_method("astype", ("=f4",), Some(&options))?;
    let bytes = native.call_method0("tobytes")?;
    Ok(floats_from_bytes(bytes.cast::<PyBytes>()?.as_bytes()))
}

fn from_buffer(view: &Bound<'_, PyMemoryView>, what: &str) -> PyResult<Vec<f32>> {
    let ndim: usize = view.getattr("ndim")?.extract()?;
    if ndim != 1 {
        return Err(type_error(format!("{what} must be one-dimensional, not a {ndim}-dimensional buffer")));
    }
    floats_from_buffer(view, what)
}

/// A memoryview of `value` if it is a buffer (not str or bytes) of `ndim` dimensions.
fn buffer_of_ndim<'py>(value: &Bound<'py, PyAny>, ndim: usize) -> PyResult<Option<Bound<'py, PyMemoryView>>> {
    if value.is_instance_of::<PyBytes>() {
        return Ok(None);
    }
    let Ok(view) = PyMemoryView::from(value) else { return Ok(None) };
    Ok((view.getattr("ndim")?.extract::<usize>()? == ndim).then_some(view))
}

/// A buffer's elements in C order, as float32 (format `f` or `d`).
fn floats_from_buffer(view: &Bound<'_, PyMemoryView>, what: &str) -> PyResult<Vec<f32>> {
    let format: String = view.getattr("format")?.extract()?;
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
