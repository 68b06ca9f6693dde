//! The per-thread scratch pool: [`Pooled`] vectors taken out of a thread-local pool for one
//! call and given back afterwards, so that no call allocates on the hot path after its thread's
//! first (the rationale and its measurement: `docs/design/scan.md`).

/// A per-thread pool of scratch vectors, so that a call for one short history costs no
/// allocation. A vector is taken out for the call and given back afterwards, unless it grew past
/// [`POOL_KEEP_BYTES`]. Each element type keeps up to [`POOL_SLOTS`] vectors, so a call may hold
/// that many of one type at once (a split call's merge buffers while its parts scan on the same
/// thread) without allocating; one more (or a deeper nesting) finds none and allocates. A thread
/// keeps at most a few MiB. Contents are stale; every user writes before it reads.
pub(crate) struct Pooled<T: PoolItem> {
    v: Vec<T>,
    /// The elements handed out: `v[..n]` (`v` keeps its length, so a smaller request in
    /// between does not make the next larger one clear memory again).
    n: usize,
}

/// Bytes of one pooled vector a thread keeps between calls.
pub(crate) const POOL_KEEP_BYTES: usize = 1 << 20;

/// Vectors of one element type a thread keeps between calls.
pub(crate) const POOL_SLOTS: usize = 4;

/// Element types with a thread-local pool.
pub(crate) trait PoolItem: Copy + Default + 'static {
    /// The pool of this type: up to [`POOL_SLOTS`] vectors (its own capacity is kept too).
    fn pool() -> &'static std::thread::LocalKey<core::cell::Cell<Vec<Vec<Self>>>>;
}

macro_rules! pool_item {
    ($t:ty, $name:ident) => {
        thread_local! {
            static $name: core::cell::Cell<Vec<Vec<$t>>> = const { core::cell::Cell::new(Vec::new()) };
        }
        impl PoolItem for $t {
            fn pool() -> &'static std::thread::LocalKey<core::cell::Cell<Vec<Vec<$t>>>> {
                &$name
            }
        }
    };
}
pool_item!(u64, POOL_U64);
pool_item!(u32, POOL_U32);
pool_item!(u16, POOL_U16);
pool_item!(u8, POOL_U8);
pool_item!(f32, POOL_F32);

impl<T: PoolItem> Pooled<T> {
    /// A vector of `n` elements, stale contents (from the pool when it has one).
    pub(crate) fn take(n: usize) -> Pooled<T> {
        // The list is taken out of its cell while it changes (nothing in between can reach it).
        let mut v = T::pool()
            .try_with(|p| {
                let mut list = p.take();
                let v = list.pop();
                p.set(list);
                v
            })
            .ok()
            .flatten()
            .unwrap_or_default();
        if v.len() < n {
            v.resize(n, T::default());
        }
        Pooled { v, n }
    }
}

impl<T: PoolItem> Drop for Pooled<T> {
    fn drop(&mut self) {
        if self.v.capacity() * core::mem::size_of::<T>() <= POOL_KEEP_BYTES {
            let v = core::mem::take(&mut self.v);
            // A thread being torn down has no pool any more: the vector is simply freed.
            let _ = T::pool().try_with(|p| {
                let mut list = p.take();
                if list.len() < POOL_SLOTS {
                    // Allocates only while the list grows to its first `POOL_SLOTS` entries.
                    list.push(v);
                }
                p.set(list);
            });
        }
    }
}

impl<T: PoolItem> core::ops::Deref for Pooled<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.v[..self.n]
    }
}

impl<T: PoolItem> core::ops::DerefMut for Pooled<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.v[..self.n]
    }
}
