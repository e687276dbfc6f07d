//! The Goto/BLIS loop nest around one micro-kernel `K`.
//!
//! B is packed once per call, all of it, into `KC × NR` panels (block `kb` of
//! depth, panel `jr` of columns), so every row block shares one copy. The rows of
//! C are then cut into blocks of whole `MR` strips; each block is one task: for
//! each depth block it packs its rows of A into `MR × KC` strips and runs the
//! micro-kernel over every (panel, strip) pair, panel outer, so a B panel stays in
//! L1 while the block's A strips stream from L2. A block's rows are final after
//! its last depth block, when the epilogue runs on them, still in cache.
//!
//! Expects `sgemm_with` to have checked every index of A, B and C.

use super::microkernel::Tile;
use super::{Epilogue, MatRef};
use rayon::prelude::*;
use std::cell::Cell;
use std::thread::LocalKey;

/// Depth of a packed block: a 256 × 32 B panel is 32 KiB, which leaves room in
/// a 48 KiB L1 for the 12 KiB A strip streaming past it.
fn kc_() -> usize {
    static V: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *V.get_or_init(|| {
        std::env::var("KC")
            .map(|v| v.parse().unwrap())
            .unwrap_or(256)
    })
}
/// Rows of a block (rounded to whole strips): its packed A (MC × KC, 96 KiB)
/// and its rows of C stay in L2 for the epilogue.
fn nc_() -> usize { static V: std::sync::OnceLock<usize> = std::sync::OnceLock::new(); *V.get_or_init(|| std::env::var("NC").map(|v| v.parse().unwrap()).unwrap_or(1024)) }
fn mc_() -> usize {
    static V: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *V.get_or_init(|| {
        std::env::var("MC")
            .map(|v| v.parse().unwrap())
            .unwrap_or(96)
    })
}
/// The largest `MR × NR` of any kernel, for the edge-tile scratch.
const MAX_TILE: usize = 12 * 32;

pub(super) fn run<K: Tile>(
    a: MatRef,
    b: MatRef,
    c: &mut [f32],
    ldc: usize,
    threads: usize,
    epilogue: &Epilogue,
) {
    const { assert!(K::MR * K::NR <= MAX_TILE) };
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if m == 0 {
        return;
    }
    let span = |rows: usize| (rows - 1) * ldc + n;
    if k == 0 || n == 0 {
        for row in 0..m {
            c[row * ldc..][..n].fill(0.0);
        }
        epilogue(0, m, &mut c[..span(m)]);
        return;
    }
    let depths = Depths {
        k,
        count: k.div_ceil(kc_()),
    };
    let panels = n.div_ceil(K::NR);
    with_buffer(&PACKED_B, k * panels * K::NR, |packed_b| {
        pack_b::<K>(b, depths, packed_b, threads);
        let packed_b = &*packed_b;
        let blocks = RowBlocks::new(m, K::MR, threads);
        let c = SyncPtr(c.as_mut_ptr());
        let task = |block: usize| {
            let (r0, r1) = blocks.rows(block);
            // SAFETY: blocks cover disjoint rows and `ldc >= n`, so their spans
            // are disjoint; `sgemm_with` checked that C holds `span(m)` floats.
            let rows =
                unsafe { std::slice::from_raw_parts_mut(c.get().add(r0 * ldc), span(r1 - r0)) };
            row_block::<K>(a.rows_from(r0, r1), packed_b, depths, n, rows, ldc);
            epilogue(r0, r1, rows);
        };
        if threads > 1 {
            (0..blocks.count).into_par_iter().for_each(task);
        } else {
            (0..blocks.count).for_each(task);
        }
    });
}

