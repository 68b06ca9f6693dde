//! The AVX-512 bitonic sorting network ([`sort_net`]): up to [`SORT_NET_MAX`] keys
//! `(distance << 16) | index` sorted in 1 to 8 `zmm` registers, the two-pass path's key sort
//! where it fits ([`crate::arch::scan::ScanOps::sort_net`]).

use core::arch::x86_64::*;

/// Lane `i` takes the larger of itself and lane `i ^ J` where `takemax` has bit `i`, else
/// the smaller: one compare-exchange step of a sorting network on 16 `i32` lanes.
///
/// # Safety
/// The AVX-512 table's features are available.
#[inline(always)]
unsafe fn exchange<const J: i32>(v: __m512i, takemax: u16) -> __m512i {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let w = _mm512_permutexvar_epi32(_mm512_xor_si512(iota, _mm512_set1_epi32(J)), v);
        _mm512_mask_blend_epi32(takemax, _mm512_min_epi32(v, w), _mm512_max_epi32(v, w))
    }
}

/// The `takemax` mask of step `j` of stage `k` of a bitonic sort into ascending order: the
/// upper lane of a pair (`i & j != 0`) takes the maximum in ascending runs (`i & k == 0`), the
/// minimum in descending ones.
const fn bitonic_mask(k: usize, j: usize) -> u16 {
    let mut m = 0u16;
    let mut i = 0;
    while i < 16 {
        if ((i & j) != 0) != ((i & k) != 0) {
            m |= 1 << i;
        }
        i += 1;
    }
    m
}

/// Bitonic sort of 16 `i32` lanes into ascending order: 10 steps of [`exchange`].
///
/// # Safety
/// The AVX-512 table's features are available.
#[inline(always)]
unsafe fn sort16(v: __m512i) -> __m512i {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let v = exchange::<1>(v, bitonic_mask(2, 1));
        let v = exchange::<2>(v, bitonic_mask(4, 2));
        let v = exchange::<1>(v, bitonic_mask(4, 1));
        let v = exchange::<4>(v, bitonic_mask(8, 4));
        let v = exchange::<2>(v, bitonic_mask(8, 2));
        let v = exchange::<1>(v, bitonic_mask(8, 1));
        merge16(v)
    }
}

/// The last 4 steps of a bitonic sort: a bitonic sequence of 16 lanes into ascending order.
///
/// # Safety
/// The AVX-512 table's features are available.
#[inline(always)]
unsafe fn merge16(v: __m512i) -> __m512i {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let v = exchange::<8>(v, bitonic_mask(16, 8));
        let v = exchange::<4>(v, bitonic_mask(16, 4));
        let v = exchange::<2>(v, bitonic_mask(16, 2));
        exchange::<1>(v, bitonic_mask(16, 1))
    }
}

/// Bitonic sort of the `16 R` lanes of `v` (register 0 lowest) into ascending order, `R` a
/// power of two: each register by [`sort16`], then runs of registers merged pairwise (the
/// second run reversed, compare-exchanges between registers `h, h / 2, ..., 1` apart, then
/// [`merge16`] within each register). All loops have constant bounds and unroll.
///
/// # Safety
/// The AVX-512 table's features are available.
#[inline(always)]
unsafe fn sort_regs<const R: usize>(v: &mut [__m512i; R]) {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let rev = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        for r in v.iter_mut() {
            *r = sort16(*r);
        }
        let mut s = 2;
        while s <= R {
            let h = s / 2;
            for base in (0..R).step_by(s) {
                // Ascending first run, descending second: a bitonic sequence.
                v[base + h..base + s].reverse();
                for r in &mut v[base + h..base + s] {
                    *r = _mm512_permutexvar_epi32(rev, *r);
                }
                let mut d = h;
                while d >= 1 {
                    for i in base..base + s {
                        if (i - base) & d == 0 {
                            let (a, b) = (v[i], v[i + d]);
                            v[i] = _mm512_min_epi32(a, b);
                            v[i + d] = _mm512_max_epi32(a, b);
                        }
                    }
                    d /= 2;
                }
                for r in &mut v[base..base + s] {
                    *r = merge16(*r);
                }
            }
            s *= 2;
        }
    }
}

/// The most keys [`sort_net`] sorts.
pub(crate) const SORT_NET_MAX: usize = 128;

