//! History rows and distances: [`HistRows`] (one history's lane rows as the kernels read them),
//! the distances of a vector of items to a block of queries ([`distances`]), whole rows of
//! distances ([`dist_rows`]), and the two-pass path's distance buffers ([`DistBuf`]: `u16`, or
//! `u8` where the vector type packs bytes).

use super::ops::ScanOps;
use super::state::MAX_VECTOR_ITEMS;
use super::vector::Vector;
use crate::layout::Lane;

/// One history as the kernels read it: lane row `w < lanes` starts at `hist + w * stride` and
/// holds the items `0..len` (structure of arrays). Invariant (the kernel arguments'): every
/// row is readable at `0..len`, unless the value only serves as a prefetch hint
/// ([`super::two_pass::prefetch`]), which never dereferences it.
#[derive(Clone, Copy)]
pub(crate) struct HistRows<T> {
    /// Row 0 of the history.
    pub hist: *const T,
    /// Lane rows, `stride` lanes apart.
    pub lanes: usize,
    pub stride: usize,
    /// Items per row.
    pub len: usize,
}

impl<T: Lane> HistRows<T> {
    /// The same rows cut to their first `len` items (`len <= self.len`).
    #[inline(always)]
    pub(crate) fn prefix(self, len: usize) -> HistRows<T> {
        HistRows { len, ..self }
    }

    /// The largest distance of this lane type and lane count: every stored bit counts.
    #[inline(always)]
    pub(crate) fn max_distance(&self) -> usize {
        max_distance::<T>(self.lanes)
    }
}

/// The largest distance of lane type `T` and `lanes` lanes: every stored bit counts.
#[inline(always)]
pub(crate) fn max_distance<T: Lane>(lanes: usize) -> usize {
    lanes * core::mem::size_of::<T>() * 8
}

/// Distances of items `i..i + N` (or the `n` first of them, partial) to `QB` queries at `q`
/// (`rows.lanes` lanes each). `W = rows.lanes` when not 0, else a loop over the lanes.
///
/// # Safety
/// `q` holds `QB * lanes` lanes; each row of `rows` is readable at `i..i + N` (or `i..i + n`
/// when `partial`).
#[inline(always)]
pub(crate) unsafe fn distances<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    rows: HistRows<V::Lane>,
    i: usize,
    partial: Option<usize>,
) -> [V; QB] {
    let (hist, stride) = (rows.hist, rows.stride);
    let lanes = if W > 0 { W } else { rows.lanes };
    // SAFETY: for the whole body, the caller guarantees the rows and the queries are readable.
    // (Plain loops, no closures: closures and `array::from_fn` are not inlined into the
    // `#[target_feature]` context, which would turn every intrinsic into a call.)
    unsafe {
        let h = load_row::<V>(hist, i, partial);
        let mut d = [h; QB];
        for (j, dj) in d.iter_mut().enumerate() {
            *dj = V::xor_popcnt(h, V::splat(*q.add(j * lanes)));
        }
        for w in 1..lanes {
            let h = load_row::<V>(hist.add(w * stride), i, partial);
            for (j, dj) in d.iter_mut().enumerate() {
                *dj = V::add(*dj, V::xor_popcnt(h, V::splat(*q.add(j * lanes + w))));
            }
        }
        d
    }
}

/// Items `i..i + N` of one lane row, or the first `n` of them.
///
/// # Safety
/// `row + i .. + N` (or `+ n`) readable.
#[inline(always)]
unsafe fn load_row<V: Vector>(row: *const V::Lane, i: usize, partial: Option<usize>) -> V {
    // SAFETY: guaranteed by the caller.
    unsafe {
        match partial {
            None => V::load(row.add(i)),
            Some(n) => V::load_partial(row.add(i), n),
        }
    }
}

/// Writes the distances of items `0..rows.len` of one history to `QB` output rows
/// (`out_stride` apart).
///
/// # Safety
/// As [`distances`] for every item of `rows`; `out + j * out_stride .. + rows.len` writable for
/// `j < QB`.
#[inline(always)]
pub(crate) unsafe fn dist_rows<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    rows: HistRows<V::Lane>,
    out: *mut u16,
    out_stride: usize,
) {
    let len = rows.len;
    // SAFETY: for the whole body, guaranteed by the caller.
    unsafe {
        let mut i = 0;
        while i + V::N <= len {
            let d = distances::<V, QB, W>(q, rows, i, None);
            for (j, dj) in d.into_iter().enumerate() {
                V::store_u16(dj, out.add(j * out_stride + i));
            }
            i += V::N;
        }
        if i < len {
            let n = len - i;
            let d = distances::<V, QB, W>(q, rows, i, Some(n));
            for (j, dj) in d.into_iter().enumerate() {
                let mut buf = [0u16; MAX_VECTOR_ITEMS];
                V::store_u16(dj, buf.as_mut_ptr());
                core::ptr::copy_nonoverlapping(buf.as_ptr(), out.add(j * out_stride + i), n);
            }
        }
    }
}

/// The largest distance the two-pass path keeps as a byte ([`DistBuf`] for `u8`): `0xFF` pads
/// the buffer and must exceed every real distance.
// Public (hidden) only for `kernel_boundaries`: its doc links name crate-private items.
#[allow(rustdoc::private_intra_doc_links)]
pub const U8_MAX_DISTANCE: usize = 254;

