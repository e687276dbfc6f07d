//! The tiled GEMM shader: a workgroup of 16 × 16 threads computes a tile of
//! `C[b] = A[b] · B[b]`, 128 × 128 for large products and 64 × 64 for small
//! ones, staging slices of A and B (128 × 8, or 64 × 16) in workgroup memory;
//! each thread accumulates an 8 × 8 (or 4 × 4) register block, rows `ty + 16i`
//! and columns `tx + 16j`, so stores and shared reads are contiguous across a
//! row of threads. Operands are read through their strided views, in
//! the order that makes neighbouring threads read neighbouring words. The
//! epilogue runs on each finished element before its one store.

use omelet_compiler::hlo::ElementType;

use super::emit::{Emitter, u};
use super::schedule::assemble;
use super::{Shader, groups_for};
use crate::kernel::{Gemm, Kernel, MatrixView};

/// Threads along each side of the workgroup.
const THREADS: usize = 16;

/// A tile's side and the depth of the slices staged per step.
#[derive(Clone, Copy)]
struct Tiling {
    tile: usize,
    depth: usize,
}

impl Tiling {
    /// 8 × 8 accumulators per thread where the product fills such tiles: twice
    /// the multiply-adds per value read from workgroup memory of 4 × 4.
    fn for_product(m: usize, n: usize) -> Tiling {
        if m >= 128 && n >= 128 {
            Tiling {
                tile: 128,
                depth: 8,
            }
        } else {
            Tiling {
                tile: 64,
                depth: 16,
            }
        }
    }

    /// Each thread's block side.
    fn block(self) -> usize {
        self.tile / THREADS
    }
}

/// The shader computing `gemm` into output `output` of `kernel`.
pub(super) fn shader(kernel: &Kernel, gemm: &Gemm, output: usize, args: &[ElementType]) -> Shader {
    let (m, n, k) = (gemm.m, gemm.n, gemm.k);
    let tiling = Tiling::for_product(m, n);
    let (tile, depth, block) = (tiling.tile, tiling.depth, tiling.block());
    let (tiles_m, tiles_n) = (m.div_ceil(tile), n.div_ceil(tile));
    let tiles = gemm.batch * tiles_m * tiles_n;
    let groups = groups_for(tiles, 1);
    let epilogue = gemm.epilogue.as_deref();
    let mut e = Emitter::new(epilogue.map_or(&kernel.body, |ep| &ep.body));
    e.globals.push_str(&format!(
        "var<workgroup> tile_a: array<f32, {}>;\nvar<workgroup> tile_b: array<f32, {}>;\n",
        tile * depth,
        tile * depth
    ));
    e.line(&format!("let tx = lid % {};", u(THREADS)));
    e.line(&format!("let ty = lid / {};", u(THREADS)));
    e.open_loop("t", "wid.x", tiles, &u(groups as usize));
    e.line(&format!("let tn = t % {};", u(tiles_n)));
    e.line(&format!("let tm = (t / {}) % {};", u(tiles_n), u(tiles_m)));
    e.line(&format!("let b = t / {};", u(tiles_n * tiles_m)));
    let a_base = batch_offset(&mut e, &gemm.lhs);
    let b_base = batch_offset(&mut e, &gemm.rhs);
    for i in 0..block {
        for j in 0..block {
            e.line(&format!("var c{i}{j}: f32 = 0.0f;"));
        }
    }
    e.open_loop("k0", &u(0), k, &u(depth));
    // A's slice: `tile` rows × `depth`; B's: `depth` × `tile` columns.
    let a_depth_inner = gemm.lhs.col_stride == 1;
    let b_column_inner = gemm.rhs.col_stride == 1;
    for l in 0..tile * depth / (THREADS * THREADS) {
        let slot = format!("lid + {}", u(l * THREADS * THREADS));
        let (row, p) = split(&slot, a_depth_inner, tile, depth);
        load_tile(
            &mut e,
            "tile_a",
            &gemm.lhs,
            &a_base,
            (&format!("tm * {} + {row}", u(tile)), m),
            (&format!("k0 + {p}"), k),
            &format!("({p}) * {} + {row}", u(tile)),
        );
        let (column, p) = split(&slot, !b_column_inner, tile, depth);
        load_tile(
            &mut e,
            "tile_b",
            &gemm.rhs,
            &b_base,
            (&format!("k0 + {p}"), k),
            (&format!("tn * {} + {column}", u(tile)), n),
            &format!("({p}) * {} + {column}", u(tile)),
        );
    }
    e.line("workgroupBarrier();");
    e.open_loop("kk", &u(0), depth, &u(1));
    for i in 0..block {
        e.line(&format!(
            "let a{i} = tile_a[kk * {} + ty + {}];",
            u(tile),
            u(THREADS * i)
        ));
    }
    for j in 0..block {
        e.line(&format!(
            "let b{j} = tile_b[kk * {} + tx + {}];",
            u(tile),
            u(THREADS * j)
        ));
    }
    for i in 0..block {
        for j in 0..block {
            e.line(&format!("c{i}{j} = fma(a{i}, b{j}, c{i}{j});"));
        }
    }
    e.close();
    e.line("workgroupBarrier();");
    e.close();
    // Each finished element: the epilogue, then the store.
    let out_arg = kernel.body.parameters.len() + output;
    let out_id = match epilogue {
        Some(ep) => ep.outputs[0],
        None => kernel.outputs[output],
    };
    let product = epilogue.and_then(|ep| ep.body.parameters.last().copied());
    let out_shape = e.shape(out_id);
    let order: Vec<usize> = (0..out_shape.rank()).collect();
    for i in 0..block {
        for j in 0..block {
            e.open(&format!(
                "if (tm * {tile} + ty + {} < {} && tn * {tile} + tx + {} < {})",
                u(THREADS * i),
                u(m),
                u(THREADS * j),
                u(n),
                tile = u(tile)
            ));
            let at = e.bind(
                "u32",
                &format!(
                    "(b * {} + tm * {tile} + ty + {}) * {} + tn * {tile} + tx + {}",
                    u(m),
                    u(THREADS * i),
                    u(n),
                    u(THREADS * j),
                    tile = u(tile)
                ),
            );
            let value = match product {
                Some(p) => {
                    e.given.insert(p, format!("c{i}{j}"));
                    let coords = e.delinearize(&at, &out_shape.dims, &order);
                    e.element_at(out_id, &coords)
                }
                None => format!("c{i}{j}"),
            };
            e.store(out_arg, ElementType::F32, &at, &value);
            e.close();
        }
    }
    e.close();
    let name = match &kernel.schedule {
        crate::kernel::Schedule::Products(p) if p.len() > 1 => format!("{}.{output}", kernel.name),
        _ => kernel.name.clone(),
    };
    assemble(&name, args, e, &format!("{THREADS}, {THREADS}"), groups)
}

