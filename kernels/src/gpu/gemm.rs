//! The tiled GEMM shader: a workgroup of 16 × 16 threads computes a tile of
//! `C[b] = A[b] · B[b]`, 128 × 128 for large products and 64 × 64 for small
//! ones, staging slices of A and B (128 × 8, or 64 × 16) in workgroup memory;
//! each thread accumulates an 8 × 8 (or 4 × 4) register block, rows `ty + 16i`
//! and columns `tx + 16j`, so stores and shared reads are contiguous across a
//! row of threads. Operands are read through their strided views, in
//! the order that makes neighbouring threads read neighbouring words. The
//! epilogue runs on each finished element before its one store.

use omelet_compiler::hlo::{ElementType, InstrId, Op};

use super::emit::{Emitter, u};
use super::schedule::assemble;
use super::{Shader, groups_for};
use crate::kernel::{Gemm, Kernel, MatrixView, Schedule, elementwise_readers};

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

/// Where a product's operand elements come from.
pub(super) enum Source<'a> {
    /// A strided view of a kernel input, read directly.
    View(&'a MatrixView),
    /// A value of the kernel's body, computed where a tile needs it: its
    /// batch, row and column dimensions (each group row-major).
    Value {
        id: InstrId,
        batch: Vec<usize>,
        rows: Vec<usize>,
        cols: Vec<usize>,
    },
}

/// `C[b] = A[b] · B[b]` for `b < batch`, `A` being `m × k` and `B` `k × n`.
pub(super) struct Product<'a> {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub lhs: Source<'a>,
    pub rhs: Source<'a>,
}

