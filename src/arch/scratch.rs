//! The per-thread scratch pool: [`Pooled`] vectors taken out of a thread-local pool for one
//! call and given back afterwards, so that no call allocates on the hot path after its thread's
//! first (the rationale and its measurement: `docs/design/scan.md`).

/// A per-thread pool of scratch vectors, so that a call for one short history costs no
/// allocation. A vector is taken
/// out for the call (a nested or concurrent call on the same thread finds none and allocates)
/// and given back afterwards, unless it grew past [`POOL_KEEP_BYTES`]: a thread keeps at most a
/// few MiB. Contents are stale; every user writes before it reads.
pub(crate) struct Pooled<T: PoolItem> {
    v: Vec<T>,
    /// The elements handed out: `v[..n]` (`v` keeps its length, so a smaller request in
    /// between does not make the next larger one clear memory again).
    n: usize,
}

/// Bytes of one pooled vector a thread keeps between calls.
pub(crate) const POOL_KEEP_BYTES: usize = 1 << 20;

/// Element types with a thread-local pool.
pub(crate) trait PoolItem: Copy + Default + 'static {
    /// The pool of this type.
    fn pool() -> &'static std::thread::LocalKey<core::cell::Cell<Vec<Self>>>;
}

macro_rules! pool_item {
    ($t:ty, $name:ident) => {
        thread_local! {
            static $name: core::cell::Cell<Vec<$t>> = const { core::cell::Cell::new(Vec::new()) };
        }
        impl PoolItem for $t {
            fn pool() -> &'static std::thread::LocalKey<core::cell::Cell<Vec<$t>>> {
                &$name
            }
        }
    };
}
pool_item!(u64, POOL_U64);
pool_item!(u32, POOL_U32);
pool_item!(u16, POOL_U16);
pool_item!(u8, POOL_U8);

impl<T: PoolItem> Pooled<T> {
    /// A vector of `n` elements, stale contents (from the pool when it has one).
    pub(crate) fn take(n: usize) -> Pooled<T> {
        let mut v = T::pool().try_with(|p| p.take()).unwrap_or_default();
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
            let _ = T::pool().try_with(|p| p.set(v));
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
