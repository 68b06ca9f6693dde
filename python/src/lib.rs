//! `eta_hamming._native`: the PyO3 layer over the `eta-hamming` Rust API. Every function takes
//! numpy arrays (the Python layer, `eta_hamming/__init__.py`, converts DLPack and buffer objects
//! and allocates outputs), checks them all (`arrays`), then calls the Rust API with the GIL
//! released (`py.detach`). Outputs are always caller arrays (`out`), written only after every
//! check passed: on error nothing is written.

#[cfg(not(target_endian = "little"))]
compile_error!("eta-hamming's Python bindings assume a little-endian target");

mod arrays;
mod errors;

use std::borrow::Cow;

use eta_hamming::{
    history_from_fingerprints_into, history_gather_into, Bf16, Engine, FingerprintsRef,
    HistoryBatchRef, HistoryRef, Isa, LaneType, Layout, SimHasher, EMPTY_DISTANCE, EMPTY_INDEX,
    F16, MAX_BITS,
};
use numpy::{PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use arrays::{check_disjoint, fingerprints, histories, history, inspect, kind, Kind, Span};
use errors::{bits_err, dtype_err, ids_err, shape_err, OrPy};

/// Runs `$body` with `$t` bound to the Rust lane type of a [`LaneType`].
macro_rules! with_lane {
    ($lt:expr, $t:ident => $body:expr) => {
        match $lt {
            LaneType::U8 => {
                type $t = u8;
                $body
            }
            LaneType::U16 => {
                type $t = u16;
                $body
            }
            LaneType::U32 => {
                type $t = u32;
                $body
            }
            LaneType::U64 => {
                type $t = u64;
                $body
            }
        }
    };
}

/// Runs `$body` with `$e` bound to the embedding element type.
macro_rules! with_elem {
    ($el:expr, $e:ident => $body:expr) => {
        match $el {
            Elem::F32 => {
                type $e = f32;
                $body
            }
            Elem::Bf16 => {
                type $e = Bf16;
                $body
            }
            Elem::F16 => {
                type $e = F16;
                $body
            }
        }
    };
}

#[derive(Clone, Copy)]
enum Elem {
    F32,
    Bf16,
    F16,
}

fn lane_name(lt: LaneType) -> &'static str {
    match lt {
        LaneType::U8 => "uint8",
        LaneType::U16 => "uint16",
        LaneType::U32 => "uint32",
        LaneType::U64 => "uint64",
    }
}

/// The layout `m` (given, or the widest `m` of the arrays' layout) and a check that the
/// arrays' lane type and lane count are that layout's.
fn resolve_m(
    py: Python<'_>,
    m: Option<usize>,
    parts: &[(&str, LaneType, usize)],
) -> PyResult<Layout> {
    let (first, lt, lanes) = parts[0];
    let m = match m {
        Some(m) => m,
        None => match lt {
            LaneType::U64 => 64 * lanes.max(1),
            LaneType::U32 => 32,
            LaneType::U16 => 16,
            LaneType::U8 => 8,
        },
    };
    let layout = Layout::new(m).py_err(py)?;
    for &(what, lt2, lanes2) in parts {
        if lt2 != layout.lane_type() || lanes2 != layout.lanes() {
            return Err(bits_err(
                py,
                format!(
                    "{what}: m = {m} needs {} lane(s) of {}, got {lanes2} lane(s) of {} (m taken from {})",
                    layout.lanes(),
                    lane_name(layout.lane_type()),
                    lane_name(lt2),
                    if first == what { "the m argument or this array" } else { first },
                ),
            ));
        }
    }
    Ok(layout)
}

/// The embedding element type of `info`, from its dtype and the optional `element` name.
fn element_of(info: &arrays::Info<'_>, element: Option<&str>) -> PyResult<Elem> {
    let py = info.arr.py();
    let k = kind(info);
    let el = match (element, k) {
        (None | Some("f32") | Some("float32"), Kind::F32) => Elem::F32,
        (None | Some("f16") | Some("float16"), Kind::F16) => Elem::F16,
        (None | Some("bf16") | Some("bfloat16"), Kind::Bf16) => Elem::Bf16,
        (Some("bf16") | Some("bfloat16"), Kind::Int(2, _)) => Elem::Bf16,
        (Some("f16") | Some("float16"), Kind::Int(2, _)) => Elem::F16,
        (Some(e), _) if !matches!(e, "f32" | "float32" | "f16" | "float16" | "bf16" | "bfloat16") => {
            return Err(dtype_err(
                py,
                format!("element must be 'f32', 'bf16' or 'f16', got {e:?}"),
            ))
        }
        (e, _) => {
            return Err(dtype_err(
                py,
                format!(
                    "{}: dtype {} does not hold {} embeddings (float32, float16, bfloat16; or uint16/int16 bit patterns with element='bf16' or 'f16')",
                    info.what,
                    arrays::dtype_name(info),
                    e.unwrap_or("float")
                ),
            ))
        }
    };
    Ok(el)
}