/// Element of the two-pass path's distance buffer: `u16` always works; `u8` when every
/// distance is below `0xFF` and the vector type packs bytes ([`Vector::U8_BUF`]), which halves
/// the bytes written and counted.
pub(crate) trait DistBuf: crate::arch::scratch::PoolItem {
    /// The distance.
    fn get(self) -> usize;
    /// `#{d <= bound}` over the `n` (a multiple of 64) elements at `d`.
    ///
    /// # Safety
    /// `d..d + n` readable; the instruction set of `O` is available.
    unsafe fn count_le<O: ScanOps>(d: *const Self, n: usize, bound: usize) -> usize;
    /// Bit `i` set when item `i` of the 64-item block at `d` has a distance `<= bound`.
    ///
    /// # Safety
    /// `d..d + 64` readable; the instruction set of `O` is available.
    unsafe fn le_mask<O: ScanOps>(d: *const Self, bound: usize) -> u64;
    /// Distances of items `0..rows.len` to `QB` queries into rows `out_stride` apart, padded
    /// with all-ones (above every distance: never counted, never gathered) up to `rows.len`
    /// rounded up to 64.
    ///
    /// # Safety
    /// As [`dist_rows`], with `out_stride >= rows.len.next_multiple_of(64)` writable per row.
    unsafe fn rows<V: Vector, const QB: usize, const W: usize>(
        q: *const V::Lane,
        rows: HistRows<V::Lane>,
        out: *mut Self,
        out_stride: usize,
    );
}

impl DistBuf for u16 {
    #[inline(always)]
    fn get(self) -> usize {
        self as usize
    }
    #[inline(always)]
    unsafe fn count_le<O: ScanOps>(d: *const u16, n: usize, bound: usize) -> usize {
        // SAFETY: forwarded.
        unsafe { O::count_le_u16(d, n, bound as u16) }
    }
    #[inline(always)]
    unsafe fn le_mask<O: ScanOps>(d: *const u16, bound: usize) -> u64 {
        // SAFETY: forwarded.
        unsafe { O::le_mask_u16(d, bound as u16) }
    }
    #[inline(always)]
    unsafe fn rows<V: Vector, const QB: usize, const W: usize>(
        q: *const V::Lane,
        rows: HistRows<V::Lane>,
        out: *mut u16,
        out_stride: usize,
    ) {
        let len = rows.len;
        // SAFETY: forwarded; the padding of each row is writable.
        unsafe {
            dist_rows::<V, QB, W>(q, rows, out, out_stride);
            let pad = len.next_multiple_of(64) - len;
            for j in 0..QB {
                core::ptr::write_bytes(out.add(j * out_stride + len), 0xFF, pad);
            }
        }
    }
}

impl DistBuf for u8 {
    #[inline(always)]
    fn get(self) -> usize {
        self as usize
    }
    #[inline(always)]
    unsafe fn count_le<O: ScanOps>(d: *const u8, n: usize, bound: usize) -> usize {
        // SAFETY: forwarded (`bound <= maxd <= U8_MAX_DISTANCE`).
        unsafe { O::count_le_u8(d, n, bound as u8) }
    }
    #[inline(always)]
    unsafe fn le_mask<O: ScanOps>(d: *const u8, bound: usize) -> u64 {
        // SAFETY: forwarded.
        unsafe { O::le_mask_u8(d, bound as u8) }
    }
    #[inline(always)]
    unsafe fn rows<V: Vector, const QB: usize, const W: usize>(
        q: *const V::Lane,
        rows: HistRows<V::Lane>,
        out: *mut u8,
        out_stride: usize,
    ) {
        let len = rows.len;
        let steps = 64 / V::N;
        // SAFETY: for the whole body, guaranteed by the caller; no row is read at or past
        // `len` (an empty step is not loaded at all).
        unsafe {
            let mut i = 0;
            while i + 64 <= len {
                let mut acc = [V::splat_dist(0); QB];
                for s in 0..steps {
                    let d = distances::<V, QB, W>(q, rows, i + s * V::N, None);
                    for j in 0..QB {
                        acc[j] = V::pack_u8(acc[j], d[j], s);
                    }
                }
                for (j, a) in acc.into_iter().enumerate() {
                    V::store_block_u8(a, u64::MAX, out.add(j * out_stride + i));
                }
                i += 64;
            }
            if i < len {
                let mut acc = [V::splat_dist(0); QB];
                for s in 0..steps {
                    let start = i + s * V::N;
                    if start >= len {
                        break;
                    }
                    let n = (len - start).min(V::N);
                    let partial = if n == V::N { None } else { Some(n) };
                    let d = distances::<V, QB, W>(q, rows, start, partial);
                    for j in 0..QB {
                        acc[j] = V::pack_u8(acc[j], d[j], s);
                    }
                }
                let valid = (1u64 << (len - i)) - 1;
                for (j, a) in acc.into_iter().enumerate() {
                    V::store_block_u8(a, valid, out.add(j * out_stride + i));
                }
            }
        }
    }
}
