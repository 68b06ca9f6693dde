//! The element types an embedding may have: `f32`, and bfloat16 / IEEE binary16 as their bit
//! patterns ([`Bf16`], [`F16`]), behind one sealed trait ([`Element`]) that the encoders are
//! generic over; and the exact widenings of the 16-bit formats to `f32`.

use crate::arch::encode::Rows;

mod sealed {
    /// The kernel-side format of an element type; unnameable outside the crate, which seals
    /// [`super::Element`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Format {
        F32,
        Bf16,
        F16,
    }

    pub trait Sealed {
        const FORMAT: Format;
    }
    impl Sealed for f32 {
        const FORMAT: Format = Format::F32;
    }
    impl Sealed for super::Bf16 {
        const FORMAT: Format = Format::Bf16;
    }
    impl Sealed for super::F16 {
        const FORMAT: Format = Format::F16;
    }
}

/// An embedding element type the encoders take: `f32`, [`Bf16`] or [`F16`]. Sealed: the
/// crate implements it for exactly these three.
pub trait Element: sealed::Sealed + bytemuck::Pod + Send + Sync + 'static {}

impl Element for f32 {}
impl Element for Bf16 {}
impl Element for F16 {}

/// A bfloat16 value, as its bit pattern (`#[repr(transparent)]` over `u16`). Widened exactly to
/// `f32` by the encoders ([`bf16_to_f32`]).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bf16(pub u16);

/// An IEEE binary16 value, as its bit pattern (`#[repr(transparent)]` over `u16`). Widened
/// exactly to `f32` by the encoders ([`f16_to_f32`]).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct F16(pub u16);

// SAFETY: `repr(transparent)` over `u16`, which is `Zeroable` and `Pod`: same size, alignment
// and validity (every bit pattern), no padding.
unsafe impl bytemuck::Zeroable for Bf16 {}
// SAFETY: as above.
unsafe impl bytemuck::Pod for Bf16 {}
// SAFETY: as above.
unsafe impl bytemuck::Zeroable for F16 {}
// SAFETY: as above.
unsafe impl bytemuck::Pod for F16 {}

impl Bf16 {
    /// Bit patterns viewed as bfloat16 values, without copying.
    pub fn from_bits_slice(bits: &[u16]) -> &[Bf16] {
        bytemuck::cast_slice(bits)
    }

    /// The exact `f32` value ([`bf16_to_f32`]).
    pub fn to_f32(self) -> f32 {
        bf16_to_f32(self.0)
    }
}

impl F16 {
    /// Bit patterns viewed as binary16 values, without copying.
    pub fn from_bits_slice(bits: &[u16]) -> &[F16] {
        bytemuck::cast_slice(bits)
    }

    /// The exact `f32` value ([`f16_to_f32`]).
    pub fn to_f32(self) -> f32 {
        f16_to_f32(self.0)
    }
}

/// Exact widening of an IEEE binary16 bit pattern to `f32`, as the [`F16`] encoders do it: every
/// binary16 value is an `f32` value, so zeros (with their sign), subnormals, normals and
/// infinities convert exactly; a NaN becomes the quiet NaN with the same sign and the payload
/// shifted up by 13 bits (what x86 `VCVTPH2PS` and aarch64 `FCVT` produce).
pub fn f16_to_f32(bits: u16) -> f32 {
    crate::arch::encode::f16_to_f32(bits)
}

/// Exact widening of a bfloat16 bit pattern to `f32`, as the [`Bf16`] encoders do it: the 16 bits
/// become the high half of the `f32` (`bits << 16`), NaN payloads included.
pub fn bf16_to_f32(bits: u16) -> f32 {
    crate::arch::encode::bf16_to_f32(bits)
}

/// The kernels' view of a slice of elements. The casts are to the element's own
/// representation (`f32` to `f32`, `Bf16`/`F16` to `u16`), so they never fail; the match is on
/// a constant and folds away.
pub(crate) fn rows<E: Element>(emb: &[E]) -> Rows<'_> {
    use sealed::Format;
    match E::FORMAT {
        Format::F32 => Rows::F32(bytemuck::cast_slice(emb)),
        Format::Bf16 => Rows::Bf16(bytemuck::cast_slice(emb)),
        Format::F16 => Rows::F16(bytemuck::cast_slice(emb)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_element_reaches_the_kernels_as_its_own_format() {
        let f = [1.5f32, -2.0];
        assert!(matches!(rows(&f[..]), Rows::F32(s) if s == f));
        let bits = [0x3F80u16, 0xC000];
        assert!(matches!(rows(Bf16::from_bits_slice(&bits)), Rows::Bf16(s) if s == bits));
        assert!(matches!(rows(F16::from_bits_slice(&bits)), Rows::F16(s) if s == bits));
        assert_eq!(Bf16(0x3F80).to_f32(), 1.0);
        assert_eq!(F16(0x3C00).to_f32(), 1.0);
    }
}