/// Sorts `n <= SORT_NET_MAX` keys `(distance << 16) | index` (distinct, non-negative) with a
/// bitonic network in 1, 2, 4 or 8 registers (padding `i32::MAX` sorts last) and stores them
/// split into `idx` and `dist` by masked stores of the `n` first lanes. Replaces, in the
/// two-pass top-K, ranking (all-pairs compares, then a scalar store per key) and the counting
/// sort (a read-modify-write chain through memory per key): about `4 log2(n)^2 / 2` dependent
/// instructions, no store per key.
///
/// # Safety
/// `keys..keys + n` readable; `idx`/`dist` writable for `n`; AVX-512 F/BW available.
#[inline(always)]
pub(crate) unsafe fn sort_net(keys: *const i32, n: usize, idx: *mut u32, dist: *mut u16) {
    target_features! {
        /// Out of line for 4 and 8 registers (those unrolled networks, inlined into the query
        /// loop of the two-pass path, slow down its common `K <= 32` case: docs/design/scan.md).
        ///
        /// # Safety
        /// As [`sort_net`].
        #[inline(never)]
        unsafe fn run_big<const R: usize>(
            keys: *const i32,
            n: usize,
            idx: *mut u32,
            dist: *mut u16,
        ) {
            // SAFETY: forwarded.
            unsafe { run::<R>(keys, n, idx, dist) }
        }
    }
    /// # Safety
    /// As [`sort_net`], with `n <= 16 R`.
    #[inline(always)]
    unsafe fn run<const R: usize>(keys: *const i32, n: usize, idx: *mut u32, dist: *mut u16) {
        // SAFETY: for the whole body, guaranteed by the caller (`n <= 16 R`); the masked
        // loads and stores touch only the lanes of the `n` real keys. The address of register
        // `r` is computed by `wrapping_add`: for `16 r >= n` (a fully masked register, e.g.
        // `n = 40` in 4 registers) it lies past the buffers, which `add` may not compute; a
        // masked-off lane is never accessed and never faults, so such a load or store touches
        // nothing.
        unsafe {
            let pad = _mm512_set1_epi32(i32::MAX);
            let mask = |r: usize| ((1u32 << n.saturating_sub(16 * r).min(16)) - 1) as u16;
            let mut v = [pad; R];
            for (r, x) in v.iter_mut().enumerate() {
                *x = _mm512_mask_loadu_epi32(pad, mask(r), keys.wrapping_add(16 * r).cast());
            }
            sort_regs::<R>(&mut v);
            let low16 = _mm512_set1_epi32(0xFFFF);
            for (r, x) in v.into_iter().enumerate() {
                let m = mask(r);
                _mm512_mask_storeu_epi32(
                    idx.wrapping_add(16 * r).cast(),
                    m,
                    _mm512_and_si512(x, low16),
                );
                let d = _mm512_cvtepi32_epi16(_mm512_srli_epi32::<16>(x));
                _mm256_mask_storeu_epi16(dist.wrapping_add(16 * r).cast(), m, d);
            }
        }
    }
    // SAFETY: forwarded.
    unsafe {
        match n {
            0..=16 => run::<1>(keys, n, idx, dist),
            17..=32 => run::<2>(keys, n, idx, dist),
            33..=64 => run_big::<4>(keys, n, idx, dist),
            _ => run_big::<8>(keys, n, idx, dist),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    target_features! {
    /// # Safety
    /// A CPU with the AVX-512 table's features.
    unsafe fn sort_checked(keys: &[i32], n: usize) -> (Vec<u32>, Vec<u16>) {
        // Canaries after the `n` slots: the masked stores must leave them alone.
        let (mut idx, mut dist) = (vec![0xDEAD_BEEFu32; n + 16], vec![0xBEEFu16; n + 16]);
        // SAFETY: `n` readable keys, `n + 16` writable slots; the features are enabled here.
        unsafe { sort_net(keys.as_ptr(), n, idx.as_mut_ptr(), dist.as_mut_ptr()) };
        assert!(idx[n..].iter().all(|&x| x == 0xDEAD_BEEF), "n={n}");
        assert!(dist[n..].iter().all(|&x| x == 0xBEEF), "n={n}");
        idx.truncate(n);
        dist.truncate(n);
        (idx, dist)
    }
    }

    #[test]
    fn sorting_network_matches_a_sort() {
        if !super::super::detect() {
            eprintln!("no AVX-512 here: sort_net not tested");
            return;
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for n in 0..=SORT_NET_MAX {
            for round in 0..20 {
                // Distinct keys: index `j` (a shuffled 0..n) under a random distance, some
                // rounds with every distance equal.
                let mut keys = vec![-1i32; n + 16]; // junk past `n`: must be ignored
                for (j, k) in keys[..n].iter_mut().enumerate() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let d = if round % 5 == 0 { 7 } else { (x % 4097) as i32 };
                    *k = (d << 16) | ((j * 7919 + round) % 32768) as i32;
                }
                let mut want: Vec<i32> = keys[..n].to_vec();
                want.sort_unstable();
                want.dedup();
                if want.len() != n {
                    continue; // an index repeated: keys must be distinct
                }
                // SAFETY: the AVX-512 table's features were detected above.
                let (idx, dist) = unsafe { sort_checked(&keys, n) };
                let got: Vec<i32> = idx
                    .iter()
                    .zip(&dist)
                    .map(|(&i, &d)| (i32::from(d) << 16) | i as i32)
                    .collect();
                assert_eq!(got, want, "n={n} round={round}");
            }
        }
    }
}