/// Embeddings: C-contiguous, last dimension `d`; returns the span and the row count.
fn embeddings<'py>(
    obj: &Bound<'py, PyAny>,
    d: usize,
    element: Option<&str>,
) -> PyResult<(arrays::Info<'py>, Elem, Span, usize)> {
    let info = inspect(obj, "embeddings")?;
    let el = element_of(&info, element)?;
    if info.shape.is_empty() || *info.shape.last().unwrap() != d {
        return Err(shape_err(
            obj.py(),
            format!(
                "embeddings: the last dimension must be d = {d}, got shape {:?}",
                info.shape
            ),
        ));
    }
    let span = info.contiguous()?;
    let n = span.len / d;
    Ok((info, el, span, n))
}

/// An output array: writable, of one of the lane types, with `shape`.
fn out_lanes<'py>(obj: &Bound<'py, PyAny>, what: &'static str) -> PyResult<arrays::Info<'py>> {
    let info = inspect(obj, what)?;
    info.require_writable()?;
    Ok(info)
}

/// Valid lengths `lens` (`(B,)`, any integer dtype; uint32 is read in place, others copied).
fn lens_of<'py>(obj: &Bound<'py, PyAny>, b: usize) -> PyResult<(Cow<'py, [u32]>, Span)> {
    let py = obj.py();
    let info = inspect(obj, "lens")?;
    info.expect_shape(&[b], "(B,)")?;
    let span = info.contiguous()?;
    let k = kind(&info);
    let lens: Cow<'py, [u32]> = match k {
        // SAFETY: uint32, aligned (checked), `b` elements, alive while `obj` is.
        Kind::Int(4, false) => Cow::Borrowed(unsafe { span.slice::<u32>() }),
        Kind::Int(n, signed) => {
            let arr = info.arr.call_method1("astype", ("int64",))?;
            let v: Vec<i64> = arr.call_method0("tolist")?.extract()?;
            let _ = (n, signed);
            let mut out = Vec::with_capacity(b);
            for (i, &x) in v.iter().enumerate() {
                if x < 0 || x > u32::MAX as i64 {
                    return Err(shape_err(
                        py,
                        format!("lens[{i}] = {x} is not a valid length"),
                    ));
                }
                out.push(x as u32);
            }
            Cow::Owned(out)
        }
        _ => {
            return Err(dtype_err(
                py,
                format!(
                    "lens: expected an integer array, got dtype {}",
                    arrays::dtype_name(&info)
                ),
            ))
        }
    };
    Ok((lens, span))
}

/// The `SimHasher`: `d`-dimensional embeddings to `m`-bit fingerprints.
#[pyclass(frozen, module = "eta_hamming._native")]
struct Hasher {
    inner: SimHasher,
}

#[pymethods]
impl Hasher {
    #[new]
    #[pyo3(signature = (d, m, seed = 0))]
    fn new(py: Python<'_>, d: usize, m: usize, seed: u64) -> PyResult<Self> {
        let inner = py.detach(|| SimHasher::from_seed(d, m, seed)).py_err(py)?;
        Ok(Hasher { inner })
    }

    #[staticmethod]
    fn from_projection(py: Python<'_>, proj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let info = inspect(proj, "projection")?;
        if kind(&info) != Kind::F32 {
            return Err(dtype_err(
                py,
                format!(
                    "projection: expected float32, got {}",
                    arrays::dtype_name(&info)
                ),
            ));
        }
        info.ndim_in(&[2], "(d, m)")?;
        let (d, m) = (info.shape[0], info.shape[1]);
        let span = info.contiguous()?;
        // SAFETY: float32, aligned, alive for the call.
        let p = unsafe { span.slice::<f32>() };
        let inner = py
            .detach(|| SimHasher::from_projection(d, m, p))
            .py_err(py)?;
        Ok(Hasher { inner })
    }

    #[getter]
    fn d(&self) -> usize {
        self.inner.dim()
    }

    #[getter]
    fn m(&self) -> usize {
        self.inner.bits()
    }

