#!/usr/bin/env python3
"""Independent reimplementation of eta-hamming's frozen seeded projection and SimHash, from the
specification in src/simhash/seed.rs alone, with exact rational arithmetic (no numpy, no FMA unit).

It printed the golden vectors frozen in tests/golden.rs; it is kept so that anyone can check
them, or port the generator to another language. Run: python3 tests/golden/reference.py
"""
from fractions import Fraction
import struct

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def element(self):
        s = 0
        for _ in range(3):
            x = self.next()
            s += sum((x >> (16 * t)) & 0xFFFF for t in range(4))
        return Fraction(2 * s + 12 - 786432, 131072)  # exact in f32


def projection(d, m, seed):
    """P[k][j] as exact Fractions, drawn column by column."""
    rng = SplitMix64(seed)
    p = [[None] * m for _ in range(d)]
    for j in range(m):
        for k in range(d):
            p[k][j] = rng.element()
    return p


def round_f32(x):
    """Round an exact rational to the nearest f32 (ties to even), as IEEE 754 does."""
    if x == 0:
        return Fraction(0)
    sign = -1 if x < 0 else 1
    a = abs(x)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, -126)  # subnormals share the smallest exponent
    scale = Fraction(2) ** (23 - e)
    q = a * scale
    n = q.numerator // q.denominator
    rem = q - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2 == 1):
        n += 1
    return sign * Fraction(n) / scale


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", float(x)))[0]


def embedding(i, d):
    """The fixed golden embeddings: small dyadic values, so every product is exact."""
    return [Fraction(((i * 31 + k * 17) % 23) - 11, 8) for k in range(d)]


def simhash(p, d, m, e):
    bits = 0
    for j in range(m):
        s = Fraction(0)
        for k in range(d):
            s = round_f32(e[k] * p[k][j] + s)  # one rounding: fma
        if s > 0:
            bits |= 1 << j
    return bits


def main():
    print("// projection: seed -> first 8 row-major values as f32 bit patterns, for d = 4, m = 8")
    for seed in (0, 1, 0x5EED, M64):
        p = projection(4, 8, seed)
        flat = [p[k][j] for k in range(4) for j in range(8)]
        print(f"(0x{seed:X}, [{', '.join(f'0x{f32_bits(v):08X}' for v in flat[:8])}]),")
    print("// fingerprints of embedding(i, d) for i in 0..4, as u64 words (bit j of word j/64)")
    for d, m, seed in ((16, 64, 0x5EED), (8, 13, 1), (32, 130, 2), (5, 3, 3)):
        p = projection(d, m, seed)
        w = (m + 63) // 64
        rows = []
        for i in range(4):
            bits = simhash(p, d, m, embedding(i, d))
            rows.append("[" + ", ".join(f"0x{(bits >> (64 * t)) & M64:016X}" for t in range(w)) + "]")
        print(f"(({d}, {m}, 0x{seed:X}), [{', '.join(rows)}]),")


if __name__ == "__main__":
    main()