/// Computes all of `rows` (a block of C) from its rows of A and the packed B.
fn row_block<K: Tile>(
    a: MatRef,
    packed_b: &[f32],
    depths: Depths,
    n: usize,
    rows: &mut [f32],
    ldc: usize,
) {
    let m = a.rows;
    let strips = m.div_ceil(K::MR);
    let panels = n.div_ceil(K::NR);
    let nc = (nc_() / K::NR).max(1);
    with_buffer(&PACKED_A, strips * K::MR * kc_(), |packed_a| {
        let out = rows.as_mut_ptr();
        for jc in (0..panels).step_by(nc) {
        for kb in 0..depths.count {
            let (k0, k1) = depths.range(kb);
            let kc = k1 - k0;
            for (s, strip) in packed_a
                .chunks_exact_mut(kc * K::MR)
                .take(strips)
                .enumerate()
            {
                pack(a, s * K::MR, K::MR, k0, kc, strip);
            }
            let b_block = &packed_b[k0 * panels * K::NR..][..kc * panels * K::NR];
            for (jr, panel) in b_block.chunks_exact(kc * K::NR).enumerate().skip(jc).take(nc) {
                let (j0, cols) = (jr * K::NR, K::NR.min(n - jr * K::NR));
                for (s, strip) in packed_a.chunks_exact(kc * K::MR).take(strips).enumerate() {
                    let (i0, height) = (s * K::MR, K::MR.min(m - s * K::MR));
                    // SAFETY: the tile's rows `i0..i0 + height` and columns
                    // `j0..j0 + cols` lie inside `rows`; the strip and panel hold
                    // `kc` steps each.
                    unsafe {
                        let dst = out.add(i0 * ldc + j0);
                        if height == K::MR && cols == K::NR {
                            K::run(kc, strip.as_ptr(), panel.as_ptr(), dst, ldc, kb > 0);
                        } else {
                            edge_tile::<K>(kc, strip, panel, dst, ldc, height, cols, kb > 0);
                        }
                    }
                }
            }
        }
        }
    });
}

/// A tile cut by the edge of C: computed whole into scratch (the packing's zero
/// padding makes the extra lanes harmless), then only its `height × cols`
/// corner is written back.
///
/// # Safety
/// `dst` points at `height` rows of `cols` writable floats, `ldc` apart.
#[allow(clippy::too_many_arguments)]
unsafe fn edge_tile<K: Tile>(
    kc: usize,
    strip: &[f32],
    panel: &[f32],
    dst: *mut f32,
    ldc: usize,
    height: usize,
    cols: usize,
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

/// Packs all of B: depth block `kb` starts at `k0 * NR * panels` and holds its
/// panels one after another, each `kc × NR`.
fn pack_b<K: Tile>(b: MatRef, depths: Depths, packed: &mut [f32], threads: usize) {
    let width = b.cols.next_multiple_of(K::NR);
    for kb in 0..depths.count {
        let (k0, k1) = depths.range(kb);
        let block = &mut packed[k0 * width..k1 * width];
        let panel = |(jr, dst): (usize, &mut [f32])| pack(b, k0, k1 - k0, jr * K::NR, K::NR, dst);
        if threads > 1 {
            block
                .par_chunks_mut((k1 - k0) * K::NR)
                .enumerate()
                .for_each(panel);
        } else {
            block
                .chunks_mut((k1 - k0) * K::NR)
                .enumerate()
                .for_each(panel);
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

/// `k` cut into `count` depth blocks of near-equal size (no thin last block).
#[derive(Clone, Copy)]
struct Depths {
    k: usize,
    count: usize,
}

impl Depths {
    fn range(self, kb: usize) -> (usize, usize) {
        (kb * self.k / self.count, (kb + 1) * self.k / self.count)
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
        let mut count = strips.div_ceil((mc_() / mr).max(1));
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
    /// Rows `r0..r1` as a matrix of their own.
    fn rows_from(self, r0: usize, r1: usize) -> Self {
        let data = if r1 > r0 {
            &self.data[r0 * self.row_stride..]
        } else {
            self.data
        };
        MatRef {
            data,
            rows: r1 - r0,
            ..self
        }
    }
}

/// C's base pointer, shared by the tasks that each write their own rows.
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