    #[getter]
    fn lanes(&self) -> usize {
        self.inner.layout().lanes()
    }

    #[getter]
    fn lane_dtype(&self) -> &'static str {
        lane_name(self.inner.layout().lane_type())
    }

    fn projection<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let p = numpy::PyArray1::from_slice(py, self.inner.projection());
        p.reshape([self.inner.dim(), self.inner.bits()])
    }

    fn __repr__(&self) -> String {
        format!("Hasher(d={}, m={})", self.inner.dim(), self.inner.bits())
    }

    /// Fingerprints of `emb` (`(..., d)`) into `out` (`(n, lanes)` or `(n,)`).
    #[pyo3(signature = (emb, out, element = None))]
    fn encode(
        &self,
        emb: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
        element: Option<&str>,
    ) -> PyResult<()> {
        let py = emb.py();
        let h = &self.inner;
        let (_e, el, es, n) = embeddings(emb, h.dim(), element)?;
        let o = fingerprints(out, "out")?;
        out_lanes(out, "out")?;
        resolve_m(py, Some(h.bits()), &[("out", o.lane, o.lanes)])?;
        if o.n != n {
            return Err(shape_err(
                py,
                format!("out: {n} embeddings need {n} rows, got {}", o.n),
            ));
        }
        check_disjoint(py, &[o.span], &[es])?;
        with_lane!(o.lane, T => with_elem!(el, E => {
            // SAFETY: dtypes, alignment and spans checked above; `out` overlaps nothing.
            let (x, y) = unsafe { (es.slice::<E>(), o.span.slice_mut::<T>()) };
            py.detach(|| h.encode_into::<E, T>(x, n, y)).py_err(py)
        }))
    }

    /// `emb` (`(L, d)`) as one history into `out` (`(lanes, L)`, rows at any stride >= L).
    #[pyo3(signature = (emb, out, element = None))]
    fn encode_history(
        &self,
        emb: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
        element: Option<&str>,
    ) -> PyResult<()> {
        let py = emb.py();
        let h = &self.inner;
        let (_e, el, es, n) = embeddings(emb, h.dim(), element)?;
        let o = history(out, "out")?;
        out_lanes(out, "out")?;
        resolve_m(py, Some(h.bits()), &[("out", o.lane, o.lanes)])?;
        if o.len != n {
            return Err(shape_err(
                py,
                format!(
                    "out: {n} embeddings need a history of {n} items, got {}",
                    o.len
                ),
            ));
        }
        check_disjoint(py, &[o.span], &[es])?;
        let stride = o.stride;
        with_lane!(o.lane, T => with_elem!(el, E => {
            // SAFETY: as in `encode`.
            let (x, y) = unsafe { (es.slice::<E>(), o.span.slice_mut::<T>()) };
            py.detach(|| h.encode_history_into::<E, T>(x, n, y, stride)).py_err(py)
        }))
    }

    /// `emb` (`(B, L, d)`) as `B` per-query histories into `out` (`(B, lanes, L)`); only the
    /// first `lens[b]` items of history `b` when `lens` is given (the others are left as they are).
    #[pyo3(signature = (emb, out, lens = None, element = None))]
    fn encode_histories(
        &self,
        emb: &Bound<'_, PyAny>,
        out: &Bound<'_, PyAny>,
        lens: Option<&Bound<'_, PyAny>>,
        element: Option<&str>,
    ) -> PyResult<()> {
        let py = emb.py();
        let h = &self.inner;
        let (e, el, es, _) = embeddings(emb, h.dim(), element)?;
        if e.shape.len() != 3 {
            return Err(shape_err(
                py,
                format!("embeddings: expected shape (B, L, d), got {:?}", e.shape),
            ));
        }
        let (b, cap, d) = (e.shape[0], e.shape[1], e.shape[2]);
        let o = histories(out, "out")?;
        out_lanes(out, "out")?;
        resolve_m(py, Some(h.bits()), &[("out", o.lane, o.lanes)])?;
        if o.b != b || o.cap != cap {
            return Err(shape_err(
                py,
                format!(
                    "out: expected {b} histories of {cap} items, got {} of {}",
                    o.b, o.cap
                ),
            ));
        }
        let (lens, ls) = match lens {
            Some(l) => {
                let (v, s) = lens_of(l, b)?;
                (v, Some(s))
            }
            None => (Cow::Owned(vec![cap as u32; b]), None),
        };
        if let Some((i, &len)) = lens.iter().enumerate().find(|(_, &l)| l as usize > cap) {
            return Err(eta_hamming::Error::LenExceedsCapacity {
                index: i,
                len: len as usize,
                capacity: cap,
            })
            .py_err(py);
        }
        let inputs: Vec<Span> = std::iter::once(es).chain(ls).collect();
        check_disjoint(py, &[o.span], &inputs)?;
        let (lanes, stride) = (o.lanes, o.stride);
        with_lane!(o.lane, T => with_elem!(el, E => {
            // SAFETY: as in `encode`.
            let (x, y) = unsafe { (es.slice::<E>(), o.span.slice_mut::<T>()) };
            let lens = &lens[..];
            py.detach(|| -> Result<(), eta_hamming::Error> {
                for (i, &len) in lens.iter().enumerate() {
                    let len = len as usize;
                    if len == 0 {
                        continue;
                    }
                    let start = i * lanes * stride;
                    let span = (lanes - 1) * stride + len;
                    h.encode_history_into::<E, T>(
                        &x[i * cap * d..][..len * d],
                        len,
                        &mut y[start..start + span],
                        stride,
                    )?;
                }
                Ok(())
            })
            .py_err(py)
        }))
    }
}

