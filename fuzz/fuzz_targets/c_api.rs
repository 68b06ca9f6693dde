//! The C ABI (`eta_hamming::ffi`), called as a C caller would, with adversarial arguments over
//! real buffers.
//!
//! Every shape the harness declares is backed by a buffer of exactly that many bytes (its own
//! allocation, so AddressSanitizer flags a read or write one byte past it), except when the
//! shape itself is invalid (`K = 0`, bad `m`, `stride < L`, `L >= 2^32 - 1`, a product that
//! overflows or passes `PTRDIFF_MAX`): then the library must refuse before touching anything, and
//! the buffers are small. Everything else is adversarial: NULL pointers with non-zero sizes,
//! misaligned pointers, outputs placed inside inputs or other outputs, inputs sharing memory,
//! `lens[b] > L`, ids outside the table, non-finite projections, unknown instruction sets, any
//! `f32` bit pattern, and fingerprints with stray padding bits.
//!
//! Checks: the status is `ETA_STATUS_OK` exactly when the harness's own reading of the contract
//! says the call is valid; on OK every output equals the naive reference (all pairs, sorted by
//! (distance, index), truncated, sentinels, filled counts) and every byte the call may not write
//! is unchanged; on any error every buffer is byte-for-byte unchanged.
#![no_main]
// Index loops spell out the contract's layout formulas (`w * stride + i`), as the reference should.
#![allow(clippy::needless_range_loop)]

mod common;

use core::ffi::{c_char, c_void, CStr};
use std::alloc::{alloc, dealloc, Layout};

use common::*;
use eta_hamming::ffi::{self, EtaHasher};
use eta_hamming::{EtaStatus, Isa};
use libfuzzer_sys::fuzz_target;

/// Bytes of all buffers of one call at most, and pairs compared at most (keeps one input well
/// under a millisecond without sanitizers).
const CAP_BYTES: usize = 1 << 18;
const CAP_WORK: usize = 1 << 16;
/// Real bytes behind an argument whose shape is invalid.
const SMALL: usize = 96;

/// One exactly-sized heap allocation (64-byte aligned base).
struct Buf {
    base: *mut u8,
    size: usize,
}

impl Buf {
    fn new(size: usize) -> Buf {
        let layout = Layout::from_size_align(size.max(1), 64).unwrap();
        // SAFETY: non-zero size.
        let base = unsafe { alloc(layout) };
        assert!(!base.is_null());
        // SAFETY: freshly allocated, `size.max(1)` bytes.
        unsafe { base.write_bytes(0x5A, size.max(1)) };
        Buf { base, size }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: allocated for `size` bytes; no `&mut` outlives a call.
        unsafe { core::slice::from_raw_parts(self.base, self.size) }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above.
        unsafe { core::slice::from_raw_parts_mut(self.base, self.size) }
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe {
            dealloc(
                self.base,
                Layout::from_size_align(self.size.max(1), 64).unwrap(),
            )
        };
    }
}

/// A pointer argument: its address, the bytes its shape names, and where it lies.
#[derive(Clone, Copy, Debug)]
struct Arg {
    addr: usize,
    bytes: usize,
    align: usize,
    /// (buffer, byte offset) when the pointer is not NULL.
    at: Option<(usize, usize)>,
    /// Whether the buffer is this argument's own (so the harness may write its content).
    own: bool,
    output: bool,
}

impl Arg {
    fn ptr<T>(&self) -> *mut T {
        self.addr as *mut T
    }

    /// The library must refuse this argument: NULL or misaligned with a non-zero size.
    fn bad(&self) -> bool {
        self.bytes > 0 && (self.addr == 0 || !self.addr.is_multiple_of(self.align))
    }
}

fn overlaps(a: &Arg, b: &Arg) -> bool {
    a.bytes > 0 && b.bytes > 0 && a.addr < b.addr + b.bytes && b.addr < a.addr + a.bytes
}

#[derive(Default)]
struct Mem {
    bufs: Vec<Buf>,
    args: Vec<Arg>,
}

