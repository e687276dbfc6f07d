//! The Goto/BLIS loop nest around one micro-kernel `K`.
//!
//! C is computed in steps: one column chunk (`NC` wide) and depth block (`KC`
//! deep) of B at a time, packed into `KC × NR` panels that every thread shares.
//! The rows of C are cut into blocks of whole `MR` strips, split evenly between
//! the threads; for each block a thread packs its rows of A into `MR × KC`
//! strips and runs the micro-kernel over every (panel, strip) pair, panel
//! outer, so a panel stays in L1 while the block's strips stream from L2.
//!
//! A panel is packed by the first thread to need it, and the threads start at
//! different panels, so each packs its share while the other computes: there is
//! no packing phase for a thread to wait through, and one fork-join per step.
//! The step's packed B (1 MiB) is used from L2 while it is hot; C's tiles are
//! what travels, once per depth block, prefetched by the micro-kernel. A row
//! block is final after the last step, and its thread runs the epilogue on it
//! then, still in cache.
//!
//! Expects `sgemm_with` to have checked every index of A and B, and C to be a
//! valid `MatMut` of A · B's shape.

use super::microkernel::Tile;
use super::{Epilogue, FpMode, MatMut, MatRef};
use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread::LocalKey;

/// Depth of a block: a 256 × 32 B panel is 32 KiB, which leaves room in a
/// 48 KiB L1 for the 12 KiB A strip streaming past it.
const KC: usize = 256;
/// Columns of a chunk: its packed B block (KC × NC, 1 MiB) fits in L2.
const NC: usize = 1024;
/// Rows of a block (rounded to whole strips): its packed A (MC × KC, 96 KiB)
/// and its rows of C (MC × NC, 384 KiB) fit in L2 beside the B block.
const MC: usize = 96;
/// Panels are packed in groups of `GROUP`, `PACK_ROWS` rows at a time (see
/// `Panels::pack_group`); a chunk has at most `MAX_GROUPS` (the portable
/// kernel's `NR` is 8).
const GROUP: usize = 8;
const PACK_ROWS: usize = 16;
const MAX_GROUPS: usize = NC / 8 / GROUP;
/// The largest `MR × NR` of any kernel, for the edge-tile scratch.
const MAX_TILE: usize = 12 * 32;