/// Fingerprints `fps` (`(n, lanes)`) as one history into `out` (`(lanes, n)`).
#[pyfunction]
#[pyo3(signature = (fps, out, m = None))]
fn history_from_fingerprints(
    fps: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    m: Option<usize>,
) -> PyResult<()> {
    let py = fps.py();
    let f = fingerprints(fps, "fingerprints")?;
    let o = history(out, "out")?;
    out_lanes(out, "out")?;
    let layout = resolve_m(
        py,
        m,
        &[("fingerprints", f.lane, f.lanes), ("out", o.lane, o.lanes)],
    )?;
    if o.len != f.n {
        return Err(shape_err(
            py,
            format!(
                "out: {} fingerprints need a history of {} items, got {}",
                f.n, f.n, o.len
            ),
        ));
    }
    check_disjoint(py, &[o.span], &[f.span])?;
    let (bits, stride, n) = (layout.bits(), o.stride, f.n);
    with_lane!(f.lane, T => {
        // SAFETY: lane types, alignment and spans checked; `out` overlaps nothing.
        let (x, y) = unsafe { (f.span.slice::<T>(), o.span.slice_mut::<T>()) };
        let view = FingerprintsRef::new::<T>(bits, n, x).py_err(py)?;
        py.detach(|| history_from_fingerprints_into::<T>(view, y, stride)).py_err(py)
    })
}

/// The ids as `u64` (int64 or uint64, C-contiguous); a negative id is an `IdOutOfRangeError`.
fn ids_of<'py>(
    obj: &Bound<'py, PyAny>,
    table_len: usize,
    form: &[usize],
) -> PyResult<(arrays::Info<'py>, Span)> {
    let py = obj.py();
    let info = inspect(obj, "ids")?;
    match kind(&info) {
        Kind::Int(8, _) => {}
        _ => {
            return Err(dtype_err(
                py,
                format!(
                    "ids: expected int64 or uint64 item ids, got dtype {}",
                    arrays::dtype_name(&info)
                ),
            ))
        }
    }
    if info.shape.len() != form.len() {
        return Err(shape_err(
            py,
            format!(
                "ids: expected {} dimension(s), got shape {:?}",
                form.len(),
                info.shape
            ),
        ));
    }
    let span = info.contiguous()?;
    let _ = table_len;
    Ok((info, span))
}

fn check_ids_range(
    py: Python<'_>,
    ids: &[u64],
    signed: bool,
    table_len: usize,
    cols: usize,
    positions: impl Iterator<Item = usize>,
) -> PyResult<()> {
    for p in positions {
        let id = ids[p];
        let p = match p.checked_div(cols) {
            None => format!("{p}"),
            Some(row) => format!("{row}, {}", p % cols),
        };
        if signed && (id as i64) < 0 {
            return Err(ids_err(
                py,
                format!(
                    "an item id is outside the fingerprint table (ids[{p}] = {} is negative)",
                    id as i64
                ),
            ));
        }
        if id >= table_len as u64 {
            return Err(ids_err(
                py,
                format!(
                    "an item id is outside the fingerprint table (ids[{p}] = {id}, table has {table_len} rows)"
                ),
            ));
        }
    }
    Ok(())
}