impl Mem {
    /// Places an argument of `bytes` bytes: its own exact buffer (usually), NULL, misaligned,
    /// or inside an existing buffer (another argument's memory). Invalid-shape arguments
    /// (`real < bytes`) get a small buffer.
    fn place(&mut self, s: &mut Src, bytes: usize, real: usize, align: usize, output: bool) -> Arg {
        let mode = s.range(0, 23);
        let mut arg = Arg {
            addr: 0,
            bytes,
            align,
            at: None,
            own: false,
            output,
        };
        let fits: Vec<usize> = (0..self.bufs.len())
            .filter(|&i| self.bufs[i].size >= real && real > 0)
            .collect();
        match mode {
            0 => {} // NULL
            1 | 2 if !fits.is_empty() => {
                let i = *s.pick(&fits);
                let room = self.bufs[i].size - real;
                let mut off = s.range(0, room);
                if mode == 1 {
                    off -= off % align;
                }
                arg.addr = self.bufs[i].base as usize + off;
                arg.at = Some((i, off));
            }
            _ => {
                let off = if mode == 3 && align > 1 {
                    s.range(1, align - 1)
                } else {
                    0
                };
                let mut buf = Buf::new(off + real);
                if output {
                    buf.bytes_mut().fill(0xA5);
                } else {
                    s.fill(buf.bytes_mut());
                }
                arg.addr = buf.base as usize + off;
                arg.at = Some((self.bufs.len(), off));
                arg.own = true;
                self.bufs.push(buf);
            }
        }
        self.args.push(arg);
        arg
    }

    /// Writes `data` at the start of an argument's own buffer region (lens, ids).
    fn set(&mut self, a: &Arg, data: &[u8]) {
        if let (true, Some((i, off))) = (a.own, a.at) {
            let n = data.len().min(self.bufs[i].size - off);
            self.bufs[i].bytes_mut()[off..off + n].copy_from_slice(&data[..n]);
        }
    }

    /// The bytes an argument names (empty for NULL).
    fn read(&self, a: &Arg) -> Vec<u8> {
        match a.at {
            Some((i, off)) => {
                self.bufs[i].bytes()[off..][..a.bytes.min(self.bufs[i].size - off)].to_vec()
            }
            None => Vec::new(),
        }
    }

    fn snapshot(&self) -> Vec<Vec<u8>> {
        self.bufs.iter().map(|b| b.bytes().to_vec()).collect()
    }

    /// Whether some argument is refused by pointer checks: NULL or misaligned with a size, or
    /// an output overlapping an input or another output.
    fn pointer_error(&self) -> bool {
        let args = &self.args;
        args.iter().any(Arg::bad)
            || args.iter().enumerate().any(|(i, a)| {
                a.output
                    && args
                        .iter()
                        .enumerate()
                        .any(|(j, b)| i != j && overlaps(a, b))
            })
    }
}

/// Writes `data` into the expected image of the buffers at byte `off` of argument `a`.
fn put(expect: &mut [Vec<u8>], a: &Arg, off: usize, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let (i, base) = a.at.expect("an output the call wrote is not NULL");
    expect[i][base + off..][..data.len()].copy_from_slice(data);
}

fn diff(what: &str, got: &[Vec<u8>], want: &[Vec<u8>], status: EtaStatus) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            let p = g.iter().zip(w).position(|(a, b)| a != b).unwrap();
            panic!(
                "{what}: buffer {i} differs at byte {p} (got {:#04x}, want {:#04x}), status {status:?}",
                g[p], w[p]
            );
        }
    }
}

/// The whole check of one call: the status is of the expected kind, and the buffers hold the
/// reference result after a success, exactly their bytes from before the call after an error.
fn verdict(
    what: &str,
    status: EtaStatus,
    expect_ok: bool,
    mem: &Mem,
    expect: &[Vec<u8>],
    before: &[Vec<u8>],
) {
    check_status(what, status, expect_ok, mem);
    diff(
        what,
        &mem.snapshot(),
        if expect_ok { expect } else { before },
        status,
    );
}

/// The checked shape of one call: sizes in bytes, and whether the shape itself is valid.
struct Shape {
    ok: bool,
    bytes: Vec<usize>,
}

impl Shape {
    fn new() -> Shape {
        Shape {
            ok: true,
            bytes: Vec::new(),
        }
    }

    /// Records a buffer of `elems` elements of `size` bytes (`None`: the product overflowed).
    fn buf(&mut self, elems: Option<usize>, size: usize) {
        match elems.and_then(|e| e.checked_mul(size)) {
            Some(b) if b <= isize::MAX as usize => self.bytes.push(b),
            _ => {
                self.ok = false;
                self.bytes.push(SMALL);
            }
        }
    }