pub(super) fn run<K: Tile>(a: MatRef, b: MatRef, c: MatMut, threads: usize, epilogue: &Epilogue) {
    const { assert!(K::MR * K::NR <= MAX_TILE && NC.is_multiple_of(K::NR) && K::NR >= 8) };
    let (m, k, n, ldc) = (a.rows, a.cols, b.cols, c.ldc);
    if m == 0 {
        return;
    }
    let span = |rows: usize| (rows - 1) * ldc + n;
    let c_rows = SyncPtr(c.ptr);
    // The workers compute in the caller's mode (subnormals flushed or not).
    let mode = FpMode::current();
    // The finished rows `r0..r1`, for the epilogue.
    // SAFETY: inside C; `sgemm_with`'s caller lets the epilogue touch them.
    let finished = |r0: usize, r1: usize| unsafe {
        MatMut::from_raw(c_rows.get().add(r0 * ldc), r1 - r0, n, ldc)
    };
    if k == 0 || n == 0 {
        let mut all = finished(0, m);
        for row in all.as_mut_slice().chunks_mut(ldc.max(1)) {
            row[..n].fill(0.0);
        }
        epilogue(0, m, all);
        return;
    }
    // Depth blocks of near-equal size, no thin last one.
    let depths = k.div_ceil(KC);
    let depth = |kb: usize| kb * k / depths..(kb + 1) * k / depths;
    let shares = threads.min(rayon::current_num_threads()).max(1);
    let blocks = RowBlocks::new(m, K::MR, shares);
    let states = [const { AtomicU8::new(EMPTY) }; MAX_GROUPS];
    let b_len = KC.min(k) * NC.min(n.next_multiple_of(K::NR));
    with_buffer(&PACKED_B, b_len, |packed_b| {
        for j0 in (0..n).step_by(NC) {
            let cols = j0..n.min(j0 + NC);
            for kb in 0..depths {
                let depth = depth(kb);
                let count = cols.len().div_ceil(K::NR);
                let groups = &states[..count.div_ceil(GROUP)];
                for state in groups {
                    state.store(EMPTY, Ordering::Relaxed);
                }
                let panels = Panels {
                    b: b.sub(0..k, cols.clone()),
                    depth: depth.clone(),
                    nr: K::NR,
                    count,
                    data: SyncPtr(packed_b.as_mut_ptr()),
                    states: groups,
                };
                let last = cols.end == n && depth.end == k;
                let share = |s: usize| {
                    for block in s * blocks.count / shares..(s + 1) * blocks.count / shares {
                        let (r0, r1) = blocks.rows(block);
                        // SAFETY: blocks cover disjoint rows and `ldc >= n`, so
                        // their spans are disjoint; C holds `span(m)` floats.
                        let out = unsafe {
                            let start = c_rows.get().add(r0 * ldc + cols.start);
                            std::slice::from_raw_parts_mut(start, span(r1 - r0) - cols.start)
                        };
                        let first = s * count / shares;
                        block_product::<K>(a.sub(r0..r1, 0..k), &panels, first, out, ldc);
                        // `out` is dead here: the epilogue may write these rows
                        // through pointers of its own.
                        if last {
                            epilogue(r0, r1, finished(r0, r1));
                        }
                    }
                };
                if shares > 1 {
                    rayon::broadcast(|ctx| {
                        if ctx.index() < shares {
                            let _mode = mode.enter();
                            share(ctx.index());
                        }
                    });
                } else {
                    share(0);
                }
            }
        }
    });
}

/// `out = a[.., depth] · B`, or `out +=` for a later depth, over the columns of
/// `panels`, visiting them from panel `first` round; `out` has `a.rows` rows
/// `ldc` apart.
fn block_product<K: Tile>(a: MatRef, panels: &Panels, first: usize, out: &mut [f32], ldc: usize) {
    let (m, n) = (a.rows, panels.b.cols);
    let (k0, kc) = (panels.depth.start, panels.depth.len());
    assert!(m > 0 && out.len() >= (m - 1) * ldc + n);
    with_buffer(&PACKED_A, m.next_multiple_of(K::MR) * kc, |packed_a| {
        for (s, strip) in packed_a.chunks_exact_mut(K::MR * kc).enumerate() {
            pack(a, s * K::MR, K::MR, k0, kc, strip);
        }
        let out = out.as_mut_ptr();
        let count = panels.count;
        for jr in (first..count).chain(0..first) {
            let panel = panels.get(jr);
            let (j0, cols) = (jr * K::NR, K::NR.min(n - jr * K::NR));
            for (s, strip) in packed_a.chunks_exact(K::MR * kc).enumerate() {
                let (i0, height) = (s * K::MR, K::MR.min(m - s * K::MR));
                // SAFETY: the tile's rows `i0..i0 + height` and columns
                // `j0..j0 + cols` lie inside `out`; the strip and panel hold
                // `kc` steps each.
                unsafe {
                    let dst = out.add(i0 * ldc + j0);
                    if height == K::MR && cols == K::NR {
                        K::run(kc, strip.as_ptr(), panel.as_ptr(), dst, ldc, k0 > 0);
                    } else {
                        edge_tile::<K>(kc, strip, panel, dst, ldc, (height, cols), k0 > 0);
                    }
                }
            }
        }
    });
}

const EMPTY: u8 = 0;
const PACKING: u8 = 1;
const READY: u8 = 2;