/// The history whose item `i` is row `ids[i]` of `table`, into `out` (`(lanes, L)`).
#[pyfunction]
#[pyo3(signature = (table, ids, out, m = None))]
fn history_gather(
    table: &Bound<'_, PyAny>,
    ids: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    m: Option<usize>,
) -> PyResult<()> {
    let py = table.py();
    let t = fingerprints(table, "table")?;
    let (ii, is) = ids_of(ids, t.n, &[0])?;
    let o = history(out, "out")?;
    out_lanes(out, "out")?;
    let layout = resolve_m(
        py,
        m,
        &[("table", t.lane, t.lanes), ("out", o.lane, o.lanes)],
    )?;
    if o.len != is.len {
        return Err(shape_err(
            py,
            format!(
                "out: {} ids need a history of {} items, got {}",
                is.len, is.len, o.len
            ),
        ));
    }
    check_disjoint(py, &[o.span], &[t.span, is])?;
    // SAFETY: 8-byte ids, aligned, alive for the call.
    let idv = unsafe { is.slice::<u64>() };
    check_ids_range(
        py,
        idv,
        kind(&ii) == Kind::Int(8, true),
        t.n,
        0,
        0..idv.len(),
    )?;
    let (bits, stride, n) = (layout.bits(), o.stride, t.n);
    with_lane!(t.lane, T => {
        // SAFETY: as in `history_from_fingerprints`.
        let (x, y) = unsafe { (t.span.slice::<T>(), o.span.slice_mut::<T>()) };
        let view = FingerprintsRef::new::<T>(bits, n, x).py_err(py)?;
        py.detach(|| history_gather_into::<T>(view, idv, y, stride)).py_err(py)
    })
}

/// Per-query histories gathered from `table`: history `b` holds rows `ids[b, :lens[b]]`, into
/// `out` (`(B, lanes, L)`); items past `lens[b]` are left as they are. Every id is checked
/// before anything is written.
#[pyfunction]
#[pyo3(signature = (table, ids, lens, out, m = None))]
fn histories_gather(
    table: &Bound<'_, PyAny>,
    ids: &Bound<'_, PyAny>,
    lens: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    m: Option<usize>,
) -> PyResult<()> {
    let py = table.py();
    let t = fingerprints(table, "table")?;
    let (ii, is) = ids_of(ids, t.n, &[0, 0])?;
    let (b, cap) = (ii.shape[0], ii.shape[1]);
    let (lens, ls) = lens_of(lens, b)?;
    let o = histories(out, "out")?;
    out_lanes(out, "out")?;
    let layout = resolve_m(
        py,
        m,
        &[("table", t.lane, t.lanes), ("out", o.lane, o.lanes)],
    )?;
    if o.b != b || o.cap != cap {
        return Err(shape_err(
            py,
            format!(
                "out: ids of shape ({b}, {cap}) need {b} histories of {cap} items, got {} of {}",
                o.b, o.cap
            ),
        ));
    }
    if let Some((i, &len)) = lens.iter().enumerate().find(|(_, &l)| l as usize > cap) {
        return Err(eta_hamming::Error::LenExceedsCapacity {
            index: i,
            len: len as usize,
            capacity: cap,
        })
        .py_err(py);
    }
    check_disjoint(py, &[o.span], &[t.span, is, ls])?;
    // SAFETY: as in `history_gather`.
    let idv = unsafe { is.slice::<u64>() };
    let signed = kind(&ii) == Kind::Int(8, true);
    check_ids_range(
        py,
        idv,
        signed,
        t.n,
        cap,
        lens.iter()
            .enumerate()
            .flat_map(|(q, &l)| (q * cap)..(q * cap + l as usize)),
    )?;
    let (bits, stride, lanes, n) = (layout.bits(), o.stride, o.lanes, t.n);
    with_lane!(t.lane, T => {
        // SAFETY: as in `history_from_fingerprints`.
        let (x, y) = unsafe { (t.span.slice::<T>(), o.span.slice_mut::<T>()) };
        let view = FingerprintsRef::new::<T>(bits, n, x).py_err(py)?;
        let lens = &lens[..];
        py.detach(|| -> Result<(), eta_hamming::Error> {
            for (q, &len) in lens.iter().enumerate() {
                let len = len as usize;
                if len == 0 {
                    continue;
                }
                let start = q * lanes * stride;
                let span = (lanes - 1) * stride + len;
                history_gather_into::<T>(view, &idv[q * cap..][..len], &mut y[start..start + span], stride)?;
            }
            Ok(())
        })
        .py_err(py)
    })
}

