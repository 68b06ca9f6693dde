//! Shared by the fuzz targets: a forgiving reader over the fuzzer's bytes, size pickers that mix
//! small values with the edges of the contract, and the naive references (all pairs, sorted,
//! truncated; the FMA chain of SimHash) written independently of the crate's kernels.
#![allow(dead_code)]

use libfuzzer_sys::arbitrary::Unstructured;

pub const EMPTY_INDEX: u32 = 0xFFFF_FFFF;
pub const EMPTY_DISTANCE: u16 = 0xFFFF;
pub const MAX_HISTORY_LEN: usize = 0xFFFF_FFFE;

/// Reads values from the fuzzer's input; once it runs out, every value is the smallest allowed
/// (so a short input is still a complete, valid test case).
pub struct Src<'a> {
    u: Unstructured<'a>,
    rng: u64,
}

impl<'a> Src<'a> {
    pub fn new(data: &'a [u8]) -> Src<'a> {
        Src {
            u: Unstructured::new(data),
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    pub fn u8(&mut self) -> u8 {
        self.u.arbitrary().unwrap_or(0)
    }

    pub fn u32(&mut self) -> u32 {
        self.u.arbitrary().unwrap_or(0)
    }

    pub fn u64(&mut self) -> u64 {
        self.u.arbitrary().unwrap_or(0)
    }

    pub fn usize(&mut self) -> usize {
        self.u.arbitrary().unwrap_or(0)
    }

    /// True with probability about `1 / n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.range(0, n - 1) == n - 1
    }

    /// A size: mostly in `0..=small`, sometimes one of the contract's edges or any `usize`.
    pub fn size(&mut self, small: usize) -> usize {
        match self.range(0, 31) {
            0 => *self.pick(&EDGES),
            1 => self.usize(),
            2 => small + self.range(0, 3),
            _ => self.range(0, small),
        }
    }

    /// `m`: mostly valid, with the lane-type boundaries and the invalid edges often.
    pub fn bits(&mut self) -> usize {
        match self.range(0, 15) {
            0 => *self.pick(&[0, 4097, 65536, usize::MAX, 1 << 32]),
            1..=6 => *self.pick(&[
                1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 192, 256, 511,
                512, 1000, 2048, 4095, 4096,
            ]),
            7..=11 => self.range(1, 130),
            _ => self.range(1, 4096),
        }
    }

    pub fn pick<'b, T>(&mut self, items: &'b [T]) -> &'b T {
        &items[self.range(0, items.len() - 1)]
    }