/// One step's packed B: `depth` of the columns of `b`, as `count` panels of
/// `kc × NR` one after another from `data`, each group of them packed by the
/// first task that asks for one of its panels.
struct Panels<'a> {
    b: MatRef<'a>,
    depth: Range<usize>,
    nr: usize,
    count: usize,
    data: SyncPtr,
    /// One per group of `GROUP` panels.
    states: &'a [AtomicU8],
}

impl Panels<'_> {
    /// Panel `jr`, packing its group first if no task has.
    fn get(&self, jr: usize) -> &[f32] {
        let (len, group) = (self.depth.len() * self.nr, jr / GROUP);
        let state = &self.states[group];
        if state.load(Ordering::Acquire) != READY {
            let claim =
                state.compare_exchange(EMPTY, PACKING, Ordering::Acquire, Ordering::Acquire);
            if claim.is_ok() {
                // READY even if packing panics, so no other task spins forever.
                let _ready = OnDrop(|| state.store(READY, Ordering::Release));
                let panels = group * GROUP..self.count.min(group * GROUP + GROUP);
                // SAFETY: `data` holds `count` panels of `len` floats, and no
                // other task touches this group until its state is READY.
                let dst = unsafe {
                    let start = self.data.get().add(panels.start * len);
                    std::slice::from_raw_parts_mut(start, panels.len() * len)
                };
                self.pack_group(panels.start, dst);
            } else {
                while state.load(Ordering::Acquire) != READY {
                    std::hint::spin_loop();
                }
            }
        }
        // SAFETY: the panel's group is READY: packed, and only read from now on.
        unsafe { std::slice::from_raw_parts(self.data.get().add(jr * len), len) }
    }

    /// Packs the panels from `first` into `dst`, `PACK_ROWS` rows of each in
    /// turn: B is read a group's width along each row (1 KiB for the AVX-512
    /// kernel) rather than one panel's 128 bytes from each of `kc` rows, which
    /// for a wide B is a new page every read.
    fn pack_group(&self, first: usize, dst: &mut [f32]) {
        let (k0, kc) = (self.depth.start, self.depth.len());
        for p in (0..kc).step_by(PACK_ROWS) {
            let h = PACK_ROWS.min(kc - p);
            for (i, panel) in dst.chunks_exact_mut(kc * self.nr).enumerate() {
                let j0 = (first + i) * self.nr;
                pack(self.b, k0 + p, h, j0, self.nr, &mut panel[p * self.nr..]);
            }
        }
    }
}

/// Runs its closure when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// A tile cut by the edge of C: computed whole into scratch (the packing's zero
/// padding makes the extra lanes harmless), then only its `height × cols`
/// corner is written back.
///
/// # Safety
/// `dst` points at `height` rows of `cols` writable floats, `ldc` apart.
unsafe fn edge_tile<K: Tile>(
    kc: usize,
    strip: &[f32],
    panel: &[f32],
    dst: *mut f32,
    ldc: usize,
    (height, cols): (usize, usize),
    accumulate: bool,
) {
    let mut tile = [0f32; MAX_TILE];
    // SAFETY: the scratch holds `MR × NR` floats; the rest is the contract.
    unsafe {
        K::run(
            kc,
            strip.as_ptr(),
            panel.as_ptr(),
            tile.as_mut_ptr(),
            K::NR,
            false,
        );
        for (i, src) in tile.chunks_exact(K::NR).take(height).enumerate() {
            let out = std::slice::from_raw_parts_mut(dst.add(i * ldc), cols);
            for (o, &t) in out.iter_mut().zip(src) {
                *o = if accumulate { *o + t } else { t };
            }
        }
    }
}

