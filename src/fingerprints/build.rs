//! History builders into caller memory: fingerprints laid one after another, or rows of a
//! table picked by id, written as a structure-of-arrays history at the caller's stride.

use super::check_lane;
use super::views::FingerprintsRef;
use crate::error::Result;
use crate::layout::{Lane, Layout};
use crate::shape::{check_ids, check_len, history_lanes};

fn check_history_out<T: Lane>(layout: Layout, len: usize, out: &[T], stride: usize) -> Result<()> {
    check_lane::<T>(layout)?;
    check_len(
        "out",
        history_lanes(layout.lanes(), len, stride)?,
        out.len(),
    )
}

/// Writes the fingerprints `fps` as a history into `out` (lane `w` of item `i` at
/// `out[w * stride + i]`). Only those positions are written; padding items are left as they are.
pub fn history_from_fingerprints_into<T: Lane>(
    fps: FingerprintsRef<'_>,
    out: &mut [T],
    stride: usize,
) -> Result<()> {
    let (layout, len) = (fps.layout(), fps.len());
    check_history_out(layout, len, out, stride)?;
    let lanes = layout.lanes();
    for (i, fp) in fps.lanes::<T>().chunks_exact(lanes).enumerate() {
        for (w, &lane) in fp.iter().enumerate() {
            out[w * stride + i] = lane;
        }
    }
    Ok(())
}

/// Writes the history whose item `i` is row `ids[i]` of `table` into `out` (lane `w` of item `i`
/// at `out[w * stride + i]`). Every id is checked first: an id `>= table.len()` is
/// `Error::IdOutOfRange` and nothing is written.
pub fn history_gather_into<T: Lane>(
    table: FingerprintsRef<'_>,
    ids: &[u64],
    out: &mut [T],
    stride: usize,
) -> Result<()> {
    let layout = table.layout();
    check_history_out(layout, ids.len(), out, stride)?;
    check_ids(ids, table.len(), 0)?;
    let lanes = layout.lanes();
    let src = table.lanes::<T>();
    for (i, &id) in ids.iter().enumerate() {
        let fp = &src[id as usize * lanes..][..lanes];
        for (w, &lane) in fp.iter().enumerate() {
            out[w * stride + i] = lane;
        }
    }
    Ok(())
}
