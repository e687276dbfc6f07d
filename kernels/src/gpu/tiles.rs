//! Elementwise kernels that read an input transposed (`x.T + y`): a thread per
//! output element in the output's memory order would read the input with a
//! stride. Instead each workgroup takes a 32 × 32 tile of the plane of the two
//! dimensions involved, loads the transposed inputs' part of it into workgroup
//! memory with neighbouring threads on neighbouring words, then computes the
//! outputs reading the tile across: both global accesses stay contiguous.

use std::fmt::Write;

use omelet_compiler::hlo::{ElementType, InstrId, Op};

use super::emit::{Emitter, reg_type, u};
use super::schedule::assemble;
use super::{Shader, groups_for};
use crate::kernel::{Kernel, physical_order};

const TILE: usize = 32;
/// Rows of the tile one pass of the workgroup covers (32 × 8 threads).
const ROWS: usize = 8;

/// The tiled shader, when the kernel's outputs share a layout and some input is
/// read through a transpose whose innermost dimension in memory is not theirs.
pub(super) fn transposed(kernel: &Kernel, args: &[ElementType]) -> Option<Shader> {
    let body = &kernel.body;
    let shapes = kernel.output_shapes();
    let out = shapes[0];
    let same = shapes
        .iter()
        .all(|s| s.dims == out.dims && s.minor_to_major == out.minor_to_major);
    // `a`: the outputs' innermost dimension; `b`: the one the input runs along.
    let &a = out.minor_to_major.first()?;
    let live = body.live();
    let reads_along = |id: InstrId| -> Option<usize> {
        let instr = body.instr(id);
        let Op::Transpose { permutation } = &instr.op else {
            return None;
        };
        let input = body.instr(instr.operands[0]);
        let fits = matches!(input.op, Op::Parameter(_))
            && instr.array_shape().dims == out.dims
            && input.array_shape().element != ElementType::Pred;
        let &q = input.array_shape().minor_to_major.first()?;
        let b = permutation.iter().position(|&p| p == q)?;
        (fits && b != a).then_some(b)
    };
    let candidates: Vec<(InstrId, usize)> = body
        .ids()
        .filter(|id| live[id.index()])
        .filter_map(|id| reads_along(id).map(|b| (id, b)))
        .collect();
    let &(_, b) = candidates.first().filter(|_| same)?;
    let tiled: Vec<InstrId> = candidates
        .iter()
        .filter(|&&(_, along)| along == b)
        .map(|&(id, _)| id)
        .collect();

    let mut e = Emitter::new(body, &kernel.regions);
    for &t in &tiled {
        let ty = reg_type(body.instr(t).array_shape().element);
        // One padding column keeps the reads across the tile off one bank.
        let _ = writeln!(
            e.globals,
            "var<workgroup> tile{}: array<{ty}, {}>;",
            t.index(),
            TILE * (TILE + 1)
        );
    }
    // Tiles: every index of the other dimensions, times the (b, a) plane's.
    let others: Vec<usize> = physical_order(out)
        .into_iter()
        .filter(|&d| d != a && d != b)
        .collect();
    let other_dims: Vec<usize> = others.iter().map(|&d| out.dims[d]).collect();
    let tiles = other_dims.iter().product::<usize>()
        * out.dims[a].div_ceil(TILE)
        * out.dims[b].div_ceil(TILE);
    // Kept at least 1 in the index arithmetic (an empty output has no tiles).
    let (tiles_a, tiles_b) = (
        out.dims[a].div_ceil(TILE).max(1),
        out.dims[b].div_ceil(TILE).max(1),
    );
    let groups = groups_for(tiles, 1);
    e.line(&format!("let tx = lid % {};", u(TILE)));
    e.line(&format!("let ty = lid / {};", u(TILE)));
    e.open_loop("t", "wid.x", tiles, &u(groups as usize));
    e.line(&format!("let ta = t % {};", u(tiles_a)));
    e.line(&format!("let tb = (t / {}) % {};", u(tiles_a), u(tiles_b)));
    let rest = e.bind("u32", &format!("t / {}", u(tiles_a * tiles_b)));
    let order: Vec<usize> = (0..others.len()).collect();
    let other_coords = e.delinearize(&rest, &other_dims, &order);
    let coords_at = |ca: &str, cb: &str| -> Vec<String> {
        let mut coords = vec![u(0); out.rank()];
        for (&d, c) in others.iter().zip(&other_coords) {
            coords[d] = c.clone();
        }
        coords[a] = ca.to_string();
        coords[b] = cb.to_string();
        coords
    };
    let inside = |e: &mut Emitter, ca: &str, cb: &str| {
        e.open(&format!(
            "if ({ca} < {} && {cb} < {})",
            u(out.dims[a]),
            u(out.dims[b])
        ));
    };
    // Load: threads along b, the inputs' innermost dimension.
    for k in 0..TILE / ROWS {
        let (ca, cb) = (
            e.bind("u32", &format!("ta * {} + ty + {}", u(TILE), u(k * ROWS))),
            e.bind("u32", &format!("tb * {} + tx", u(TILE))),
        );
        inside(&mut e, &ca, &cb);
        let coords = coords_at(&ca, &cb);
        for &t in &tiled {
            let v = e.element_at(t, &coords);
            let slot = format!("(ty + {}) * {} + tx", u(k * ROWS), u(TILE + 1));
            e.line(&format!("tile{}[{slot}] = {v};", t.index()));
        }
        e.close();
    }
    e.line("workgroupBarrier();");
    // Compute: threads along a, the outputs' innermost dimension.
    let inputs = body.parameters.len();
    for k in 0..TILE / ROWS {
        let (ca, cb) = (
            e.bind("u32", &format!("ta * {} + tx", u(TILE))),
            e.bind("u32", &format!("tb * {} + ty + {}", u(TILE), u(k * ROWS))),
        );
        inside(&mut e, &ca, &cb);
        let coords = coords_at(&ca, &cb);
        for &t in &tiled {
            let ty = reg_type(body.instr(t).array_shape().element);
            let slot = format!("tx * {} + ty + {}", u(TILE + 1), u(k * ROWS));
            let v = e.bind(ty, &format!("tile{}[{slot}]", t.index()));
            e.remember(t, &coords, v);
        }
        for (o, &id) in kernel.outputs.iter().enumerate() {
            let v = e.element_at(id, &coords);
            e.store_at(inputs + o, e.shape(id), &coords, &v);
        }
        e.close();
    }
    // The next tile reuses the arrays.
    e.line("workgroupBarrier();");
    e.close();
    Some(assemble(
        &kernel.name,
        args,
        e,
        &(TILE * ROWS).to_string(),
        groups,
    ))
}