/// Copies rows `r0..r0 + h`, columns `c0..c0 + w` of `src` into `dst` (`h × w`,
/// row-major), zero-filling what lies past the edge of `src`: a B panel is the
/// `kc × NR` block at depth `k0`, an A strip the `MR × kc` block at its rows.
/// Inlined, so a B panel's `w = NR` is a constant and its rows are vector moves.
#[inline(always)]
fn pack(src: MatRef, r0: usize, h: usize, c0: usize, w: usize, dst: &mut [f32]) {
    let (rows, cols) = (h.min(src.rows - r0), w.min(src.cols - c0));
    let (rs, cs) = (src.row_stride, src.col_stride);
    assert!(rows > 0 && cols > 0 && dst.len() >= h * w);
    let to = dst.as_mut_ptr();
    // SAFETY: `sgemm_with` checked that every element of `src` is in bounds,
    // and these are elements `(r0 + r, c0 + c)` of it; `dst` holds `h × w`.
    unsafe {
        let from = src.data.as_ptr().add(r0 * rs + c0 * cs);
        for r in 0..rows {
            let (from, to) = (from.add(r * rs), to.add(r * w));
            if cs == 1 && cols == w {
                std::ptr::copy_nonoverlapping(from, to, w);
            } else if cs == 1 {
                std::ptr::copy_nonoverlapping(from, to, cols);
            } else {
                // A transposed operand: the `cols` source lines read here are
                // the same for the next 15 rows, so they stay in L1.
                for c in 0..cols {
                    *to.add(c) = *from.add(c * cs);
                }
            }
            if cols < w {
                std::ptr::write_bytes(to.add(cols), 0, w - cols);
            }
        }
        if rows < h {
            std::ptr::write_bytes(to.add(rows * w), 0, (h - rows) * w);
        }
    }
}

/// The `m` rows cut into `count` blocks of whole `MR` strips, at most `MC` rows
/// each, sizes differing by at most one strip. With several threads the count
/// is a multiple of them, so that even m = 512 gives every thread equal work.
struct RowBlocks {
    m: usize,
    mr: usize,
    strips: usize,
    count: usize,
}

impl RowBlocks {
    fn new(m: usize, mr: usize, threads: usize) -> Self {
        let strips = m.div_ceil(mr);
        let mut count = strips.div_ceil((MC / mr).max(1));
        if threads > 1 {
            count = count.next_multiple_of(threads).min(strips);
        }
        RowBlocks {
            m,
            mr,
            strips,
            count,
        }
    }

    fn rows(&self, block: usize) -> (usize, usize) {
        let strip = |b: usize| b * self.strips / self.count;
        (
            strip(block) * self.mr,
            (strip(block + 1) * self.mr).min(self.m),
        )
    }
}

impl MatRef<'_> {
    /// Rows `rows` and columns `cols`, both non-empty, as a matrix of their own.
    fn sub(self, rows: Range<usize>, cols: Range<usize>) -> Self {
        let data = &self.data[rows.start * self.row_stride + cols.start * self.col_stride..];
        MatRef {
            data,
            rows: rows.len(),
            cols: cols.len(),
            ..self
        }
    }
}

/// C's first element, shared by the tasks that each write their own rows.
#[derive(Clone, Copy)]
struct SyncPtr(*mut f32);

// SAFETY: the tasks write disjoint rows through it (see `run`).
unsafe impl Sync for SyncPtr {}
unsafe impl Send for SyncPtr {}

impl SyncPtr {
    /// By method, so closures capture the `Sync` wrapper, not the raw field.
    fn get(self) -> *mut f32 {
        self.0
    }
}

thread_local! {
    static PACKED_A: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static PACKED_B: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Lends this thread's buffer `key`, at least `len` floats starting on a cache
/// line, kept between calls so a run allocates nothing once warm. It is taken
/// out of its cell while lent: a reentrant `sgemm` (from an epilogue) gets a
/// fresh buffer instead of a double borrow.
fn with_buffer<R>(
    key: &'static LocalKey<Cell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    let mut buf = key.take();
    if buf.len() < len + 15 {
        buf = vec![0.0; len + 15];
    }
    let skip = match buf.as_ptr().align_offset(64) {
        skip if skip < 16 => skip,
        _ => 0,
    };
    let result = f(&mut buf[skip..skip + len]);
    key.set(buf);
    result
}
