//! The tiled GEMM shader: a workgroup of 16 × 16 threads computes a 64 × 64 tile
//! of `C[b] = A[b] · B[b]`, staging 64 × 16 slices of A and 16 × 64 of B in
//! workgroup memory; each thread accumulates a 4 × 4 register block (rows
//! `ty + 16i`, columns `tx + 16j`, so stores and shared reads are contiguous
//! across a row of threads). Operands are read through their strided views, in
//! the order that makes neighbouring threads read neighbouring words. The
//! epilogue runs on each finished element before its one store.

use omelet_compiler::hlo::ElementType;

use super::emit::{Emitter, u};
use super::schedule::assemble;
use super::{Shader, groups_for};
use crate::kernel::{Gemm, Kernel, MatrixView};

const TILE: usize = 64;
const DEPTH: usize = 16;
const THREADS: usize = 16;
const BLOCK: usize = TILE / THREADS;

/// The shader computing `gemm` into output `output` of `kernel`.
pub(super) fn shader(kernel: &Kernel, gemm: &Gemm, output: usize, args: &[ElementType]) -> Shader {
    let (m, n, k) = (gemm.m, gemm.n, gemm.k);
    let (tiles_m, tiles_n) = (m.div_ceil(TILE), n.div_ceil(TILE));
    let tiles = gemm.batch * tiles_m * tiles_n;
    let groups = groups_for(tiles, 1);
    let epilogue = gemm.epilogue.as_deref();
    let mut e = Emitter::new(epilogue.map_or(&kernel.body, |ep| &ep.body));
    e.globals.push_str(&format!(
        "var<workgroup> tile_a: array<f32, {}>;\nvar<workgroup> tile_b: array<f32, {}>;\n",
        TILE * DEPTH,
        TILE * DEPTH
    ));
    e.line(&format!("let tx = lid % {};", u(THREADS)));
    e.line(&format!("let ty = lid / {};", u(THREADS)));
    e.open_loop("t", "wid.x", tiles, &u(groups as usize));
    e.line(&format!("let tn = t % {};", u(tiles_n)));
    e.line(&format!("let tm = (t / {}) % {};", u(tiles_n), u(tiles_m)));
    e.line(&format!("let b = t / {};", u(tiles_n * tiles_m)));
    let a_base = batch_offset(&mut e, &gemm.lhs);
    let b_base = batch_offset(&mut e, &gemm.rhs);
    for i in 0..BLOCK {
        for j in 0..BLOCK {
            e.line(&format!("var c{i}{j}: f32 = 0.0f;"));
        }
    }
    e.open_loop("k0", &u(0), k, &u(DEPTH));
    // A's slice: 64 rows × 16 depths; B's: 16 depths × 64 columns.
    let a_depth_inner = gemm.lhs.col_stride == 1;
    let b_column_inner = gemm.rhs.col_stride == 1;
    for l in 0..TILE * DEPTH / (THREADS * THREADS) {
        let slot = format!("lid + {}", u(l * THREADS * THREADS));
        let (row, depth) = split(&slot, a_depth_inner, TILE);
        load_tile(
            &mut e,
            "tile_a",
            &gemm.lhs,
            &a_base,
            (&format!("tm * {} + {row}", u(TILE)), m),
            (&format!("k0 + {depth}"), k),
            &format!("({depth}) * {} + {row}", u(TILE)),
        );
        let (column, depth) = split(&slot, !b_column_inner, TILE);
        load_tile(
            &mut e,
            "tile_b",
            &gemm.rhs,
            &b_base,
            (&format!("k0 + {depth}"), k),
            (&format!("tn * {} + {column}", u(TILE)), n),
            &format!("({depth}) * {} + {column}", u(TILE)),
        );
    }
    e.line("workgroupBarrier();");
    e.open_loop("kk", &u(0), DEPTH, &u(1));
    for i in 0..BLOCK {
        e.line(&format!(
            "let a{i} = tile_a[kk * {} + ty + {}];",
            u(TILE),
            u(THREADS * i)
        ));
    }
    for j in 0..BLOCK {
        e.line(&format!(
            "let b{j} = tile_b[kk * {} + tx + {}];",
            u(TILE),
            u(THREADS * j)
        ));
    }
    for i in 0..BLOCK {
        for j in 0..BLOCK {
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
    for i in 0..BLOCK {
        for j in 0..BLOCK {
            e.open(&format!(
                "if (tm * {tile} + ty + {} < {} && tn * {tile} + tx + {} < {})",
                u(THREADS * i),
                u(m),
                u(THREADS * j),
                u(n),
                tile = u(TILE)
            ));
            let at = e.bind(
                "u32",
                &format!(
                    "(b * {} + tm * {tile} + ty + {}) * {} + tn * {tile} + tx + {}",
                    u(m),
                    u(THREADS * i),
                    u(n),
                    u(THREADS * j),
                    tile = u(TILE)
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

/// The tile slot `slot` as (outer, inner) positions of a `wide × 16` slice whose
/// inner index runs fastest (`inner_first`) or whose wide index does.
fn split(slot: &str, inner_first: bool, wide: usize) -> (String, String) {
    if inner_first {
        (
            format!("({slot}) / {}", u(DEPTH)),
            format!("({slot}) % {}", u(DEPTH)),
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