    fn fail_if(&mut self, bad: bool) {
        if bad {
            self.ok = false;
        }
    }

    /// Real bytes for buffer `i`: the declared size for a valid shape, else a few bytes.
    fn real(&self, i: usize) -> usize {
        if self.ok {
            self.bytes[i]
        } else {
            self.bytes[i].min(SMALL)
        }
    }

    /// Whether a valid shape is too big to run here (then the input is skipped).
    fn too_big(&self, work: usize) -> bool {
        self.ok
            && (self.bytes.iter().fold(0usize, |a, &b| a.saturating_add(b)) > CAP_BYTES
                || work > CAP_WORK)
    }
}

fn check_status(what: &str, status: EtaStatus, expect_ok: bool, mem: &Mem) {
    if (status == EtaStatus::Ok) != expect_ok {
        panic!(
            "{what}: status {status:?}, expected {}; args {:?}",
            if expect_ok { "OK" } else { "an error" },
            mem.args
        );
    }
    // SAFETY: static NUL-terminated strings.
    let msg = unsafe { CStr::from_ptr(ffi::eta_status_message(status as u32)) };
    assert!(!msg.to_bytes().is_empty());
}

/// Draws `L`, its stride and checks the history shape (`stride >= L`, `L <= MAX_HISTORY_LEN`).
fn history_shape(s: &mut Src, shape: &mut Shape) -> (usize, usize) {
    let l = s.size(300);
    let stride = match s.range(0, 7) {
        0 => s.size(400),
        1 => l.wrapping_sub(s.range(1, 3)),
        2 => l.saturating_add(s.size(70)),
        _ => l,
    };
    shape.fail_if(l > MAX_HISTORY_LEN || stride < l);
    (l, stride)
}

/// `b` per-query lengths: mostly `<= cap`, sometimes beyond it.
fn draw_lens(s: &mut Src, b: usize, cap: usize) -> Vec<u32> {
    let style = s.range(0, 5);
    (0..b)
        .map(|_| match style {
            0 => cap.min(u32::MAX as usize) as u32,
            1 => 0,
            2 if s.one_in(4) => *s.pick(&[u32::MAX, cap.saturating_add(1) as u32, 0xFFFF_FFFE]),
            _ => s.range(0, cap.min(u32::MAX as usize)) as u32,
        })
        .collect()
}

