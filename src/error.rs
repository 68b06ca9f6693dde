//! The one error type of the crate, and its C status codes.

use core::fmt;

/// Everything that can go wrong in a call. Every call validates all of its arguments before it
/// writes anything, so when an `Err` comes back every output buffer is exactly as it was.
///
/// Each variant maps to one C status code ([`Error::status`]); the C message function returns the
/// same text as [`Error::message`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A required pointer was NULL while the size it describes was not zero (C ABI only).
    NullPointer {
        /// Which argument.
        what: &'static str,
    },
    /// `m` (bits per fingerprint) is 0 or above [`crate::MAX_BITS`], or two operands disagree on it.
    InvalidBits {
        /// The offending value.
        m: usize,
    },
    /// The embedding dimension `d` is 0.
    InvalidDim,
    /// `K` is 0. (`K` above the number of valid items is fine: the rest is sentinel-filled.)
    InvalidK,
    /// A per-query history claims more valid items than its capacity: `lens[index] > L`.
    LenExceedsCapacity {
        /// Which query.
        index: usize,
        /// Its `lens[index]`.
        len: usize,
        /// The capacity `L`.
        capacity: usize,
    },
    /// A history stride is below its length: `stride < L`.
    StrideTooSmall {
        /// The stride given.
        stride: usize,
        /// The history length `L`.
        len: usize,
    },
    /// A product of sizes (`B * L`, `L * lanes * stride`, `n * d`, ...) overflows `usize`.
    SizeOverflow,
    /// A history is too long for `u32` indices: `L` must be below `2^32 - 1` (`0xFFFFFFFF` is
    /// the empty-slot sentinel).
    HistoryTooLong {
        /// The length given.
        len: usize,
    },
    /// A slice is shorter than the shape requires (Rust API).
    BufferTooShort {
        /// Which argument.
        what: &'static str,
        /// Elements the shape needs.
        needed: usize,
        /// Elements given.
        got: usize,
    },
    /// A pointer or byte slice is not aligned to its lane type (`u16`, `u32` or `u64`).
    Misaligned {
        /// Which argument.
        what: &'static str,
        /// The alignment required, in bytes.
        align: usize,
    },
    /// An output buffer overlaps an input or another output.
    Overlap {
        /// Which argument.
        what: &'static str,
    },
    /// An item id is not a row of the fingerprint table.
    IdOutOfRange {
        /// Position of the id in the list.
        position: usize,
        /// The id.
        id: u64,
        /// Rows in the table.
        table_len: usize,
    },
    /// A caller-supplied projection holds a NaN or an infinity.
    NonFiniteProjection {
        /// Row-major position of the first such value.
        position: usize,
    },
    /// The instruction set asked for is not available on this CPU (or this build).
    IsaUnavailable {
        /// Its name.
        isa: &'static str,
    },
    /// An instruction-set name that is none of `scalar`, `avx2`, `avx512`, `neon`.
    UnknownIsa,
    /// A panic was caught at the C boundary, or in one part of a multi-threaded call
    /// ([`crate::parallel`]). This is a bug in the library; please report it.
    Internal,
    /// An allocation the library needs (a hasher's projection) could not be made. Only the
    /// allocations whose size the caller's arguments choose and that no caller buffer already
    /// bounds report this; others abort like any Rust allocation failure.
    OutOfMemory,
}

/// Status codes of the C ABI (`eta_status`, 32 bits wide: a `uint32_t` in C). `ETA_STATUS_OK`
/// is zero; every other value names one kind of error (`eta_status_message()` describes it).
/// Codes are append-only: a released code keeps its number and meaning, new kinds of error get
/// new numbers after the last, and a caller should treat a code it does not know as an error.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtaStatus {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL (a pointer may be NULL only when its size is zero).
    NullPointer = 1,
    /// `m` is 0 or above 4096, or does not match the hasher's.
    InvalidBits = 2,
    /// The embedding dimension `d` is 0.
    InvalidDim = 3,
    /// `K` is 0.
    InvalidK = 4,
    /// `lens[b] > L` for some query `b`.
    LenExceedsCapacity = 5,
    /// `stride < L`.
    StrideTooSmall = 6,
    /// A product of sizes overflows `size_t`.
    SizeOverflow = 7,
    /// `L >= 2^32 - 1`: indices would not fit in `uint32_t`.
    HistoryTooLong = 8,
    /// A buffer is shorter than the shape requires. Only the Rust API returns it (its slices
    /// carry lengths): C passes no buffer lengths, so the C functions cannot check them and
    /// never return this code; a C buffer shorter than its shape is the caller's error.
    BufferTooShort = 9,
    /// A fingerprint pointer is not aligned to its lane type.
    Misaligned = 10,
    /// An output buffer overlaps an input or another output.
    Overlap = 11,
    /// An item id is not a row of the fingerprint table.
    IdOutOfRange = 12,
    /// The projection holds a NaN or an infinity.
    NonFiniteProjection = 13,
    /// The instruction set is not available on this CPU.
    IsaUnavailable = 14,
    /// The instruction-set value or name is unknown.
    UnknownIsa = 15,
    /// A panic was caught at the C boundary (a library bug).
    Internal = 16,
    /// Memory for a hasher's projection could not be allocated.
    OutOfMemory = 17,
}

