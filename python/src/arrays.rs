//! Checks at the boundary: every array the bindings read or write is inspected here (type,
//! dtype, byte order, shape, strides, alignment, writability) and turned into a raw span that
//! the Rust API can take as a slice. Nothing outside an array's own elements (and, for a strided
//! history, the padding between its rows, which lies inside the same buffer) is ever covered.

use eta_hamming::LaneType;
use numpy::npyffi::flags::NPY_ARRAY_WRITEABLE;
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::errors::{alignment, contiguity, dtype_err, overlap, shape_err};

/// An array's memory as the bindings see it: a start pointer and a span in elements.
#[derive(Clone, Copy)]
pub struct Span {
    pub ptr: *mut u8,
    /// Elements covered from `ptr`.
    pub len: usize,
    pub itemsize: usize,
    pub what: &'static str,
}

impl Span {
    fn bytes(&self) -> (usize, usize) {
        let start = self.ptr as usize;
        (start, start + self.len * self.itemsize)
    }

    /// The span as a slice of `T`.
    ///
    /// # Safety
    /// `T` has this span's item size, `ptr` is aligned to `T` (checked by `inspect`), and the
    /// array stays alive (the caller holds it) for `'a`.
    pub unsafe fn slice<'a, T>(&self) -> &'a [T] {
        debug_assert_eq!(core::mem::size_of::<T>(), self.itemsize);
        if self.len == 0 {
            return &[];
        }
        // SAFETY: see the function's contract; `len` elements lie in the array's buffer.
        unsafe { core::slice::from_raw_parts(self.ptr as *const T, self.len) }
    }

    /// The span as a mutable slice of `T`.
    ///
    /// # Safety
    /// As `slice`, and the array is writable and overlaps no other span in use (checked by
    /// `check_disjoint`).
    pub unsafe fn slice_mut<'a, T>(&self) -> &'a mut [T] {
        debug_assert_eq!(core::mem::size_of::<T>(), self.itemsize);
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as above; the caller guarantees exclusivity.
        unsafe { core::slice::from_raw_parts_mut(self.ptr as *mut T, self.len) }
    }
}

/// Everything about one array.
pub struct Info<'py> {
    pub arr: Bound<'py, PyUntypedArray>,
    pub what: &'static str,
    pub shape: Vec<usize>,
    /// In elements; every one non-negative and a multiple of the item size (checked).
    pub strides: Vec<usize>,
    pub itemsize: usize,
    pub ptr: *mut u8,
}

/// The element kinds the bindings distinguish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Unsigned or signed integer of this many bytes (bit patterns).
    Int(usize, bool),
    F32,
    F16,
    /// `ml_dtypes.bfloat16` or any 2-byte dtype named `bfloat16`.
    Bf16,
    Other,
}

pub fn kind(info: &Info<'_>) -> Kind {
    let dt = info.arr.dtype();
    if dt.is_native_byteorder() == Some(false) {
        return Kind::Other;
    }
    match (dt.kind(), dt.itemsize()) {
        (b'u', n @ (1 | 2 | 4 | 8)) => Kind::Int(n, false),
        (b'i', n @ (1 | 2 | 4 | 8)) => Kind::Int(n, true),
        (b'f', 4) => Kind::F32,
        (b'f', 2) => Kind::F16,
        (_, 2) if dtype_name(info) == "bfloat16" => Kind::Bf16,
        _ => Kind::Other,
    }
}

pub fn dtype_name(info: &Info<'_>) -> String {
    info.arr
        .dtype()
        .getattr("name")
        .and_then(|n| n.extract::<String>())
        .unwrap_or_else(|_| "?".into())
}