fn as_u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn u16_bytes(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Distances of query `q` to items `0..n` of a history region starting at `base` lanes.
fn dists(
    qb: &[u8],
    hb: &[u8],
    lanes: usize,
    lb: usize,
    stride: usize,
    base: usize,
    n: usize,
) -> Vec<u32> {
    (0..n)
        .map(|i| {
            let mut d = 0;
            for w in 0..lanes {
                let at = (base + w * stride + i) * lb;
                d += hamming(&qb[w * lb..][..lb], &hb[at..at + lb]);
            }
            d
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Scan {
    TopkShared,
    TopkBatch,
    DistShared,
    DistBatch,
}

fn scan(s: &mut Src, which: Scan) {
    let m = s.bits();
    let (lb, lanes) = layout(m).unwrap_or((8, 1));
    let batch = matches!(which, Scan::TopkBatch | Scan::DistBatch);
    let topk = matches!(which, Scan::TopkShared | Scan::TopkBatch);
    let b = s.size(12);
    let k = if topk { s.size(40) } else { 1 };
    let mut shape = Shape::new();
    shape.fail_if(layout(m).is_none() || k == 0);
    let (l, stride) = history_shape(s, &mut shape);
    shape.buf(b.checked_mul(lanes), lb); // 0 queries
    if batch {
        shape.buf(batch_span(lanes, b, l, stride), lb); // 1 histories
    } else {
        shape.buf(history_span(lanes, l, stride), lb); // 1 history
    }
    if topk {
        let n = b.checked_mul(k);
        shape.buf(n, 4); // 2 idx
        shape.buf(n, 2); // 3 dist
    } else {
        shape.buf(b.checked_mul(l), 2); // 2 out
    }
    if batch {
        shape.buf(Some(b), 4); // lens
    }
    let work = b
        .saturating_mul(l)
        .saturating_mul(lanes)
        .saturating_add(b.saturating_mul(k));
    if shape.too_big(work) {
        return;
    }
    s.reseed();

    let mut mem = Mem::default();
    let q = mem.place(s, shape.bytes[0], shape.real(0), lb, false);
    let h = mem.place(s, shape.bytes[1], shape.real(1), lb, false);
    let lens_arg = batch.then(|| {
        let i = shape.bytes.len() - 1;
        let a = mem.place(s, shape.bytes[i], shape.real(i), 4, false);
        let lens = draw_lens(s, b.min(SMALL), l);
        mem.set(&a, &u32_bytes(&lens));
        a
    });
    let o1 = mem.place(
        s,
        shape.bytes[2],
        shape.real(2),
        if topk { 4 } else { 2 },
        true,
    );
    let o2 = topk.then(|| mem.place(s, shape.bytes[3], shape.real(3), 2, true));
    // Optional `out_filled`: one u32 for the shared top-K, b x u32 for the batch one.
    let filled_arg = if topk && !s.one_in(3) {
        let (bytes, align) = if batch {
            (b.saturating_mul(4), 4)
        } else {
            (4, 4)
        };
        let a = mem.place(
            s,
            bytes,
            if shape.ok { bytes } else { bytes.min(SMALL) },
            align,
            true,
        );
        // NULL is "not wanted" for this optional output, not an error.
        if a.addr == 0 {
            mem.args.pop();
        }
        Some(a).filter(|a| a.addr != 0)
    } else {
        None
    };
    let lens: Vec<u32> = lens_arg.map(|a| as_u32s(&mem.read(&a))).unwrap_or_default();
    let lens_err = batch && lens.iter().any(|&x| x as usize > l);
    let expect_ok = shape.ok && !mem.pointer_error() && !lens_err;

    let before = mem.snapshot();
    let mut expect = before.clone();
    if expect_ok {
        let (qb, hb) = (mem.read(&q), mem.read(&h));
        let fpb = lanes * lb;
        for qi in 0..b {
            let qf = &qb[qi * fpb..][..fpb];
            let (base, n) = if batch {
                (
                    qi.wrapping_mul(lanes).wrapping_mul(stride),
                    lens[qi] as usize,
                )
            } else {
                (0, l)
            };
            let d = dists(qf, &hb, lanes, lb, stride, base, n);
            if topk {
                let (idx, dist, filled) = naive_topk(&d, k);
                put(&mut expect, &o1, qi * k * 4, &u32_bytes(&idx));
                put(
                    &mut expect,
                    o2.as_ref().unwrap(),
                    qi * k * 2,
                    &u16_bytes(&dist),
                );
                if let (true, Some(f)) = (batch, &filled_arg) {
                    put(&mut expect, f, qi * 4, &(filled as u32).to_le_bytes());
                }
            } else {
                let mut row: Vec<u16> = d.iter().map(|&x| x as u16).collect();
                row.resize(l, EMPTY_DISTANCE);
                put(&mut expect, &o1, qi * l * 2, &u16_bytes(&row));
            }
        }
        if let (false, Some(f)) = (batch, &filled_arg) {
            put(&mut expect, f, 0, &(k.min(l) as u32).to_ne_bytes());
        }
    }

    let (qp, hp) = (
        q.ptr::<c_void>() as *const c_void,
        h.ptr::<c_void>() as *const c_void,
    );
    let lp = lens_arg.map_or(core::ptr::null(), |a| a.ptr::<u32>() as *const u32);
    // SAFETY: every pointer is NULL or points into a live buffer holding at least the bytes its
    // shape names (or the shape is invalid and the library must refuse it before any access).
    let status = unsafe {
        match which {
            Scan::TopkShared => ffi::eta_topk_shared(
                qp,
                b,
                hp,
                l,
                stride,
                m,
                k,
                o1.ptr(),
                o2.unwrap().ptr(),
                filled_arg.map_or(core::ptr::null_mut(), |a| a.ptr()),
            ),
            Scan::TopkBatch => ffi::eta_topk_batch(
                qp,
                b,
                hp,
                l,
                stride,
                lp,
                m,
                k,
                o1.ptr(),
                o2.unwrap().ptr(),
                filled_arg.map_or(core::ptr::null_mut(), |a| a.ptr()),
            ),
            Scan::DistShared => ffi::eta_distances_shared(qp, b, hp, l, stride, m, o1.ptr()),
            Scan::DistBatch => ffi::eta_distances_batch(qp, b, hp, l, stride, lp, m, o1.ptr()),
        }
    };
    let what = match which {
        Scan::TopkShared => "eta_topk_shared",
        Scan::TopkBatch => "eta_topk_batch",
        Scan::DistShared => "eta_distances_shared",
        Scan::DistBatch => "eta_distances_batch",
    };
    verdict(what, status, expect_ok, &mem, &expect, &before);
}

/// `eta_history_from_fingerprints` and `eta_history_gather`.
fn builder(s: &mut Src, gather: bool) {
    let m = s.bits();
    let (lb, lanes) = layout(m).unwrap_or((8, 1));
    let mut shape = Shape::new();
    shape.fail_if(layout(m).is_none());
    let (l, stride) = history_shape(s, &mut shape);
    let table_len = if gather { s.size(40) } else { l };
    shape.buf(table_len.checked_mul(lanes), lb); // 0 source fingerprints
    shape.buf(history_span(lanes, l, stride), lb); // 1 out
    if gather {
        shape.buf(Some(l), 8); // 2 ids
    }
    if shape.too_big(l.saturating_add(table_len).saturating_mul(lanes)) {
        return;
    }
    s.reseed();
    let mut mem = Mem::default();
    let src = mem.place(s, shape.bytes[0], shape.real(0), lb, false);
    let ids_arg = gather.then(|| {
        let a = mem.place(s, shape.bytes[2], shape.real(2), 8, false);
        let style = s.range(0, 7);
        let ids: Vec<u8> = (0..l.min(shape.real(2) / 8))
            .map(|_| match style {
                0 => s.u64(),
                1 if s.one_in(8) => *s.pick(&[table_len as u64, u64::MAX, (-1i64) as u64, 1 << 63]),
                _ => s.range(0, table_len.saturating_sub(1)) as u64,
            })
            .flat_map(u64::to_le_bytes)
            .collect();
        mem.set(&a, &ids);
        a
    });
    let out = mem.place(s, shape.bytes[1], shape.real(1), lb, true);
    let ids: Vec<u64> = ids_arg
        .map(|a| {
            mem.read(&a)
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    let id_err = gather && ids.iter().any(|&id| id >= table_len as u64);
    let expect_ok = shape.ok && !mem.pointer_error() && !id_err;
    let before = mem.snapshot();
    let mut expect = before.clone();
    if expect_ok {
        let sb = mem.read(&src);
        for i in 0..l {
            let row = if gather { ids[i] as usize } else { i };
            for w in 0..lanes {
                let lane = &sb[(row * lanes + w) * lb..][..lb];
                put(&mut expect, &out, (w * stride + i) * lb, lane);
            }
        }
    }
    // SAFETY: as in `scan`.
    let status = unsafe {
        if gather {
            ffi::eta_history_gather(
                src.ptr::<c_void>(),
                table_len,
                m,
                ids_arg.unwrap().ptr::<u64>(),
                l,
                out.ptr(),
                stride,
            )
        } else {
            ffi::eta_history_from_fingerprints(src.ptr::<c_void>(), l, m, out.ptr(), stride)
        }
    };
    let what = if gather {
        "eta_history_gather"
    } else {
        "eta_history_from_fingerprints"
    };
    verdict(what, status, expect_ok, &mem, &expect, &before);
}

/// A hasher made through the C ABI (seeded or from a projection, any arguments), its
/// projection read back, then `eta_encode` or `eta_encode_history` with adversarial buffers.
fn encode(s: &mut Src, history: bool) {
    let d = if s.one_in(16) {
        *s.pick(&EDGES)
    } else {
        s.range(0, 24)
    };
    let m = s.bits();
    let seeded = !s.one_in(3);
    let dm = d.checked_mul(m);
    let valid = d > 0 && layout(m).is_some() && dm.is_some();
    if valid && dm.unwrap().saturating_mul(4) > CAP_BYTES {
        return;
    }
    s.reseed();
    let mut hp: *mut EtaHasher = core::ptr::null_mut();
    let mut proj_in = Vec::new();
    let status = if seeded {
        let seed = s.u64();
        let out = if s.one_in(16) {
            core::ptr::null_mut()
        } else {
            &mut hp as *mut _
        };
        // SAFETY: `out` is NULL or a valid place for one pointer.
        let st = unsafe { ffi::eta_hasher_new_seeded(d, m, seed, out) };
        check_status(
            "eta_hasher_new_seeded",
            st,
            valid && !out.is_null(),
            &Mem::default(),
        );
        st
    } else {
        let n = if valid { dm.unwrap() } else { 0 };
        proj_in = if s.one_in(2) {
            s.finite_f32s(n)
        } else {
            s.f32s(n)
        };
        let finite = proj_in.iter().all(|v| v.is_finite());
        let pp = if n > 0 && s.one_in(16) {
            core::ptr::null()
        } else {
            proj_in.as_ptr()
        };
        // SAFETY: `proj_in` holds `d * m` floats when the shape is valid; else the call must
        // refuse before reading.
        let st = unsafe { ffi::eta_hasher_new_from_projection(pp, d, m, &mut hp) };
        check_status(
            "eta_hasher_new_from_projection",
            st,
            valid && finite && !pp.is_null(),
            &Mem::default(),
        );
        st
    };
    if status != EtaStatus::Ok {
        assert!(hp.is_null(), "a failed constructor wrote its output");
    }
    let (lb, lanes) = layout(m).unwrap_or((8, 1));
    let (hd, hm) = if hp.is_null() {
        (d.clamp(1, 24), m)
    } else {
        (d, m)
    };
    // SAFETY: NULL or live.
    unsafe {
        assert_eq!(ffi::eta_hasher_dim(hp), if hp.is_null() { 0 } else { d });
        assert_eq!(ffi::eta_hasher_bits(hp), if hp.is_null() { 0 } else { m });
    }
    let mut proj = Vec::new();
    if !hp.is_null() {
        proj = vec![f32::NAN; d * m];
        // SAFETY: live hasher; `proj` holds d * m floats.
        let st = unsafe { ffi::eta_hasher_projection(hp, proj.as_mut_ptr()) };
        assert_eq!(st, EtaStatus::Ok);
        if !seeded {
            assert_eq!(
                proj.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                proj_in.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "the projection read back is not the one given"
            );
        }
        // SAFETY: live hasher; a NULL output with a non-zero size must be refused.
        let st = unsafe { ffi::eta_hasher_projection(hp, core::ptr::null_mut()) };
        assert_eq!(st, EtaStatus::NullPointer);
    }

    let n = s.size(16);
    let mut shape = Shape::new();
    shape.fail_if(hp.is_null());
    shape.buf(n.checked_mul(hd), 4); // 0 embeddings
    let stride = if history {
        let st = match s.range(0, 5) {
            0 => s.size(40),
            1 => n.wrapping_sub(1),
            2 => n.saturating_add(s.range(0, 70)),
            _ => n,
        };
        shape.fail_if(n > MAX_HISTORY_LEN || st < n);
        shape.buf(history_span(lanes, n, st), lb); // 1 out
        st
    } else {
        shape.buf(n.checked_mul(lanes), lb);
        0
    };
    if shape.too_big(n.saturating_mul(hd).saturating_mul(hm)) {
        // SAFETY: NULL or live, freed once.
        unsafe { ffi::eta_hasher_free(hp) };
        return;
    }
    let mut mem = Mem::default();
    let emb = mem.place(s, shape.bytes[0], shape.real(0), 4, false);
    if let (true, Some((i, off))) = (emb.own, emb.at) {
        // Embeddings: any f32 bit pattern, NaN, infinities, subnormals and signed zeros included.
        let vals = s.f32s(shape.real(0) / 4);
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        mem.bufs[i].bytes_mut()[off..][..bytes.len()].copy_from_slice(&bytes);
    }
    let out = mem.place(s, shape.bytes[1], shape.real(1), lb, true);
    let expect_ok = shape.ok && !mem.pointer_error();
    let before = mem.snapshot();
    let mut expect = before.clone();
    if expect_ok {
        let eb = mem.read(&emb);
        let ev: Vec<f32> = eb
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        for i in 0..n {
            let words = naive_simhash(&proj, d, m, &ev[i * d..][..d]);
            let fp = words_to_lane_bytes(&words, lb, lanes);
            for w in 0..lanes {
                let at = if history {
                    w * stride + i
                } else {
                    i * lanes + w
                };
                put(&mut expect, &out, at * lb, &fp[w * lb..][..lb]);
            }
        }
    }
    // SAFETY: as in `scan`; the hasher is NULL or live.
    let status = unsafe {
        if history {
            ffi::eta_encode_history(hp, emb.ptr::<f32>(), n, out.ptr(), stride)
        } else {
            ffi::eta_encode(hp, emb.ptr::<f32>(), n, out.ptr())
        }
    };
    let what = if history {
        "eta_encode_history"
    } else {
        "eta_encode"
    };
    verdict(what, status, expect_ok, &mem, &expect, &before);
    // SAFETY: NULL or live, freed once.
    unsafe { ffi::eta_hasher_free(hp) };
}

/// Status messages, layout queries, instruction-set values and names.
fn misc(s: &mut Src) {
    let code = if s.one_in(2) {
        s.range(0, 20) as u32
    } else {
        s.u32()
    };
    // SAFETY: static NUL-terminated strings.
    unsafe {
        assert!(!CStr::from_ptr(ffi::eta_status_message(code))
            .to_bytes()
            .is_empty());
        assert!(!CStr::from_ptr(ffi::eta_version()).to_bytes().is_empty());
    }
    let m = if s.one_in(2) { s.bits() } else { s.usize() };
    let (lb, lanes) = layout(m).unwrap_or((0, 0));
    assert_eq!(ffi::eta_fingerprint_lanes(m), lanes, "lanes of m = {m}");
    assert_eq!(
        ffi::eta_fingerprint_lane_bytes(m),
        lb,
        "lane bytes of m = {m}"
    );

    let isa = if s.one_in(2) {
        s.range(0, 6) as u32
    } else {
        s.u32()
    };
    // The values 0..=4 (scalar, avx2, avx512, neon, avx512bw) name an instruction set.
    let known = isa < 5;
    let avail = ffi::eta_isa_is_available(isa);
    assert!(!avail || known);
    let st = ffi::eta_isa_force(isa);
    match st {
        EtaStatus::Ok => assert!(avail),
        EtaStatus::UnknownIsa => assert!(!known),
        EtaStatus::IsaUnavailable => assert!(known && !avail),
        other => panic!("eta_isa_force({isa}) = {other:?}"),
    }
    let mut name: Vec<u8> = (0..s.range(0, 10)).map(|_| s.u8()).collect();
    if s.one_in(2) {
        name = s
            .pick(&[
                &b"avx2"[..],
                b"AVX512",
                b" scalar ",
                b"neon",
                b"auto",
                b"avx512\xff",
            ])
            .to_vec();
    }
    name.retain(|&c| c != 0);
    name.push(0);
    let st = if s.one_in(8) {
        // SAFETY: NULL is allowed and refused.
        unsafe { ffi::eta_isa_force_name(core::ptr::null()) }
    } else {
        // SAFETY: NUL-terminated.
        unsafe { ffi::eta_isa_force_name(name.as_ptr().cast::<c_char>()) }
    };
    assert!(matches!(
        st,
        EtaStatus::Ok | EtaStatus::UnknownIsa | EtaStatus::IsaUnavailable | EtaStatus::NullPointer
    ));
    assert!(ffi::eta_isa_is_available(ffi::eta_isa_current() as u32));
    // SAFETY: static string.
    assert!(!unsafe { CStr::from_ptr(ffi::eta_isa_name()) }
        .to_bytes()
        .is_empty());
    let _ = ffi::eta_isa_env_status();
    ffi::eta_isa_reset();
}

fuzz_target!(|data: &[u8]| {
    let mut s = Src::new(data);
    // Every kernel is reached through the C ABI: force one of the available sets (or detection).
    let isas = Isa::available();
    let pick = s.range(0, isas.len());
    if pick < isas.len() {
        assert_eq!(ffi::eta_isa_force(isas[pick] as u32), EtaStatus::Ok);
    } else {
        ffi::eta_isa_reset();
    }
    match s.range(0, 10) {
        0 => scan(&mut s, Scan::TopkShared),
        1 => scan(&mut s, Scan::TopkBatch),
        2 => scan(&mut s, Scan::DistShared),
        3 => scan(&mut s, Scan::DistBatch),
        4 => builder(&mut s, false),
        5 => builder(&mut s, true),
        6 => encode(&mut s, false),
        7 => encode(&mut s, true),
        8 => misc(&mut s),
        9 => scan(&mut s, Scan::TopkShared),
        _ => scan(&mut s, Scan::TopkBatch),
    }
});
