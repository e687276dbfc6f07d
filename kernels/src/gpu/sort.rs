//! Sort and topk kernels: one workgroup per row (a grid-stride loop over the
//! rows), which sorts the row's positions in workgroup memory by a bitonic
//! network, then writes each output's row permuted (a topk's first `k`).
//!
//! The network orders positions by "goes first": the comparator region (for
//! topk, total order), then the smaller position. For a comparator that is a
//! strict weak order (every JAX comparator, which orders NaNs and zeros in
//! total order) that is a total order, whose one sorted permutation is the
//! interpreter's stable merge sort's. For other comparators (a plain `compare`
//! of floats, NaN unordered) the network still gives a permutation, not
//! necessarily the interpreter's. The row is padded to a power of two with
//! positions past its end, which go after every element and read nothing.

use std::fmt::Write;

use omelet_compiler::hlo::{Direction, ElementType};

use super::emit::{Emitter, u};
use super::{Shader, Target, WORKGROUP, groups_for, ops, schedule::assemble};
use crate::kernel::{Kernel, Sort, SortOrder};

/// The sort kernel's shader, or why this adapter cannot run it: a row's
/// positions must fit in workgroup memory.
pub(super) fn shader(
    kernel: &Kernel,
    sort: &Sort,
    args: &[ElementType],
    target: &Target,
) -> Result<Shader, String> {
    let body = &kernel.body;
    let n = sort.length(body);
    let padded = n.next_power_of_two();
    let most = (target.workgroup_storage / 4 + 1).next_power_of_two() / 2;
    if padded > most {
        return Err(format!(
            "{} sorts rows of {n} elements, but the GPU backend sorts a row in workgroup memory: \
             at most {most} elements on this adapter ({} bytes)",
            kernel.name, target.workgroup_storage
        ));
    }
    let threads = (padded / 2).clamp(32, WORKGROUP as usize);
    let rows = sort.rows(body);
    let dims = &sort.operand(body).dims;
    let others: Vec<usize> = (0..dims.len()).filter(|&d| d != sort.dimension).collect();
    let other_dims: Vec<usize> = others.iter().map(|&d| dims[d]).collect();
    let operands = body.instr(sort.op).operands.clone();

    let mut e = Emitter::new(body, &kernel.regions);
    let _ = writeln!(e.globals, "var<workgroup> order: array<u32, {padded}>;");
    let groups = groups_for(rows, 1);
    e.open_loop("row", "wid.x", rows, &u(groups as usize));
    let row_order: Vec<usize> = (0..others.len()).collect();
    let outer = e.delinearize("row", &other_dims, &row_order);
    // The coordinates of position `p` of the row.
    let at = |p: &str| -> Vec<String> {
        let mut coords = outer.clone();
        coords.insert(sort.dimension, p.to_string());
        coords
    };
    e.open_loop("i", "lid", padded, &u(threads));
    e.line("order[i] = i;");
    e.close();
    e.line("workgroupBarrier();");
    e.open(&format!(
        "for (var k: u32 = 2u; k <= {}; k = k << 1u)",
        u(padded)
    ));
    e.open("for (var j: u32 = k >> 1u; j > 0u; j = j >> 1u)");
    e.open_loop("t", "lid", padded / 2, &u(threads));
    // Pair (i, l = i + j) of the j-step; blocks of k alternate direction.
    e.line("let i = ((t & ~(j - 1u)) << 1u) | (t & (j - 1u));");
    e.line("let l = i | j;");
    e.line("let a = order[i];");
    e.line("let b = order[l];");
    e.line("let up = (i & k) == 0u;");
    // Swap where the one meant to come second goes first.
    e.line("let p = select(a, b, up);");
    e.line("let q = select(b, a, up);");
    e.line(&format!("var swap = p < {n} && q >= {n};", n = u(n)));
    e.open(&format!("if (p < {n} && q < {n})", n = u(n)));
    let before = first(&mut e, sort, &operands, &at("p"), &at("q"));
    let after = first(&mut e, sort, &operands, &at("q"), &at("p"));
    e.line(&format!("swap = {before} || (!{after} && p < q);"));
    e.close();
    e.open("if (swap)");
    e.line("order[i] = b;");
    e.line("order[l] = a;");
    e.close();
    e.close();
    e.line("workgroupBarrier();");
    e.close();
    e.close();
    e.open_loop("i", "lid", sort.kept(body), &u(threads));
    e.line("let source = order[i];");
    let inputs = body.parameters.len();
    for (o, &output) in kernel.outputs.iter().enumerate() {
        let shape = e.shape(output);
        let value = match (sort.order, o) {
            (SortOrder::TopK { .. }, 1) => "i32(source)".to_string(),
            _ => e.element_at(operands[o.min(operands.len() - 1)], &at("source")),
        };
        e.store_at(inputs + o, shape, &at("i"), &value);
    }
    e.close();
    // The next row reuses `order`.
    e.line("workgroupBarrier();");
    e.close();
    Ok(assemble(
        &kernel.name,
        args,
        e,
        &threads.to_string(),
        groups,
    ))
}

/// Whether the elements at `x` go before those at `y` (a `bool`).
fn first(
    e: &mut Emitter,
    sort: &Sort,
    operands: &[omelet_compiler::hlo::InstrId],
    x: &[String],
    y: &[String],
) -> String {
    match sort.order {
        SortOrder::Comparator(region) => {
            let args: Vec<String> = operands
                .iter()
                .flat_map(|&o| [x, y].map(|at| e.element_at(o, at)))
                .collect();
            e.region(region, &args).remove(0)
        }
        SortOrder::TopK { largest, .. } => {
            let element = e.shape(operands[0]).element;
            let (a, b) = (e.element_at(operands[0], x), e.element_at(operands[0], y));
            let direction = if largest {
                Direction::Gt
            } else {
                Direction::Lt
            };
            e.bind(
                "bool",
                &ops::compare_total_order(direction, element, &a, &b),
            )
        }
    }
}