/// Inspects `obj`, which must be a numpy array (the Python layer converts DLPack and buffer
/// objects first): non-negative strides that are whole elements, and a pointer aligned to the
/// element size.
pub fn inspect<'py>(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<Info<'py>> {
    let py = obj.py();
    let arr = obj
        .cast::<PyUntypedArray>()
        .map_err(|_| {
            dtype_err(
                py,
                format!(
                    "{what}: expected a numpy array (or a DLPack / buffer-protocol object), got {}",
                    obj.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ),
            )
        })?
        .clone();
    let itemsize = arr.dtype().itemsize();
    let shape = arr.shape().to_vec();
    let mut strides = Vec::with_capacity(shape.len());
    for (&s, &n) in arr.strides().iter().zip(&shape) {
        if n <= 1 {
            // The stride of a dimension of size 0 or 1 is never used.
            strides.push(0);
            continue;
        }
        if s < 0 || itemsize == 0 || !(s as usize).is_multiple_of(itemsize) {
            return Err(contiguity(
                py,
                format!("{what}: negative or fractional strides are not supported (strides {:?} bytes); pass numpy.ascontiguousarray(x)", arr.strides()),
            ));
        }
        strides.push(s as usize / itemsize);
    }
    // SAFETY: `arr` is a live numpy array; reading its data pointer is a field read.
    let ptr = unsafe { (*arr.as_array_ptr()).data } as *mut u8;
    let info = Info {
        arr,
        what,
        shape,
        strides,
        itemsize,
        ptr,
    };
    if kind(&info) == Kind::Other {
        return Err(dtype_err(
            py,
            format!(
                "{what}: unsupported dtype {} (fingerprints: native-endian integers; embeddings: float32, float16, bfloat16)",
                dtype_name(&info)
            ),
        ));
    }
    if info.size() > 0 && itemsize > 1 && !(ptr as usize).is_multiple_of(itemsize) {
        return Err(alignment(
            py,
            format!(
                "{what}: the data is not aligned to its {itemsize}-byte elements; pass a copy (numpy.array(x))"
            ),
        ));
    }
    Ok(info)
}

impl<'py> Info<'py> {
    fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Requires C order with no gaps; returns the span of all elements.
    pub fn contiguous(&self) -> PyResult<Span> {
        if self.size() == 0 {
            return Ok(self.span(0));
        }
        let mut expect = 1usize;
        for (&n, &s) in self.shape.iter().zip(&self.strides).rev() {
            if n > 1 && s != expect {
                return Err(contiguity(
                    self.arr.py(),
                    format!(
                        "{}: must be C-contiguous (shape {:?}, strides {:?} bytes); pass numpy.ascontiguousarray(x) (a copy)",
                        self.what,
                        self.shape,
                        self.arr.strides()
                    ),
                ));
            }
            expect *= n;
        }
        Ok(self.span(self.size()))
    }

    pub fn span(&self, len: usize) -> Span {
        Span {
            ptr: if len == 0 {
                core::ptr::NonNull::<u64>::dangling().as_ptr() as *mut u8
            } else {
                self.ptr
            },
            len,
            itemsize: self.itemsize,
            what: self.what,
        }
    }

    pub fn require_writable(&self) -> PyResult<()> {
        // SAFETY: a field read of a live array.
        let flags = unsafe { (*self.arr.as_array_ptr()).flags };
        if flags & NPY_ARRAY_WRITEABLE == 0 {
            return Err(dtype_err(
                self.arr.py(),
                format!("{}: the output array is read-only", self.what),
            ));
        }
        Ok(())
    }

    pub fn ndim_in(&self, dims: &[usize], form: &str) -> PyResult<()> {
        if dims.contains(&self.shape.len()) {
            Ok(())
        } else {
            Err(shape_err(
                self.arr.py(),
                format!("{}: expected shape {form}, got {:?}", self.what, self.shape),
            ))
        }
    }

    pub fn expect_shape(&self, shape: &[usize], form: &str) -> PyResult<()> {
        if self.shape == shape {
            Ok(())
        } else {
            Err(shape_err(
                self.arr.py(),
                format!(
                    "{}: expected shape {form} = {:?}, got {:?}",
                    self.what, shape, self.shape
                ),
            ))
        }
    }
}

/// The lane type of an integer array (signed integers are read as the bit patterns of the
/// unsigned lanes of the same width).
pub fn lane_of(info: &Info<'_>) -> PyResult<LaneType> {
    match kind(info) {
        Kind::Int(1, _) => Ok(LaneType::U8),
        Kind::Int(2, _) => Ok(LaneType::U16),
        Kind::Int(4, _) => Ok(LaneType::U32),
        Kind::Int(8, _) => Ok(LaneType::U64),
        _ => Err(dtype_err(
            info.arr.py(),
            format!(
                "{}: fingerprints must be an integer array (uint8/16/32/64 lanes), got dtype {}",
                info.what,
                dtype_name(info)
            ),
        )),
    }
}

/// Fingerprints in query layout: `(n, lanes)`, or `(n,)` for one lane; C-contiguous.
pub struct Fps {
    pub lane: LaneType,
    pub n: usize,
    pub lanes: usize,
    pub span: Span,
}