/// Index output: uint32 (as the library writes it) or int64 (widened in place, empty slots -1).
struct IdxOut {
    span: Span,
    wide: bool,
}

fn idx_out(obj: &Bound<'_, PyAny>, shape: &[usize]) -> PyResult<IdxOut> {
    let py = obj.py();
    let info = out_lanes(obj, "out indices")?;
    let wide = match kind(&info) {
        Kind::Int(4, false) => false,
        Kind::Int(8, true) => true,
        _ => {
            return Err(dtype_err(
                py,
                format!(
                    "out indices: expected uint32 or int64, got dtype {}",
                    arrays::dtype_name(&info)
                ),
            ))
        }
    };
    info.expect_shape(shape, "(B, k)")?;
    let span = info.contiguous()?;
    Ok(IdxOut { span, wide })
}

fn u16_out(
    obj: &Bound<'_, PyAny>,
    what: &'static str,
    shape: &[usize],
    form: &str,
) -> PyResult<Span> {
    let info = out_lanes(obj, what)?;
    if kind(&info) != Kind::Int(2, false) {
        return Err(dtype_err(
            obj.py(),
            format!(
                "{what}: expected uint16, got dtype {}",
                arrays::dtype_name(&info)
            ),
        ));
    }
    info.expect_shape(shape, form)?;
    info.contiguous()
}

impl IdxOut {
    /// The `u32` slots the kernel writes: the array itself, or the front of the int64 array's
    /// bytes (widened afterwards by `finish`).
    ///
    /// # Safety
    /// The span was checked (aligned, writable, disjoint from every other span).
    unsafe fn slots<'a>(&self) -> &'a mut [u32] {
        let n = self.span.len * if self.wide { 2 } else { 1 };
        let s = Span {
            len: n,
            itemsize: 4,
            ..self.span
        };
        // SAFETY: the same bytes, seen as u32 (alignment 8 or 4 >= 4).
        unsafe { s.slice_mut::<u32>() }
    }
}

/// Widens the first `n` u32 slots of `buf` (`2n` long) to little-endian i64 in place, from the
/// last to the first, so that no slot is overwritten before it is read; `EMPTY_INDEX` becomes -1.
fn widen(buf: &mut [u32], n: usize) {
    for i in (0..n).rev() {
        let v = buf[i];
        let w: i64 = if v == EMPTY_INDEX { -1 } else { v as i64 };
        buf[2 * i] = w as u32;
        buf[2 * i + 1] = (w >> 32) as u32;
    }
}

/// The checked inputs of a scan over one shared history: the queries, the history, and the
/// width `m` they agree on (`m` when given).
fn shared_inputs(
    queries: &Bound<'_, PyAny>,
    history: &Bound<'_, PyAny>,
    m: Option<usize>,
) -> PyResult<(arrays::Fps, arrays::Hist, Layout)> {
    let q = fingerprints(queries, "queries")?;
    let h = arrays::history(history, "history")?;
    let layout = resolve_m(
        queries.py(),
        m,
        &[("queries", q.lane, q.lanes), ("history", h.lane, h.lanes)],
    )?;
    Ok((q, h, layout))
}

/// The checked inputs of a scan over per-query histories: the queries, one history per query,
/// the width they agree on, and the lengths (`lens`, one per query, as `u32`, with their span).
#[allow(clippy::type_complexity)]
fn batch_inputs<'py>(
    queries: &Bound<'py, PyAny>,
    histories: &Bound<'py, PyAny>,
    lens: &Bound<'py, PyAny>,
    m: Option<usize>,
) -> PyResult<(arrays::Fps, arrays::Hists, Layout, Cow<'py, [u32]>, Span)> {
    let py = queries.py();
    let q = fingerprints(queries, "queries")?;
    let h = arrays::histories(histories, "histories")?;
    let layout = resolve_m(
        py,
        m,
        &[("queries", q.lane, q.lanes), ("histories", h.lane, h.lanes)],
    )?;
    if h.b != q.n {
        return Err(shape_err(
            py,
            format!(
                "histories: {} queries need {} histories, got {}",
                q.n, q.n, h.b
            ),
        ));
    }
    let (lens, ls) = lens_of(lens, q.n)?;
    Ok((q, h, layout, lens, ls))
}

