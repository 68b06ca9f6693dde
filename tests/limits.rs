//! Sizes at the limits: every product of sizes is checked, never wrapped; K far above L; the
//! widest fingerprints; the u32 index limit. The one test that needs 4 GiB is `#[ignore]`d:
//! `cargo test --release --test limits -- --ignored`.

use eta_hamming::ffi;
use eta_hamming::{
    Error, EtaStatus, Fingerprints, FingerprintsRef, History, HistoryBatchRef, HistoryRef,
    SimHasher, TopK, EMPTY_DISTANCE, EMPTY_INDEX, MAX_BITS, MAX_HISTORY_LEN,
};

#[test]
fn products_that_overflow_are_errors_not_wraps() {
    let lanes = [0u64; 4];
    // n * lanes overflows.
    assert_eq!(
        FingerprintsRef::new(MAX_BITS, usize::MAX / 32, &lanes).unwrap_err(),
        Error::SizeOverflow
    );
    // (lanes - 1) * stride overflows.
    assert_eq!(
        HistoryRef::new(MAX_BITS, 1, usize::MAX / 8, &lanes).unwrap_err(),
        Error::SizeOverflow
    );
    // B * lanes * stride overflows.
    let lens = vec![0u32; 3];
    assert_eq!(
        HistoryBatchRef::new(128, 10, usize::MAX / 4, &lens, &lanes).unwrap_err(),
        Error::SizeOverflow
    );
    assert_eq!(
        SimHasher::from_seed(usize::MAX / 2, 4, 0).unwrap_err(),
        Error::SizeOverflow
    );
    assert_eq!(
        Fingerprints::zeroed(MAX_BITS, usize::MAX / 64).unwrap_err(),
        Error::SizeOverflow
    );

    // The C ABI: B * K, B * L and byte sizes past PTRDIFF_MAX.
    let q = [0u64; 1];
    let (mut idx, mut dist) = ([0u32; 1], [0u16; 1]);
    // SAFETY: the call must fail validation before touching any buffer.
    let s = unsafe {
        ffi::eta_topk_shared(
            q.as_ptr().cast(),
            usize::MAX / 2,
            q.as_ptr().cast(),
            1,
            1,
            64,
            4,
            idx.as_mut_ptr(),
            dist.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(s, EtaStatus::SizeOverflow);
    // SAFETY: as above.
    let s = unsafe {
        ffi::eta_distances_shared(
            q.as_ptr().cast(),
            1 << 40,
            q.as_ptr().cast(),
            1 << 31,
            1 << 31,
            64,
            dist.as_mut_ptr(),
        )
    };
    assert_eq!(s, EtaStatus::SizeOverflow);
    // 2^61 u64 lanes is 2^64 bytes.
    // SAFETY: as above.
    let s = unsafe {
        ffi::eta_distances_shared(
            q.as_ptr().cast(),
            1 << 61,
            q.as_ptr().cast(),
            0,
            0,
            64,
            dist.as_mut_ptr(),
        )
    };
    assert_eq!(s, EtaStatus::SizeOverflow);
}

#[test]
fn k_far_above_l_fills_sentinels() {
    let q = Fingerprints::from_lanes(64, 2, &[1u64, 2]).unwrap();
    let h = History::from_fingerprints(
        Fingerprints::from_lanes(64, 3, &[1u64, 3, 0])
            .unwrap()
            .view(),
    )
    .unwrap();
    let k = 1_000_000;
    let top = TopK::shared(q.view(), h.view(), k).unwrap();
    assert_eq!(top.filled(), &[3, 3]);
    assert_eq!(top.indices(0), &[0, 1, 2]);
    assert_eq!(top.distances(0), &[0, 1, 1]);
    assert!(top.all_indices()[3..k].iter().all(|&i| i == EMPTY_INDEX));
    assert!(top.all_distances()[k + 3..]
        .iter()
        .all(|&d| d == EMPTY_DISTANCE));
}

#[test]
fn history_length_limit_is_u32_minus_one() {
    let lanes = [0u8; 1];
    assert_eq!(
        HistoryRef::new(8, MAX_HISTORY_LEN + 1, MAX_HISTORY_LEN + 1, &lanes).unwrap_err(),
        Error::HistoryTooLong {
            len: MAX_HISTORY_LEN + 1
        }
    );
    // At the limit the shape is accepted (the buffer is then what is checked).
    assert!(matches!(
        HistoryRef::new(8, MAX_HISTORY_LEN, MAX_HISTORY_LEN, &lanes),
        Err(Error::BufferTooShort { .. })
    ));
}

/// A real scan at L = 2^32 - 2 (4 GiB of u8 fingerprints): the last index is 0xFFFFFFFD and
/// never collides with the sentinel.
#[test]
#[ignore = "needs 4 GiB of memory and a release build"]
fn scan_at_the_history_length_limit() {
    let len = MAX_HISTORY_LEN;
    let mut hist = vec![0xFFu8; len];
    hist[len - 1] = 0x0F;
    hist[7] = 0x0F;
    let h = HistoryRef::new(8, len, len, &hist).unwrap();
    let q = Fingerprints::from_lanes(8, 1, &[0x0Fu8]).unwrap();
    let top = TopK::shared(q.view(), h, 3).unwrap();
    assert_eq!(top.indices(0), &[7, (len - 1) as u32, 0]);
    assert_eq!(top.distances(0), &[0, 0, 4]);
}

#[test]
fn a_hasher_too_large_to_allocate_is_an_error_not_an_abort() {
    // 2^52 floats (16 PiB) fit usize and isize but no address space.
    assert_eq!(
        SimHasher::from_seed(1 << 52, 1, 0).unwrap_err(),
        Error::OutOfMemory
    );
    let mut out = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(
        unsafe { ffi::eta_hasher_new_seeded(1 << 52, 1, 0, &mut out) },
        EtaStatus::OutOfMemory
    );
    assert!(out.is_null());
}