pub fn fingerprints(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Fps> {
    let info = inspect(obj, what)?;
    info.ndim_in(&[1, 2], "(n, lanes) or (n,)")?;
    let lane = lane_of(&info)?;
    let n = info.shape[0];
    let lanes = if info.shape.len() == 2 {
        info.shape[1]
    } else {
        1
    };
    let span = info.contiguous()?;
    Ok(Fps {
        lane,
        n,
        lanes,
        span,
    })
}

/// One history: `(lanes, L)` (or `(L,)`) whose items are contiguous and whose rows lie `stride
/// >= L` elements apart.
pub struct Hist {
    pub lane: LaneType,
    pub lanes: usize,
    pub len: usize,
    pub stride: usize,
    pub span: Span,
}

pub fn history(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Hist> {
    let info = inspect(obj, what)?;
    info.ndim_in(&[1, 2], "(lanes, L) or (L,)")?;
    let lane = lane_of(&info)?;
    let (lanes, len) = if info.shape.len() == 2 {
        (info.shape[0], info.shape[1])
    } else {
        (1, info.shape[0])
    };
    let item = *info.strides.last().unwrap_or(&1);
    if len > 1 && item != 1 {
        return Err(items_not_contiguous(&info));
    }
    let stride = if info.shape.len() == 2 && lanes > 1 {
        info.strides[0]
    } else {
        len
    };
    if stride < len {
        return Err(rows_overlap(&info, stride, len));
    }
    let span = if len == 0 || lanes == 0 {
        0
    } else {
        (lanes - 1) * stride + len
    };
    Ok(Hist {
        lane,
        lanes,
        len,
        stride,
        span: info.span(span),
    })
}

/// Per-query histories: `(B, lanes, L)` (or `(B, L)`), items contiguous, lane rows `stride >= L`
/// apart and history `b` starting `lanes * stride` after history `b - 1` (the layout the
/// library writes).
pub struct Hists {
    pub lane: LaneType,
    pub b: usize,
    pub lanes: usize,
    pub cap: usize,
    pub stride: usize,
    pub span: Span,
}

pub fn histories(obj: &Bound<'_, PyAny>, what: &'static str) -> PyResult<Hists> {
    let info = inspect(obj, what)?;
    info.ndim_in(&[2, 3], "(B, lanes, L) or (B, L)")?;
    let lane = lane_of(&info)?;
    let three = info.shape.len() == 3;
    let b = info.shape[0];
    let (lanes, cap) = if three {
        (info.shape[1], info.shape[2])
    } else {
        (1, info.shape[1])
    };
    let item = *info.strides.last().unwrap_or(&1);
    if cap > 1 && item != 1 {
        return Err(items_not_contiguous(&info));
    }
    let row = if three { info.strides[1] } else { 0 };
    let hist = info.strides[0];
    // The lane-row stride: from the lane dimension when there are several lanes, else from
    // the history dimension.
    let stride = if lanes > 1 {
        row
    } else if b > 1 {
        hist
    } else {
        cap
    };
    if cap > 0 && b > 0 && lanes > 0 {
        if stride < cap {
            return Err(rows_overlap(&info, stride, cap));
        }
        if b > 1 && hist != lanes * stride {
            return Err(contiguity(
                obj.py(),
                format!(
                    "{what}: history b must start lanes * stride = {} elements after history b - 1 (the layout encode_histories and histories_gather write), got {hist}",
                    lanes * stride
                ),
            ));
        }
    }
    let span = if cap == 0 || b == 0 || lanes == 0 {
        0
    } else {
        (b * lanes - 1) * stride + cap
    };
    Ok(Hists {
        lane,
        b,
        lanes,
        cap,
        stride: if cap == 0 { 0 } else { stride },
        span: info.span(span),
    })
}

fn items_not_contiguous(info: &Info<'_>) -> PyErr {
    contiguity(
        info.arr.py(),
        format!(
            "{}: the items of a history must be contiguous (last stride one element), got strides {:?} bytes",
            info.what,
            info.arr.strides()
        ),
    )
}

fn rows_overlap(info: &Info<'_>, stride: usize, len: usize) -> PyErr {
    contiguity(
        info.arr.py(),
        format!(
            "{}: lane rows {stride} elements apart cannot hold {len} items",
            info.what
        ),
    )
}

/// `OverlapError` when any output span shares a byte with any other span.
pub fn check_disjoint(py: Python<'_>, outputs: &[Span], inputs: &[Span]) -> PyResult<()> {
    for (i, o) in outputs.iter().enumerate() {
        let (a0, a1) = o.bytes();
        if a0 == a1 {
            continue;
        }
        for other in outputs[i + 1..].iter().chain(inputs) {
            let (b0, b1) = other.bytes();
            if b0 < b1 && a0 < b1 && b0 < a1 {
                return Err(overlap(
                    py,
                    format!(
                        "an output buffer overlaps an input or another output ({} and {})",
                        o.what, other.what
                    ),
                ));
            }
        }
    }
    Ok(())
}
