//! C buffers: a [`Span`] per pointer argument (NULL only when empty, aligned, at most
//! `PTRDIFF_MAX` bytes), the overlap check, the slices ("views") made from checked spans, and
//! [`run`], the steps every entry point that takes fingerprints goes through: shape and spans
//! ([`Entry::spans`]), the overlap check, the switch to the lane type, then views and the call
//! ([`Entry::call`]).

use core::{mem, ptr, slice};

use super::status;
use crate::error::{Error, EtaStatus, Result};
use crate::layout::{mul, with_lane_type, Lane, Layout};
use crate::shape::check_lens;

/// A buffer named by a C argument: where it is and how many bytes the shape says it holds.
#[derive(Clone, Copy)]
pub(super) struct Span {
    what: &'static str,
    addr: usize,
    bytes: usize,
}

impl Span {
    /// No buffer: overlaps nothing (an absent optional output, an unused slot of [`Spans`]).
    pub(super) const NONE: Span = Span {
        what: "",
        addr: 0,
        bytes: 0,
    };

    /// The bytes of one object the library owns at `p` (the hasher), an input like
    /// [`Span::of_slice`]'s.
    pub(super) fn of_object<T>(what: &'static str, p: *const T) -> Span {
        Span {
            what,
            addr: p as usize,
            bytes: mem::size_of::<T>(),
        }
    }

    /// The bytes of a slice the library owns (an input the C caller's outputs must not overlap).
    pub(super) fn of_slice<T>(what: &'static str, s: &[T]) -> Span {
        Span {
            what,
            addr: s.as_ptr() as usize,
            bytes: mem::size_of_val(s),
        }
    }
}

/// Checks a C buffer of `len` elements of `T`: NULL only when empty, aligned, and at most
/// `isize::MAX` bytes.
pub(super) fn span<T>(what: &'static str, p: *const T, len: usize) -> Result<Span> {
    if len == 0 {
        return Ok(Span {
            what,
            addr: 0,
            bytes: 0,
        });
    }
    if p.is_null() {
        return Err(Error::NullPointer { what });
    }
    if !(p as usize).is_multiple_of(mem::align_of::<T>()) {
        return Err(Error::Misaligned {
            what,
            align: mem::align_of::<T>(),
        });
    }
    let bytes = mul(len, mem::size_of::<T>())?;
    if bytes > isize::MAX as usize || (p as usize).checked_add(bytes).is_none() {
        return Err(Error::SizeOverflow);
    }
    Ok(Span {
        what,
        addr: p as usize,
        bytes,
    })
}

/// `Error::Overlap` if any output overlaps any input or another output.
pub(super) fn no_overlap(outputs: &[Span], inputs: &[Span]) -> Result<()> {
    let hit = |a: &Span, b: &Span| {
        a.bytes > 0 && b.bytes > 0 && a.addr < b.addr + b.bytes && b.addr < a.addr + a.bytes
    };
    for (i, o) in outputs.iter().enumerate() {
        if inputs.iter().chain(&outputs[i + 1..]).any(|x| hit(o, x)) {
            return Err(Error::Overlap { what: o.what });
        }
    }
    Ok(())
}

/// What `slice::from_raw_parts` needs and [`span`] checked, asserted again in debug builds (the
/// fuzz targets and the test suite run with debug assertions): the span was made for this very
/// pointer (same address, so the slice keeps the caller's provenance and no stale span is
/// reused for another buffer), which is non-null and aligned, and the byte count is a whole
/// number of elements within `isize::MAX`.
#[inline(always)]
fn debug_assert_span<T>(s: Span, p: *const T) {
    debug_assert!(
        !p.is_null(),
        "{}: NULL pointer behind a non-empty span",
        s.what
    );
    debug_assert_eq!(
        s.addr, p as usize,
        "{}: span checked for another pointer",
        s.what
    );
    debug_assert!(
        (p as usize).is_multiple_of(mem::align_of::<T>()),
        "{}: misaligned for its element type",
        s.what
    );
    debug_assert!(
        s.bytes.is_multiple_of(mem::size_of::<T>()),
        "{}: not a whole number of elements",
        s.what
    );
    debug_assert!(
        s.bytes <= isize::MAX as usize,
        "{}: over isize::MAX bytes",
        s.what
    );
}

/// # Safety
/// `s` was checked by [`span`] for `p` and the caller guarantees it is valid for reads.
pub(super) unsafe fn input<'a, T>(s: Span, p: *const T) -> &'a [T] {
    if s.bytes == 0 {
        return &[];
    }
    debug_assert_span(s, p);
    // SAFETY: non-null, aligned, at most isize::MAX bytes (checked by `span`); readable for the
    // shape's size by the caller's contract.
    unsafe { slice::from_raw_parts(p, s.bytes / mem::size_of::<T>()) }
}

