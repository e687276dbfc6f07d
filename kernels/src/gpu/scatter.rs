//! The scatter schedule: one invocation per coordinate of the owned operand
//! dimensions ([`crate::scatter::Owned`], grid-stride), neighbouring
//! invocations on neighbouring elements. Each copies its elements of the
//! operand, then walks every update serially, applying those that land on
//! its elements in order: no two invocations write one word, so neither
//! atomics nor barriers are needed. Without an owned dimension one
//! invocation does it all.

use omelet_compiler::hlo::{ElementType, Op};

use super::emit::{Emitter, u};
use super::schedule::assemble;
use super::{Shader, WORKGROUP, groups_for};
use crate::elemental::row_major;
use crate::kernel::{Kernel, physical_order, strides};
use crate::scatter::{Owned, ScatterMap};

pub(super) fn scatter(kernel: &Kernel, owned: &[Owned], args: &[ElementType]) -> Shader {
    let body = &kernel.body;
    let id = kernel.outputs[0];
    let instr = body.instr(id);
    let Op::Scatter { dims, update, .. } = &instr.op else {
        unreachable!("a scatter kernel's output is its scatter")
    };
    let (operand, indices, updates) = (instr.operands[0], instr.operands[1], instr.operands[2]);
    let mut e = Emitter::new(body, &kernel.regions);
    let out = e.shape(id);
    let upd = e.shape(updates);
    let map = ScatterMap::new(dims, e.shape(operand), e.shape(indices));
    let out_arg = body.parameters.len();
    let out_strides = strides(out);

    // The owned dimensions in memory order, the innermost varying fastest
    // across invocations.
    let owned: Vec<Owned> = physical_order(out)
        .into_iter()
        .filter_map(|d| owned.iter().find(|o| o.operand == d).copied())
        .collect();
    let sizes: Vec<usize> = owned.iter().map(|o| out.dims[o.operand]).collect();
    let count: usize = sizes.iter().product();
    let groups = groups_for(count, WORKGROUP);
    let stride = u(groups as usize * WORKGROUP as usize);
    e.open_loop("t", "gid.x", count, &stride);
    let mine = e.delinearize("t", &sizes, &row_major(sizes.len()));

    // This invocation's elements of the operand.
    let mut coords = vec![u(0); out.rank()];
    for (o, c) in owned.iter().zip(&mine) {
        coords[o.operand] = c.clone();
    }
    let rest: Vec<usize> = (0..out.rank())
        .filter(|d| !owned.iter().any(|o| o.operand == *d))
        .collect();
    walk(&mut e, "r", &rest, &out.dims, &mut coords);
    let v = e.element_at(operand, &coords);
    e.store_at(out_arg, out, &coords, &v);
    e.close();

    if map.lands_anywhere() {
        // Every update in order, those of this invocation's coordinates only
        // (a window may be narrower than the operand).
        let inside: Vec<String> = owned
            .iter()
            .zip(&mine)
            .map(|(o, c)| format!("{c} < {}", u(upd.dims[o.update])))
            .collect();
        if !inside.is_empty() {
            e.open(&format!("if ({})", inside.join(" && ")));
        }
        let free = |dims: &[usize]| -> Vec<usize> {
            dims.iter()
                .copied()
                .filter(|&d| !owned.iter().any(|o| o.update == d))
                .collect()
        };
        let (positions, windows) = (free(&map.scatter_dims), free(&map.window_dims));
        let mut coords = vec![u(0); upd.rank()];
        for (o, c) in owned.iter().zip(&mine) {
            coords[o.update] = c.clone();
        }
        walk(&mut e, "s", &positions, &upd.dims, &mut coords);
        let position: Vec<String> = map
            .scatter_dims
            .iter()
            .map(|&d| coords[d].clone())
            .collect();
        let window = map.window(&mut e, indices, &upd.dims, &position);
        if let Some(fits) = &window.fits {
            e.open(&format!("if ({fits})"));
        }
        walk(&mut e, "w", &windows, &upd.dims, &mut coords);
        let target = map.operand_coords(&mut e, &window.starts, &coords);
        let offset = e.offset(&target, &out.dims, &out_strides);
        let old = e.load(out_arg, out.element, &offset);
        let new = e.element_at(updates, &coords);
        let combined = e.region(*update, &[old, new])[0].clone();
        e.store(out_arg, out.element, &offset, &combined);
        e.close();
        if window.fits.is_some() {
            e.close();
        }
        e.close();
        if !inside.is_empty() {
            e.close();
        }
    }
    e.close();
    assemble(&kernel.name, args, e, &WORKGROUP.to_string(), groups)
}

/// Opens one loop `name` over dimensions `dims` of an array of `sizes`,
/// row-major, and sets their coordinates in `coords`. The caller closes it.
fn walk(e: &mut Emitter, name: &str, dims: &[usize], sizes: &[usize], coords: &mut [String]) {
    let extents: Vec<usize> = dims.iter().map(|&d| sizes[d]).collect();
    let name = e.fresh(name);
    e.open_loop(&name, &u(0), extents.iter().product(), &u(1));
    let walked = e.delinearize(&name, &extents, &row_major(extents.len()));
    for (&d, c) in dims.iter().zip(walked) {
        coords[d] = c;
    }
}
