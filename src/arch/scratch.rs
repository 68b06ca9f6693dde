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
    ///
    /// The pooled vector taken is the smallest whose capacity holds `n` elements, else the
    /// largest (grown). A grown vector gets at least [`POOL_MIN_BYTES`] and is rounded up to a
    /// power of two (while that stays within [`POOL_KEEP_BYTES`]), so a thread that meets a
    /// slightly larger shape, or a pool worker that runs some kind of part for the first time
    /// late, rarely allocates again. `take(0)` leaves the pool alone.
    pub(crate) fn take(n: usize) -> Pooled<T> {
        if n == 0 {
            return Pooled { v: Vec::new(), n };
        }
        // The list is taken out of its cell while it changes (nothing in between can reach it).
        let mut v = T::pool()
            .try_with(|p| {
                let mut list = p.take();
                let fits = (0..list.len())
                    .filter(|&i| list[i].capacity() >= n)
                    .min_by_key(|&i| list[i].capacity());
                let pick = fits.or_else(|| (0..list.len()).max_by_key(|&i| list[i].capacity()));
                let v = pick.map(|i| list.swap_remove(i));
                p.set(list);
                v
            })
            .ok()
            .flatten()
            .unwrap_or_default();
        if v.capacity() < n {
            let size = core::mem::size_of::<T>().max(1);
            let rounded = n.max(POOL_MIN_BYTES / size).next_power_of_two();
            let cap = if rounded * size <= POOL_KEEP_BYTES {
                rounded
            } else {
                n
            };
            v.reserve_exact(cap - v.len());
        }
        if v.len() < n {
            v.resize(n, T::default());
        }
        Pooled { v, n }
    }
}

/// The least capacity, in bytes, of a pooled vector that had to grow.
pub(crate) const POOL_MIN_BYTES: usize = 16 << 10;

/// Vectors of [`POOL_MIN_BYTES`] each pool of a thread gets from [`prewarm`].
const PREWARM_SLOTS: usize = 2;

/// Fills this thread's pools (their lists at full length, [`PREWARM_SLOTS`] vectors of
/// [`POOL_MIN_BYTES`] for every element type, 160 KiB in all), so that a thread that meets some
/// kind of small call for the first time late does not allocate then. The pool workers call it
/// when they start: which worker runs which part of a split call is up to the scheduler.
pub(crate) fn prewarm() {
    fn one<T: PoolItem>() {
        let _ = T::pool().try_with(|p| {
            let mut list = p.take();
            list.reserve(POOL_SLOTS.saturating_sub(list.len()));
            while list.len() < PREWARM_SLOTS {
                list.push(Vec::with_capacity(
                    POOL_MIN_BYTES / core::mem::size_of::<T>(),
                ));
            }
            p.set(list);
        });
    }
    one::<u64>();
    one::<u32>();
    one::<u16>();
    one::<u8>();
    one::<f32>();
}

impl<T: PoolItem> Drop for Pooled<T> {
    fn drop(&mut self) {
        let bytes = self.v.capacity() * core::mem::size_of::<T>();
        if bytes > 0 && bytes <= POOL_KEEP_BYTES {
            let v = core::mem::take(&mut self.v);
            // A thread being torn down has no pool any more: the vector is simply freed.
            let _ = T::pool().try_with(|p| {
                let mut list = p.take();
                if list.len() < POOL_SLOTS {
                    // Allocates only while the list grows to its first `POOL_SLOTS` entries.
                    list.push(v);
                } else if let Some(i) = (0..list.len()).min_by_key(|&i| list[i].capacity()) {
                    // A full list keeps the larger vectors.
                    if list[i].capacity() < v.capacity() {
                        list[i] = v;
                    }
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