/// A view of an output the call writes in full (top-K slots, distances, fingerprints in query
/// layout, a contiguous history): every element is first set to zero through the raw pointer,
/// so the slice never covers caller memory that may be uninitialised (a `malloc`ed buffer);
/// the call then overwrites every element. The zeroing is one `memset` of the output.
///
/// # Safety
/// As [`input`], for writes, and no other live reference overlaps it ([`no_overlap`]).
pub(super) unsafe fn output<'a, T: bytemuck::Zeroable>(s: Span, p: *mut T) -> &'a mut [T] {
    if s.bytes == 0 {
        return &mut [];
    }
    debug_assert_span(s, p.cast_const());
    let n = s.bytes / mem::size_of::<T>();
    // SAFETY: `p` is non-null, aligned and writable for `n` elements (checked by `span`, the
    // caller's contract); `write_bytes` reads nothing, so the old contents may be uninitialised.
    unsafe { ptr::write_bytes(p, 0, n) };
    // SAFETY: as in `input`, and every element is now initialised (all-zero is a valid `T`);
    // exclusive because `no_overlap` rejected overlapping buffers.
    unsafe { slice::from_raw_parts_mut(p, n) }
}

/// A raw view of an output the call writes only in part: a history at a stride, whose padding
/// lanes (`[len, stride)` of every lane row) the contract leaves unwritten and which may be
/// uninitialised. No reference to it is ever made; [`RawOutput::write`] stores one element
/// through the pointer, bounds-checked against the span.
pub(super) struct RawOutput<T> {
    ptr: *mut T,
    len: usize,
}

impl<T> RawOutput<T> {
    /// # Safety
    /// As [`output`]: `s` was checked by [`span`] for `p`, which is writable for the span and
    /// overlaps no input or other output ([`no_overlap`]) while the view lives.
    pub(super) unsafe fn new(s: Span, p: *mut T) -> RawOutput<T> {
        if s.bytes > 0 {
            debug_assert_span(s, p.cast_const());
        }
        RawOutput {
            ptr: p,
            len: s.bytes / mem::size_of::<T>(),
        }
    }

    /// Stores `v` at element `i` (a panic, caught at the boundary as `ETA_STATUS_INTERNAL`,
    /// if `i` is outside the span: never a write out of bounds).
    pub(super) fn write(&mut self, i: usize, v: T) {
        assert!(i < self.len, "raw output index {i} >= {}", self.len);
        // SAFETY: `i < len`, inside the checked, writable, exclusive span (`new`'s contract);
        // `write` neither reads nor drops the old, possibly uninitialised, value.
        unsafe { self.ptr.add(i).write(v) }
    }
}

/// [`span`] for an optional output: [`Span::NONE`] when `p` is NULL.
pub(super) fn optional<T>(what: &'static str, p: *mut T, len: usize) -> Result<Span> {
    if p.is_null() {
        Ok(Span::NONE)
    } else {
        span(what, p.cast_const(), len)
    }
}

/// [`span`] for a fingerprint buffer (`void *` in C) of `lanes` lanes of `layout`'s lane type.
pub(super) fn lanes_span(
    what: &'static str,
    layout: Layout,
    p: *const core::ffi::c_void,
    lanes: usize,
) -> Result<Span> {
    with_lane_type!(layout, T => span(what, p.cast::<T>(), lanes))
}

/// The span of `lens` (`b` values), and the check of every value against `cap`; read only after
/// its pointer is checked.
///
/// # Safety
/// `lens` is readable for `b` values.
pub(super) unsafe fn lens_span(lens: *const u32, b: usize, cap: usize) -> Result<Span> {
    let s = span("lens", lens, b)?;
    // SAFETY: checked by `span`; readable by the caller's contract.
    check_lens(unsafe { input(s, lens) }, cap)?;
    Ok(s)
}

/// The checked buffers of one call: the fingerprint layout, and the spans of its inputs and
/// outputs in the order of the C arguments (unused slots [`Span::NONE`]); a hasher argument
/// stands for the buffers it owns (the object and its projections). No output may overlap an
/// input or another output.
pub(super) struct Spans {
    pub layout: Layout,
    pub inputs: [Span; 4],
    pub outputs: [Span; 3],
}

/// A C entry point that takes fingerprints, as its arguments and two steps, which [`run`]
/// executes in order.
pub(super) trait Entry: Sized {
    /// The shape checks (`crate::shape`), then a span for every buffer, in the order of the C
    /// arguments. Reads nothing but values the shape depends on (`lens`), after their span.
    ///
    /// # Safety
    /// The entry point's contract: every pointer is valid for what its shape names.
    unsafe fn spans(&self) -> Result<Spans>;

    /// Views over the checked spans and the call, with `T` the lane type of `spans.layout`.
    ///
    /// # Safety
    /// As [`Entry::spans`], and `spans` came from `self.spans()` and passed [`no_overlap`].
    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()>;
}