impl<'a> Product<'a> {
    pub fn of_views(g: &'a Gemm) -> Product<'a> {
        Product {
            batch: g.batch,
            m: g.m,
            n: g.n,
            k: g.k,
            lhs: Source::View(&g.lhs),
            rhs: Source::View(&g.rhs),
        }
    }

    /// A kernel that is one product of computed operands with an epilogue:
    /// a single `f32` dot and no reduction, whose one row-major output is the
    /// dot or elementwise ops reading it at its own index. Returns the dot.
    pub fn computed(kernel: &Kernel) -> Option<(InstrId, Product<'static>)> {
        let body = &kernel.body;
        let live = body.live();
        let dot = single_dot(kernel)?;
        let reduces = body
            .ids()
            .any(|id| live[id.index()] && matches!(body.instr(id).op, Op::Reduce { .. }));
        let [out] = kernel.outputs.as_slice() else {
            return None;
        };
        let instr = body.instr(dot);
        let Op::Dot(d) = &instr.op else {
            return None;
        };
        let shape = instr.array_shape();
        let out_shape = body.instr(*out).array_shape();
        let fits = !reduces
            && shape.element == ElementType::F32
            && out_shape.same_logical(shape)
            && out_shape.has_default_layout()
            && elementwise_readers(body, dot);
        if !fits {
            return None;
        }
        let (lhs, rhs) = (instr.operands[0], instr.operands[1]);
        let (ls, rs) = (body.instr(lhs).array_shape(), body.instr(rhs).array_shape());
        let free = |rank: usize, batch: &[usize], contracting: &[usize]| -> Vec<usize> {
            (0..rank)
                .filter(|i| !batch.contains(i) && !contracting.contains(i))
                .collect()
        };
        let size =
            |dims: &[usize], of: &[usize]| -> usize { of.iter().map(|&d| dims[d]).product() };
        let (lf, rf) = (
            free(ls.rank(), &d.lhs_batch, &d.lhs_contracting),
            free(rs.rank(), &d.rhs_batch, &d.rhs_contracting),
        );
        let product = Product {
            batch: size(&ls.dims, &d.lhs_batch),
            m: size(&ls.dims, &lf),
            n: size(&rs.dims, &rf),
            k: size(&ls.dims, &d.lhs_contracting),
            lhs: Source::Value {
                id: lhs,
                batch: d.lhs_batch.clone(),
                rows: lf,
                cols: d.lhs_contracting.clone(),
            },
            rhs: Source::Value {
                id: rhs,
                batch: d.rhs_batch.clone(),
                rows: d.rhs_contracting.clone(),
                cols: rf,
            },
        };
        Some((dot, product))
    }
}

/// The kernel's dot, when it has exactly one.
pub(super) fn single_dot(kernel: &Kernel) -> Option<InstrId> {
    let body = &kernel.body;
    let live = body.live();
    let mut dots = body
        .ids()
        .filter(|id| live[id.index()])
        .filter(|&id| matches!(body.instr(id).op, Op::Dot(_)));
    match (dots.next(), dots.next()) {
        (Some(dot), None) => Some(dot),
        _ => None,
    }
}

/// The shader computing `product`, the body's `dot`, into output `output` of
/// `kernel` through the epilogue between them.
pub(super) fn shader(
    kernel: &Kernel,
    product: &Product,
    dot: InstrId,
    output: usize,
    args: &[ElementType],
) -> Shader {
    let (m, n, k) = (product.m, product.n, product.k);
    let tiling = Tiling::for_product(m, n);
    let (tile, depth, block) = (tiling.tile, tiling.depth, tiling.block());
    // An empty product has no tiles; its counts stay 1 in the tile index
    // arithmetic, where WGSL rejects a division by the constant 0.
    let (tiles_m, tiles_n) = (m.div_ceil(tile).max(1), n.div_ceil(tile).max(1));
    let tiles = product.batch * m.div_ceil(tile) * n.div_ceil(tile);
    let groups = groups_for(tiles, 1);
    let mut e = Emitter::new(&kernel.body, &kernel.regions);
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
    let a_batch = batch(&mut e, &product.lhs);
    let b_batch = batch(&mut e, &product.rhs);
    for i in 0..block {
        for j in 0..block {
            e.line(&format!("var c{i}{j}: f32 = 0.0f;"));
        }
    }
    e.open_loop("k0", &u(0), k, &u(depth));
    // A's slice: `tile` rows × `depth`; B's: `depth` × `tile` columns. Views
    // are read along their unit stride; computed operands as row-major.
    let a_depth_inner = !matches!(product.lhs, Source::View(v) if v.col_stride != 1);
    let b_column_inner = !matches!(product.rhs, Source::View(v) if v.col_stride != 1);
    for l in 0..tile * depth / (THREADS * THREADS) {
        let slot = format!("lid + {}", u(l * THREADS * THREADS));
        let (row, p) = split(&slot, a_depth_inner, tile, depth);
        load_tile(
            &mut e,
            "tile_a",
            (&product.lhs, &a_batch),
            (&format!("tm * {} + {row}", u(tile)), m),
            (&format!("k0 + {p}"), k),
            &format!("({p}) * {} + {row}", u(tile)),
        );
        let (column, p) = split(&slot, !b_column_inner, tile, depth);
        load_tile(
            &mut e,
            "tile_b",
            (&product.rhs, &b_batch),
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
    let out_id = kernel.outputs[output];
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
            e.given.insert(dot, format!("c{i}{j}"));
            let coords = e.delinearize(&at, &out_shape.dims, &order);
            let value = e.element_at(out_id, &coords);
            e.store(out_arg, out_shape.element, &at, &value);
            e.close();
        }
    }
    e.close();
    let name = match &kernel.schedule {
        Schedule::Products(p) if p.len() > 1 => format!("{}.{output}", kernel.name),
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

/// Loads one element of an operand into a tile, zero outside the matrix.
/// `at` is the batch's start in a view, or its coordinates in a value.
fn load_tile(
    e: &mut Emitter,
    tile: &str,
    (source, at): (&Source, &[String]),
    (row, rows): (&str, usize),
    (col, cols): (&str, usize),
    slot: &str,
) {
    let r = e.bind("u32", row);
    let c = e.bind("u32", col);
    let x = e.fresh("x");
    e.line(&format!("var {x}: f32 = 0.0f;"));
    e.open(&format!("if ({r} < {} && {c} < {})", u(rows), u(cols)));
    let v = match source {
        Source::View(view) => e.bind(
            "f32",
            &format!(
                "a{}[{} + {r} * {} + {c} * {}]",
                view.input,
                at[0],
                u(view.row_stride),
                u(view.col_stride)
            ),
        ),
        Source::Value {
            id,
            batch,
            rows: row_dims,
            cols: col_dims,
        } => {
            let dims = &e.shape(*id).dims;
            let mut coords = vec![u(0); dims.len()];
            for (&d, c) in batch.iter().zip(at) {
                coords[d] = c.clone();
            }
            for (group, linear) in [(row_dims, &r), (col_dims, &c)] {
                let sizes: Vec<usize> = group.iter().map(|&d| dims[d]).collect();
                let order: Vec<usize> = (0..sizes.len()).collect();
                for (&d, c) in group.iter().zip(e.delinearize(linear, &sizes, &order)) {
                    coords[d] = c;
                }
            }
            e.element_at(*id, &coords)
        }
    };
    e.line(&format!("{x} = {v};"));
    e.close();
    e.line(&format!("{tile}[{slot}] = {x};"));
}

/// Batch `b` of an operand: where it starts in a view (one expression), or its
/// coordinates along a value's batch dimensions.
fn batch(e: &mut Emitter, source: &Source) -> Vec<String> {
    match source {
        Source::View(view) => {
            let mut terms = Vec::new();
            let mut rest = "b".to_string();
            for &(extent, stride) in view.batch.iter().rev() {
                if extent > 1 {
                    terms.push(format!("({rest} % {}) * {}", u(extent), u(stride)));
                }
                rest = format!("({rest} / {})", u(extent.max(1)));
            }
            match terms.is_empty() {
                true => vec![u(0)],
                false => vec![e.bind("u32", &terms.join(" + "))],
            }
        }
        Source::Value { id, batch, .. } => {
            let dims = &e.shape(*id).dims;
            let sizes: Vec<usize> = batch.iter().map(|&d| dims[d]).collect();
            let order: Vec<usize> = (0..sizes.len()).collect();
            e.delinearize("b", &sizes, &order)
        }
    }
}
