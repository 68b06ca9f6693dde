//! The `EtaError` hierarchy: the classes are defined in Python (`eta_hamming/_errors.py`, so that
//! they can derive from both `EtaError` and `ValueError` / `TypeError`); this file maps the
//! library's [`Error`] and the bindings' own checks onto them, with the library's message.

use eta_hamming::Error;
use pyo3::prelude::*;

/// An exception of class `name` (of `eta_hamming._errors`) with `message` and `status` (the C
/// status code; -1 for the bindings' own checks, which have no C equivalent).
fn make(py: Python<'_>, name: &str, message: String, status: i32) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("eta_hamming._errors")?.getattr(name)?;
        let inst = cls.call1((message.clone(),))?;
        inst.setattr("status", status)?;
        Ok(PyErr::from_value(inst))
    };
    build().unwrap_or_else(|e| e)
}

pub fn dtype_err(py: Python<'_>, message: String) -> PyErr {
    make(py, "DTypeError", message, -1)
}

pub fn shape_err(py: Python<'_>, message: String) -> PyErr {
    make(py, "ShapeError", message, -1)
}

pub fn contiguity(py: Python<'_>, message: String) -> PyErr {
    make(py, "ContiguityError", message, -1)
}

pub fn alignment(py: Python<'_>, message: String) -> PyErr {
    make(
        py,
        "AlignmentError",
        message,
        Error::Misaligned { what: "", align: 0 }.status() as i32,
    )
}

pub fn overlap(py: Python<'_>, message: String) -> PyErr {
    make(
        py,
        "OverlapError",
        message,
        Error::Overlap { what: "" }.status() as i32,
    )
}

pub fn bits_err(py: Python<'_>, message: String) -> PyErr {
    make(
        py,
        "InvalidBitsError",
        message,
        Error::InvalidBits { m: 0 }.status() as i32,
    )
}

pub fn ids_err(py: Python<'_>, message: String) -> PyErr {
    make(
        py,
        "IdOutOfRangeError",
        message,
        Error::IdOutOfRange {
            position: 0,
            id: 0,
            table_len: 0,
        }
        .status() as i32,
    )
}

/// The library's error as its Python class, with its `Display` message.
pub fn lib_err(py: Python<'_>, e: Error) -> PyErr {
    let name = match &e {
        Error::InvalidBits { .. } => "InvalidBitsError",
        Error::IdOutOfRange { .. } => "IdOutOfRangeError",
        Error::Misaligned { .. } => "AlignmentError",
        Error::Overlap { .. } => "OverlapError",
        Error::NonFiniteProjection { .. } => "NonFiniteProjectionError",
        Error::IsaUnavailable { .. } | Error::UnknownIsa => "IsaError",
        Error::Internal | Error::OutOfMemory | Error::NullPointer { .. } => "InternalError",
        _ => "ShapeError",
    };
    make(py, name, e.to_string(), e.status() as i32)
}

/// `Result<T, Error>` to `PyResult<T>`.
pub trait OrPy<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrPy<T> for Result<T, Error> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| lib_err(py, e))
    }
}