/// Top-K over one shared history; returns the filled slots per query, `min(k, L)`.
#[pyfunction]
#[pyo3(signature = (queries, history, k, out_indices, out_distances, m = None, threads = 1))]
#[allow(clippy::too_many_arguments)]
fn topk_shared(
    queries: &Bound<'_, PyAny>,
    history: &Bound<'_, PyAny>,
    k: usize,
    out_indices: &Bound<'_, PyAny>,
    out_distances: &Bound<'_, PyAny>,
    m: Option<usize>,
    threads: usize,
) -> PyResult<usize> {
    let py = queries.py();
    let (q, h, layout) = shared_inputs(queries, history, m)?;
    let io = idx_out(out_indices, &[q.n, k])?;
    let ds = u16_out(out_distances, "out distances", &[q.n, k], "(B, k)")?;
    check_disjoint(py, &[io.span, ds], &[q.span, h.span])?;
    let (bits, n, len, stride) = (layout.bits(), q.n, h.len, h.stride);
    with_lane!(q.lane, T => {
        // SAFETY: everything checked above.
        let (qs, hs, is, dd) = unsafe {
            (q.span.slice::<T>(), h.span.slice::<T>(), io.slots(), ds.slice_mut::<u16>())
        };
        let qv = FingerprintsRef::new::<T>(bits, n, qs).py_err(py)?;
        let hv = HistoryRef::new::<T>(bits, len, stride, hs).py_err(py)?;
        let wide = io.wide;
        py.detach(|| {
            let nk = n.saturating_mul(k);
            let cut = nk.min(is.len());
            let r = Engine::current().parallel(threads).topk_shared(qv, hv, k, &mut is[..cut], dd);
            if r.is_ok() && wide {
                widen(is, nk);
            }
            r
        })
        .py_err(py)
    })
}

/// Top-K of every query over its own history (`lens[b]` valid items).
#[pyfunction]
#[pyo3(signature = (queries, histories, lens, k, out_indices, out_distances, out_filled, m = None, threads = 1))]
#[allow(clippy::too_many_arguments)]
fn topk_batch(
    queries: &Bound<'_, PyAny>,
    histories: &Bound<'_, PyAny>,
    lens: &Bound<'_, PyAny>,
    k: usize,
    out_indices: &Bound<'_, PyAny>,
    out_distances: &Bound<'_, PyAny>,
    out_filled: &Bound<'_, PyAny>,
    m: Option<usize>,
    threads: usize,
) -> PyResult<()> {
    let py = queries.py();
    let (q, h, layout, lens, ls) = batch_inputs(queries, histories, lens, m)?;
    let io = idx_out(out_indices, &[q.n, k])?;
    let ds = u16_out(out_distances, "out distances", &[q.n, k], "(B, k)")?;
    let fs = {
        let info = out_lanes(out_filled, "out filled")?;
        if kind(&info) != Kind::Int(4, false) {
            return Err(dtype_err(
                py,
                format!(
                    "out filled: expected uint32, got dtype {}",
                    arrays::dtype_name(&info)
                ),
            ));
        }
        info.expect_shape(&[q.n], "(B,)")?;
        info.contiguous()?
    };
    check_disjoint(py, &[io.span, ds, fs], &[q.span, h.span, ls])?;
    let (bits, n, cap, stride) = (layout.bits(), q.n, h.cap, h.stride);
    with_lane!(q.lane, T => {
        // SAFETY: everything checked above.
        let (qs, hs, is, dd, ff) = unsafe {
            (q.span.slice::<T>(), h.span.slice::<T>(), io.slots(), ds.slice_mut::<u16>(), fs.slice_mut::<u32>())
        };
        let qv = FingerprintsRef::new::<T>(bits, n, qs).py_err(py)?;
        let hv = HistoryBatchRef::new::<T>(bits, cap, stride, &lens[..], hs).py_err(py)?;
        let wide = io.wide;
        py.detach(|| {
            let nk = n.saturating_mul(k);
            let cut = nk.min(is.len());
            let r = Engine::current().parallel(threads).topk_batch(qv, hv, k, &mut is[..cut], dd, ff);
            if r.is_ok() && wide {
                widen(is, nk);
            }
            r
        })
        .py_err(py)
    })
}