/// The tile slot `slot` as (outer, inner) positions of a `wide × depth` slice
/// whose inner index runs fastest (`inner_first`) or whose wide index does.
fn split(slot: &str, inner_first: bool, wide: usize, depth: usize) -> (String, String) {
    if inner_first {
        (
            format!("({slot}) / {}", u(depth)),
            format!("({slot}) % {}", u(depth)),
        )
    } else {
        (
            format!("({slot}) % {}", u(wide)),
            format!("({slot}) / {}", u(wide)),
        )
    }
}

/// Loads one element of a view into a tile, zero outside the matrix.
fn load_tile(
    e: &mut Emitter,
    tile: &str,
    view: &MatrixView,
    base: &str,
    (row, rows): (&str, usize),
    (col, cols): (&str, usize),
    slot: &str,
) {
    let r = e.bind("u32", row);
    let c = e.bind("u32", col);
    let x = e.fresh("x");
    e.line(&format!("var {x}: f32 = 0.0f;"));
    e.line(&format!(
        "if ({r} < {} && {c} < {}) {{ {x} = a{}[{base} + {r} * {} + {c} * {}]; }}",
        u(rows),
        u(cols),
        view.input,
        u(view.row_stride),
        u(view.col_stride)
    ));
    e.line(&format!("{tile}[{slot}] = {x};"));
}

/// Where batch `b` of a view starts, as a WGSL expression.
fn batch_offset(e: &mut Emitter, view: &MatrixView) -> String {
    let mut terms = Vec::new();
    let mut rest = "b".to_string();
    for &(extent, stride) in view.batch.iter().rev() {
        if extent > 1 {
            terms.push(format!("({rest} % {}) * {}", u(extent), u(stride)));
        }
        rest = format!("({rest} / {})", u(extent));
    }
    if terms.is_empty() {
        return u(0);
    }
    e.bind("u32", &terms.join(" + "))
}