/// Runs an entry point: shape and spans, overlap check, lane-type switch, views and call, inside
/// the panic boundary.
///
/// # Safety
/// The entry point's contract (see [`Entry::spans`]).
pub(super) unsafe fn run<E: Entry>(entry: E) -> EtaStatus {
    // SAFETY: forwarded contract.
    status(|| unsafe { run_result(entry) })
}

/// [`run`] without the panic boundary, for an export that runs an entry point inside its own
/// (the handles, which take their arguments from an `eta_history` or `eta_fingerprints`).
///
/// # Safety
/// As [`run`].
pub(super) unsafe fn run_result<E: Entry>(entry: E) -> Result<()> {
    // SAFETY: forwarded contract.
    let spans = unsafe { entry.spans()? };
    no_overlap(&spans.outputs, &spans.inputs)?;
    with_lane_type!(spans.layout, T => {
        // SAFETY: `spans` came from `entry.spans()` and are disjoint (checked just above).
        unsafe { entry.call::<T>(&spans) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_spans_make_slices_of_exactly_their_elements() {
        let v = [1u64, 2, 3];
        let s = span("v", v.as_ptr(), 3).unwrap();
        // SAFETY: checked by `span` for this pointer; `v` is live and readable.
        assert_eq!(unsafe { input(s, v.as_ptr()) }, &v);
        let mut w = [0u16; 5];
        let s = span("w", w.as_ptr(), 5).unwrap();
        // SAFETY: as above, writable and not aliased.
        let o = unsafe { output(s, w.as_mut_ptr()) };
        assert_eq!(o, &[0; 5], "an output view starts zeroed");
        o.fill(7);
        assert_eq!(w, [7; 5]);
        // Empty spans give empty slices whatever the pointer (NULL included).
        let e = span::<u64>("e", core::ptr::null(), 0).unwrap();
        // SAFETY: an empty span is never dereferenced.
        assert!(unsafe { input(e, core::ptr::null::<u64>()) }.is_empty());
    }

    #[test]
    fn a_raw_output_writes_only_the_elements_named_and_never_past_its_span() {
        let mut w = [9u32; 6];
        let s = span("w", w.as_ptr(), 4).unwrap();
        // SAFETY: checked by `span` for this pointer; writable and not aliased while `o` lives.
        let mut o = unsafe { RawOutput::new(s, w.as_mut_ptr()) };
        o.write(0, 1);
        o.write(3, 4);
        let past = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| o.write(4, 5)));
        assert!(past.is_err(), "index 4 of a 4-element span");
        assert_eq!(w, [1, 9, 9, 4, 9, 9]);
    }

    #[test]
    fn span_refuses_what_a_slice_may_not_be() {
        let v = [0u64; 2];
        let odd = v.as_ptr().cast::<u8>().wrapping_add(1).cast::<u64>();
        assert_eq!(
            span("v", odd, 1).map(|_| ()),
            Err(Error::Misaligned {
                what: "v",
                align: 8
            })
        );
        assert_eq!(
            span::<u64>("v", core::ptr::null(), 1).map(|_| ()),
            Err(Error::NullPointer { what: "v" })
        );
        assert_eq!(
            span("v", v.as_ptr(), isize::MAX as usize / 8 + 1).map(|_| ()),
            Err(Error::SizeOverflow)
        );
    }

    /// The debug assertions in `input`/`output` catch a span that was checked for another
    /// pointer (they fire before any slice is made, so nothing is read).
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "span checked for another pointer")]
    fn a_span_for_another_pointer_is_caught_in_debug_builds() {
        let (a, b) = ([0u32; 4], [0u32; 4]);
        let s = span("a", a.as_ptr(), 4).unwrap();
        // SAFETY: not upheld on purpose: the debug assertion panics before the slice is made.
        let _ = unsafe { input(s, b.as_ptr()) };
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "misaligned for its element type")]
    fn a_misaligned_pointer_is_caught_in_debug_builds() {
        let v = [0u64; 2];
        let odd = v.as_ptr().cast::<u8>().wrapping_add(4).cast::<u64>();
        let s = Span {
            what: "v",
            addr: odd as usize,
            bytes: 8,
        };
        // SAFETY: not upheld on purpose: the debug assertion panics before the slice is made.
        let _ = unsafe { input(s, odd) };
    }

    #[test]
    fn overlap_is_detected_only_for_shared_bytes() {
        let a = Span {
            what: "a",
            addr: 100,
            bytes: 10,
        };
        let b = Span {
            what: "b",
            addr: 110,
            bytes: 10,
        };
        let c = Span {
            what: "c",
            addr: 105,
            bytes: 1,
        };
        assert!(no_overlap(&[a], &[b]).is_ok());
        assert_eq!(no_overlap(&[a], &[c]), Err(Error::Overlap { what: "a" }));
        assert_eq!(no_overlap(&[a, c], &[]), Err(Error::Overlap { what: "a" }));
        assert!(no_overlap(
            &[Span {
                what: "e",
                addr: 0,
                bytes: 0
            }],
            &[a]
        )
        .is_ok());
    }
}