impl EtaStatus {
    /// Every status, in code order (used by tests and the C message table).
    pub(crate) const ALL: [EtaStatus; 18] = [
        EtaStatus::Ok,
        EtaStatus::NullPointer,
        EtaStatus::InvalidBits,
        EtaStatus::InvalidDim,
        EtaStatus::InvalidK,
        EtaStatus::LenExceedsCapacity,
        EtaStatus::StrideTooSmall,
        EtaStatus::SizeOverflow,
        EtaStatus::HistoryTooLong,
        EtaStatus::BufferTooShort,
        EtaStatus::Misaligned,
        EtaStatus::Overlap,
        EtaStatus::IdOutOfRange,
        EtaStatus::NonFiniteProjection,
        EtaStatus::IsaUnavailable,
        EtaStatus::UnknownIsa,
        EtaStatus::Internal,
        EtaStatus::OutOfMemory,
    ];

    /// A static, NUL-terminated description of the status.
    pub const fn message_cstr(self) -> &'static core::ffi::CStr {
        match self {
            EtaStatus::Ok => c"ok",
            EtaStatus::NullPointer => c"a required pointer is NULL while its size is not zero",
            EtaStatus::InvalidBits => {
                c"m (bits per fingerprint) must be in 1..=4096 and match the hasher"
            }
            EtaStatus::InvalidDim => c"the embedding dimension d must be at least 1",
            EtaStatus::InvalidK => c"K must be at least 1",
            EtaStatus::LenExceedsCapacity => c"a per-query history length lens[b] exceeds L",
            EtaStatus::StrideTooSmall => c"the history stride is smaller than L",
            EtaStatus::SizeOverflow => c"a product of sizes overflows size_t",
            EtaStatus::HistoryTooLong => c"L must be below 2^32 - 1 (indices are uint32_t)",
            EtaStatus::BufferTooShort => c"a buffer is shorter than its shape requires",
            EtaStatus::Misaligned => c"a fingerprint buffer is not aligned to its lane type",
            EtaStatus::Overlap => c"an output buffer overlaps an input or another output",
            EtaStatus::IdOutOfRange => c"an item id is outside the fingerprint table",
            EtaStatus::NonFiniteProjection => c"the projection holds a NaN or an infinity",
            EtaStatus::IsaUnavailable => c"the instruction set is not available on this CPU",
            EtaStatus::UnknownIsa => c"unknown instruction set",
            EtaStatus::Internal => c"internal error (a caught panic): please report this bug",
            EtaStatus::OutOfMemory => c"out of memory",
        }
    }
}

impl Error {
    /// The C status code of this error.
    pub const fn status(&self) -> EtaStatus {
        match self {
            Error::NullPointer { .. } => EtaStatus::NullPointer,
            Error::InvalidBits { .. } => EtaStatus::InvalidBits,
            Error::InvalidDim => EtaStatus::InvalidDim,
            Error::InvalidK => EtaStatus::InvalidK,
            Error::LenExceedsCapacity { .. } => EtaStatus::LenExceedsCapacity,
            Error::StrideTooSmall { .. } => EtaStatus::StrideTooSmall,
            Error::SizeOverflow => EtaStatus::SizeOverflow,
            Error::HistoryTooLong { .. } => EtaStatus::HistoryTooLong,
            Error::BufferTooShort { .. } => EtaStatus::BufferTooShort,
            Error::Misaligned { .. } => EtaStatus::Misaligned,
            Error::Overlap { .. } => EtaStatus::Overlap,
            Error::IdOutOfRange { .. } => EtaStatus::IdOutOfRange,
            Error::NonFiniteProjection { .. } => EtaStatus::NonFiniteProjection,
            Error::IsaUnavailable { .. } => EtaStatus::IsaUnavailable,
            Error::UnknownIsa => EtaStatus::UnknownIsa,
            Error::Internal => EtaStatus::Internal,
            Error::OutOfMemory => EtaStatus::OutOfMemory,
        }
    }

    /// The short, static description shared with the C message function.
    pub fn message(&self) -> &'static str {
        // The table only holds ASCII literals.
        self.status().message_cstr().to_str().unwrap_or("")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())?;
        match self {
            Error::NullPointer { what } | Error::Overlap { what } => write!(f, " ({what})"),
            Error::InvalidBits { m } => write!(f, " (got m = {m})"),
            Error::LenExceedsCapacity {
                index,
                len,
                capacity,
            } => {
                write!(f, " (lens[{index}] = {len} > L = {capacity})")
            }
            Error::StrideTooSmall { stride, len } => write!(f, " (stride {stride} < L {len})"),
            Error::HistoryTooLong { len } => write!(f, " (L = {len})"),
            Error::BufferTooShort { what, needed, got } => {
                write!(f, " ({what}: needs {needed} elements, got {got})")
            }
            Error::Misaligned { what, align } => {
                write!(f, " ({what}: needs {align}-byte alignment)")
            }
            Error::IdOutOfRange {
                position,
                id,
                table_len,
            } => {
                write!(f, " (ids[{position}] = {id}, table has {table_len} rows)")
            }
            Error::NonFiniteProjection { position } => write!(f, " (at element {position})"),
            Error::IsaUnavailable { isa } => write!(f, " ({isa})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias of the crate.
pub type Result<T> = core::result::Result<T, Error>;