/// Every distance between each query and each item of one shared history, into `out` (`(B, L)`).
#[pyfunction]
#[pyo3(signature = (queries, history, out, m = None))]
fn distances_shared(
    queries: &Bound<'_, PyAny>,
    history: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    m: Option<usize>,
) -> PyResult<()> {
    let py = queries.py();
    let (q, h, layout) = shared_inputs(queries, history, m)?;
    let os = u16_out(out, "out", &[q.n, h.len], "(B, L)")?;
    check_disjoint(py, &[os], &[q.span, h.span])?;
    let (bits, n, len, stride) = (layout.bits(), q.n, h.len, h.stride);
    with_lane!(q.lane, T => {
        // SAFETY: everything checked above.
        let (qs, hs, oo) = unsafe { (q.span.slice::<T>(), h.span.slice::<T>(), os.slice_mut::<u16>()) };
        let qv = FingerprintsRef::new::<T>(bits, n, qs).py_err(py)?;
        let hv = HistoryRef::new::<T>(bits, len, stride, hs).py_err(py)?;
        py.detach(|| Engine::current().distances_shared(qv, hv, oo)).py_err(py)
    })
}

/// Every distance between query `b` and the items of its own history, into `out` (`(B, L)`);
/// slots at and past `lens[b]` hold `EMPTY_DISTANCE`.
#[pyfunction]
#[pyo3(signature = (queries, histories, lens, out, m = None))]
fn distances_batch(
    queries: &Bound<'_, PyAny>,
    histories: &Bound<'_, PyAny>,
    lens: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    m: Option<usize>,
) -> PyResult<()> {
    let py = queries.py();
    let (q, h, layout, lens, ls) = batch_inputs(queries, histories, lens, m)?;
    let os = u16_out(out, "out", &[q.n, h.cap], "(B, L)")?;
    check_disjoint(py, &[os], &[q.span, h.span, ls])?;
    let (bits, n, cap, stride) = (layout.bits(), q.n, h.cap, h.stride);
    with_lane!(q.lane, T => {
        // SAFETY: everything checked above.
        let (qs, hs, oo) = unsafe { (q.span.slice::<T>(), h.span.slice::<T>(), os.slice_mut::<u16>()) };
        let qv = FingerprintsRef::new::<T>(bits, n, qs).py_err(py)?;
        let hv = HistoryBatchRef::new::<T>(bits, cap, stride, &lens[..], hs).py_err(py)?;
        py.detach(|| Engine::current().distances_batch(qv, hv, oo)).py_err(py)
    })
}

/// `(lane dtype name, lanes)` of the layout for `m` bits.
#[pyfunction]
fn layout(py: Python<'_>, m: usize) -> PyResult<(&'static str, usize)> {
    let l = Layout::new(m).py_err(py)?;
    Ok((lane_name(l.lane_type()), l.lanes()))
}

/// The stride (in lanes) the library pads a history of `len` items to.
#[pyfunction]
fn padded_stride(py: Python<'_>, len: usize) -> PyResult<usize> {
    eta_hamming::padded_stride(len).py_err(py)
}

/// The instruction set the kernels run now.
#[pyfunction]
fn isa() -> &'static str {
    Isa::current().name()
}

/// Every instruction set this CPU and build can run, slowest first.
#[pyfunction]
fn available_isas() -> Vec<&'static str> {
    Isa::available().into_iter().map(|i| i.name()).collect()
}

/// Forces an instruction set for the whole process (`scalar`, `avx2`, `avx512`, `neon`).
#[pyfunction]
fn force_isa(py: Python<'_>, name: &str) -> PyResult<()> {
    Isa::from_name(name).and_then(Isa::force).py_err(py)
}

/// Undoes `force_isa`.
#[pyfunction]
fn reset_isa() {
    Isa::reset()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Hasher>()?;
    m.add_function(wrap_pyfunction!(history_from_fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(history_gather, m)?)?;
    m.add_function(wrap_pyfunction!(histories_gather, m)?)?;
    m.add_function(wrap_pyfunction!(topk_shared, m)?)?;
    m.add_function(wrap_pyfunction!(topk_batch, m)?)?;
    m.add_function(wrap_pyfunction!(distances_shared, m)?)?;
    m.add_function(wrap_pyfunction!(distances_batch, m)?)?;
    m.add_function(wrap_pyfunction!(layout, m)?)?;
    m.add_function(wrap_pyfunction!(padded_stride, m)?)?;
    m.add_function(wrap_pyfunction!(isa, m)?)?;
    m.add_function(wrap_pyfunction!(available_isas, m)?)?;
    m.add_function(wrap_pyfunction!(force_isa, m)?)?;
    m.add_function(wrap_pyfunction!(reset_isa, m)?)?;
    m.add("EMPTY_INDEX", EMPTY_INDEX)?;
    m.add("EMPTY_DISTANCE", EMPTY_DISTANCE)?;
    m.add("MAX_BITS", MAX_BITS)?;
    m.add("VERSION", eta_hamming::VERSION)?;
    Ok(())
}