    /// Seeds the filler stream from the input.
    pub fn reseed(&mut self) {
        self.rng = self.u64() | 1;
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Fills `out` with bytes in one of several styles: input bytes then a stream, a small
    /// alphabet (many equal distances), all zero, all ones, or a stream.
    pub fn fill(&mut self, out: &mut [u8]) {
        match self.range(0, 5) {
            0 => {
                let take = out.len().min(self.u.len());
                let src = self.u.bytes(take).unwrap_or(&[]);
                out[..src.len()].copy_from_slice(src);
                let n = src.len();
                for b in &mut out[n..] {
                    *b = self.next() as u8;
                }
            }
            1 => {
                let (a, b) = (self.u8(), self.u8());
                for x in out.iter_mut() {
                    *x = if self.next() & 1 == 0 { a } else { b };
                }
            }
            2 => out.fill(0),
            3 => out.fill(0xFF),
            _ => {
                for x in out.iter_mut() {
                    *x = self.next() as u8;
                }
            }
        }
    }

    /// `n` `f32` values of any bit pattern, biased to the special ones.
    pub fn f32s(&mut self, n: usize) -> Vec<f32> {
        let style = self.range(0, 3);
        (0..n)
            .map(|_| {
                let r = self.next();
                match style {
                    0 => f32::from_bits(r as u32),
                    1 => SPECIAL_F32[(r as usize) % SPECIAL_F32.len()],
                    2 => {
                        if r & 3 == 0 {
                            SPECIAL_F32[(r >> 8) as usize % SPECIAL_F32.len()]
                        } else {
                            ((r >> 16) as u16 as i16) as f32 / 256.0
                        }
                    }
                    _ => (((r >> 16) % 7) as f32) - 3.0,
                }
            })
            .collect()
    }

    /// `n` finite `f32` values (any finite bit pattern, biased to zeros, subnormals, extremes).
    pub fn finite_f32s(&mut self, n: usize) -> Vec<f32> {
        self.f32s(n)
            .into_iter()
            .map(|v| if v.is_finite() { v } else { 0.5 })
            .collect()
    }

    /// Any `u16` bit patterns (bf16 / f16 inputs).
    pub fn u16s(&mut self, n: usize) -> Vec<u16> {
        let style = self.range(0, 2);
        (0..n)
            .map(|_| {
                let r = self.next();
                match style {
                    0 => r as u16,
                    1 => [
                        0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7F80, 0xFF80, 0x7FC0, 0x0001,
                        0x8001, 0x03FF, 0x3C00, 0xBC00, 0x3F80, 0xBF80,
                    ][(r % 15) as usize],
                    _ => (r as u16) & 0xC3FF,
                }
            })
            .collect()
    }

    /// A fresh value from the filler stream (for shapes past the input's end).
    pub fn stream(&mut self) -> u64 {
        self.next()
    }
}

pub const SPECIAL_F32: [f32; 16] = [
    0.0,
    -0.0,
    f32::NAN,
    -f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    1.0e-45, // smallest subnormal
    -1.0e-45,
    f32::MAX,
    f32::MIN,
    1.0,
    -1.0,
    f32::EPSILON,
    3.0e38,
];

/// Edge sizes of the contract: overflow, the `u32` index limit, `PTRDIFF_MAX`.
pub const EDGES: [usize; 12] = [
    usize::MAX,
    usize::MAX / 2,
    usize::MAX / 2 + 1,
    usize::MAX / 8 + 1,
    usize::MAX / 64 + 1,
    0xFFFF_FFFE,
    0xFFFF_FFFF,
    0x1_0000_0000,
    1 << 40,
    1 << 61,
    4096,
    65536,
];

/// Lane type of `m` bits, in bytes, and lanes per fingerprint (`None` for an invalid `m`).
pub fn layout(m: usize) -> Option<(usize, usize)> {
    match m {
        1..=8 => Some((1, 1)),
        9..=16 => Some((2, 1)),
        17..=32 => Some((4, 1)),
        33..=4096 => Some((8, m.div_ceil(64))),
        _ => None,
    }
}

/// Lanes a single history of `len` items at `stride` spans (`None` on overflow).
pub fn history_span(lanes: usize, len: usize, stride: usize) -> Option<usize> {
    if len == 0 {
        return Some(0);
    }
    (lanes - 1).checked_mul(stride)?.checked_add(len)
}

/// Lanes `b` histories of capacity `cap` span.
pub fn batch_span(lanes: usize, b: usize, cap: usize, stride: usize) -> Option<usize> {
    if b == 0 || cap == 0 {
        return Some(0);
    }
    (b.checked_mul(lanes)? - 1)
        .checked_mul(stride)?
        .checked_add(cap)
}

/// Hamming distance over every stored bit of two fingerprints given as byte strings.
pub fn hamming(a: &[u8], b: &[u8]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// The bytes of item `i` of a structure-of-arrays history (`lb` bytes per lane).
pub fn soa_item(hist: &[u8], lanes: usize, lb: usize, stride: usize, i: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(lanes * lb);
    for w in 0..lanes {
        let at = (w * stride + i) * lb;
        out.extend_from_slice(&hist[at..at + lb]);
    }
    out
}

/// The contract's top-K, naively: all pairs, sorted by (distance, index), truncated to `k`,
/// sentinel-padded. Returns the row and the number of filled slots.
pub fn naive_topk(dists: &[u32], k: usize) -> (Vec<u32>, Vec<u16>, usize) {
    let mut pairs: Vec<(u32, u32)> = dists
        .iter()
        .enumerate()
        .map(|(i, &d)| (d, i as u32))
        .collect();
    pairs.sort_unstable();
    pairs.truncate(k);
    let filled = pairs.len();
    let mut idx: Vec<u32> = pairs.iter().map(|p| p.1).collect();
    let mut dist: Vec<u16> = pairs.iter().map(|p| p.0 as u16).collect();
    idx.resize(k, EMPTY_INDEX);
    dist.resize(k, EMPTY_DISTANCE);
    (idx, dist, filled)
}

/// The naive SimHash of the contract: bit `j` is the FMA chain over `k = 0..d` in order,
/// `> 0`, packed into `ceil(m / 64)` little-endian words.
pub fn naive_simhash(proj: &[f32], d: usize, m: usize, e: &[f32]) -> Vec<u64> {
    let mut words = vec![0u64; m.div_ceil(64)];
    for j in 0..m {
        let mut s = 0.0f32;
        for k in 0..d {
            s = e[k].mul_add(proj[k * m + j], s);
        }
        if s > 0.0 {
            words[j / 64] |= 1 << (j % 64);
        }
    }
    words
}

/// The fingerprint words of [`naive_simhash`] as the lane bytes of the contract's layout.
pub fn words_to_lane_bytes(words: &[u64], lb: usize, lanes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(lb * lanes);
    for word in &words[..lanes] {
        out.extend_from_slice(&word.to_le_bytes()[..lb]);
    }
    out
}

/// Exact bf16 widening (independent of the crate).
pub fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

/// Exact IEEE binary16 widening (independent of the crate); NaN payloads shifted up 13 bits and
/// quieted, as the hardware converters do.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1F);
    let man = u32::from(h & 0x3FF);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // subnormal: value = man * 2^-24
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        (0x1F, 0) => sign | 0x7F80_0000,
        (0x1F, _) => sign | 0x7FC0_0000 | (man << 13),
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}
