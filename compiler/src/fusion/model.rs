//! What one kernel can compute: the legality test for a set of instructions.
//!
//! Two shapes of kernel exist. A *loop* kernel (kLoop) computes elementwise and
//! data-movement ops element by element over its output, reading any operand
//! through an index map. A *row* kernel walks the "outer" dimensions of its heroes
//! (reductions over trailing dimensions, dots) and keeps one row of every value in
//! cache: softmax and layernorm become one pass over each row, a dot its epilogue on
//! each output row, and attention's second dot can consume the rows of the first.
//! Reductions over leading dimensions form a row kernel whose reductions are only
//! outputs (column sums, read once for all siblings).

use rustc_hash::FxHashSet;

use crate::hlo::{Computation, FusionKind, InstrId, Op, join};

/// Dots inside a row kernel re-read their right operand once per block of rows;
/// beyond this many bytes per batch that operand no longer stays in cache.
const ROW_DOT_RHS_BUDGET: usize = 1 << 20;

/// The kind of kernel a member set forms, or why it forms none. Grouping
/// reaches the same decisions incrementally (`grouping.rs`); its tests check
/// them against this.
#[cfg_attr(not(test), allow(dead_code))]
pub fn classify(comp: &Computation, members: &FxHashSet<InstrId>) -> Result<FusionKind, String> {
    let heroes: Vec<InstrId> = sorted(members)
        .into_iter()
        .filter(|&m| is_hero(&comp.instr(m).op))
        .collect();
    if heroes.is_empty() {
        return loop_kernel(comp, members).map(|()| FusionKind::Loop);
    }
    let inside = |id: InstrId| members.contains(&id);
    let outer = outer_dims(comp, &inside, &heroes)?;
    // The loop test of a column kernel is one test of the whole set, made once.
    let loop_ok = if outer.is_empty() {
        loop_kernel(comp, members)
    } else {
        Ok(())
    };
    for &m in members {
        row_member(comp, &inside, m, &outer, &loop_ok)?;
    }
    let has_dot = heroes
        .iter()
        .any(|&h| matches!(comp.instr(h).op, Op::Dot(_)));
    Ok(if has_dot {
        FusionKind::Output
    } else {
        FusionKind::Input
    })
}

/// Dots and reductions: the ops a row kernel is built around.
pub fn is_hero(op: &Op) -> bool {
    matches!(op, Op::Dot(_) | Op::Reduce { .. })
}

/// Membership of the kernel under test: a set, or the groups being merged.
pub type Inside<'a> = dyn Fn(InstrId) -> bool + 'a;

pub fn sorted(members: &FxHashSet<InstrId>) -> Vec<InstrId> {
    let mut v: Vec<InstrId> = members.iter().copied().collect();
    v.sort();
    v
}

/// Worth computing once, not once per reader.
pub fn is_expensive(op: &Op) -> bool {
    match op {
        Op::Unary(u) => u.is_expensive(),
        Op::Binary(b) => b.is_expensive(),
        Op::Dot(_) | Op::Reduce { .. } | Op::ReduceWindow { .. } | Op::SelectAndScatter { .. } => {
            true
        }
        _ => false,
    }
}

/// The elements an instruction computes (all of a several-result op's).
pub fn elements(comp: &Computation, id: InstrId) -> usize {
    let arrays = comp.instr(id).shape.arrays();
    arrays.iter().map(|a| a.element_count()).sum()
}

/// A loop kernel: its outputs share one shape, and no expensive value is
/// recomputed for more elements than it has.
#[cfg_attr(not(test), allow(dead_code))]
fn loop_kernel(comp: &Computation, members: &FxHashSet<InstrId>) -> Result<(), String> {
    let space = members
        .iter()
        .map(|&m| elements(comp, m))
        .max()
        .unwrap_or(0);
    match members
        .iter()
        .find(|&&m| is_expensive(&comp.instr(m).op) && elements(comp, m) < space)
    {
        Some(&m) => Err(recomputed(comp, m, space)),
        None => Ok(()),
    }
}

/// Why expensive `m` cannot join a loop over `space` elements.
pub fn recomputed(comp: &Computation, m: InstrId, space: usize) -> String {
    format!(
        "{} ({} elements) would be recomputed for each of {space} output elements",
        comp.instr(m).name,
        elements(comp, m)
    )
}

/// The outer dimensions of an outlined fused computation: the leading dimensions
/// that its row kernel walks, which a backend may split across threads. Empty for
/// loop kernels and column reductions.
pub fn kernel_outer_dims(comp: &Computation) -> Vec<usize> {
    let members: FxHashSet<InstrId> = comp
        .ids()
        .filter(|&id| !matches!(comp.instr(id).op, Op::Parameter(_)))
        .collect();
    let heroes: Vec<InstrId> = sorted(&members)
        .into_iter()
        .filter(|&m| is_hero(&comp.instr(m).op))
        .collect();
    let inside = |id: InstrId| members.contains(&id);
    outer_dims(comp, &inside, &heroes).unwrap_or_default()
}

/// The outer dimensions the heroes agree on; empty for a kernel of reductions
/// over leading (or all) dimensions.
fn outer_dims(
    comp: &Computation,
    inside: &Inside,
    heroes: &[InstrId],
) -> Result<Vec<usize>, String> {
    // The members that read a value, found once: a kernel may have many heroes.
    let mut read: Option<FxHashSet<InstrId>> = None;
    let mut outer: Option<(InstrId, Vec<usize>)> = None;
    for &h in heroes {
        let candidate = hero_rows(comp, h);
        if is_column_reduce(comp, h) {
            let read = read.get_or_insert_with(|| {
                comp.ids()
                    .filter(|&m| inside(m))
                    .flat_map(|m| comp.instr(m).operands.iter().copied())
                    .collect()
            });
            if read.contains(&h) {
                return Err(feeds_kernel(comp, h));
            }
        }
        match &outer {
            None => outer = Some((h, candidate)),
            Some((_, o)) if *o == candidate => {}
            Some((first, o)) => return Err(disagree(comp, h, &candidate, *first, o)),
        }
    }
    Ok(outer.map(|(_, o)| o).unwrap_or_default())
}

/// The leading dimensions a hero iterates over: a reduction over trailing
/// dimensions its operand's others, a dot its result's rows; none for a
/// reduction over leading dimensions.
pub fn hero_rows(comp: &Computation, hero: InstrId) -> Vec<usize> {
    let instr = comp.instr(hero);
    match &instr.op {
        Op::Reduce { dimensions, .. } => {
            let operand = comp.instr(instr.operands[0]).array_shape();
            let first = operand.rank() - dimensions.len();
            if dimensions.iter().copied().eq(first..operand.rank()) {
                operand.dims[..first].to_vec()
            } else {
                vec![]
            }
        }
        Op::Dot(d) => {
            let lhs = comp.instr(instr.operands[0]).array_shape();
            let rows = lhs.rank() - d.lhs_contracting.len();
            instr.array_shape().dims[..rows].to_vec()
        }
        _ => unreachable!("heroes are dots and reductions"),
    }
}

/// A reduction over leading dimensions, which is only allowed as a kernel
/// output.
pub fn is_column_reduce(comp: &Computation, id: InstrId) -> bool {
    let instr = comp.instr(id);
    match &instr.op {
        Op::Reduce { dimensions, .. } => {
            let rank = comp.instr(instr.operands[0]).array_shape().rank();
            !dimensions.iter().copied().eq(rank - dimensions.len()..rank)
        }
        _ => false,
    }
}

/// Why a column reduction cannot feed a member of its kernel.
pub fn feeds_kernel(comp: &Computation, hero: InstrId) -> String {
    format!(
        "{} reduces leading dimensions; its result cannot feed the same kernel",
        comp.instr(hero).name
    )
}

/// Why two heroes cannot share a row kernel.
pub fn disagree(
    comp: &Computation,
    hero: InstrId,
    rows: &[usize],
    first: InstrId,
    first_rows: &[usize],
) -> String {
    format!(
        "{} iterates over rows of [{}] and {} over rows of [{}]",
        comp.instr(hero).name,
        join(rows),
        comp.instr(first).name,
        join(first_rows)
    )
}

/// Whether `m` can be computed row by row over `outer`; `loop_ok` is the loop
/// test of the whole kernel, which members of a column kernel must pass.
pub fn row_member(
    comp: &Computation,
    members: &Inside,
    m: InstrId,
    outer: &[usize],
    loop_ok: &Result<(), String>,
) -> Result<(), String> {
    let instr = comp.instr(m);
    let inside: Vec<InstrId> = instr
        .operands
        .iter()
        .copied()
        .filter(|&o| members(o))
        .collect();
    let row_shaped = |id: InstrId| comp.instr(id).array_shape().dims.starts_with(outer);
    let refuse = |why: &str| Err(format!("{} {why}", instr.name));
    if outer.is_empty() {
        // Column reductions and their elementwise producers: a loop over the input.
        return match instr.op {
            Op::Reduce { .. } => Ok(()),
            // A dot with no rows (a vector on the left) takes only an epilogue.
            Op::Dot(_) if inside.is_empty() => Ok(()),
            Op::Dot(_) => refuse("reads an operand computed in the same kernel but has no rows"),
            _ => loop_ok.clone(),
        };
    }
    match &instr.op {
        Op::Dot(d) => {
            let lhs = instr.operands[0];
            let rhs = instr.operands[1];
            if members(rhs) && !is_view_chain(comp, members, rhs) {
                return refuse("reads a right operand computed in the same kernel");
            }
            if members(lhs) {
                let lhs_shape = comp.instr(lhs).array_shape();
                let nb = d.lhs_batch.len();
                let rank = lhs_shape.rank();
                let rows_first = d.lhs_batch.iter().copied().eq(0..nb)
                    && d.lhs_contracting
                        .iter()
                        .copied()
                        .eq(rank - d.lhs_contracting.len()..rank);
                if !rows_first && !is_view_chain(comp, members, lhs) {
                    return refuse("contracts a left operand that is not laid out in rows");
                }
                let rhs_shape = comp.instr(rhs).array_shape();
                let batches: usize = d.rhs_batch.iter().map(|&b| rhs_shape.dims[b]).product();
                let per_batch = rhs_shape.byte_size() / batches.max(1);
                if per_batch > ROW_DOT_RHS_BUDGET {
                    return Err(format!(
                        "{} would re-read {} ({} KiB per batch) once per block of rows",
                        instr.name,
                        comp.instr(rhs).name,
                        per_batch / 1024
                    ));
                }
            }
            Ok(())
        }
        Op::Reduce { .. } => Ok(()),
        _ if inside.is_empty() => Ok(()),
        Op::Broadcast { dimensions } => {
            let keeps_rows = dimensions
                .iter()
                .take(outer.len())
                .copied()
                .eq(0..outer.len());
            if keeps_rows && row_shaped(m) {
                Ok(())
            } else {
                refuse("broadcasts across rows")
            }
        }
        Op::Reshape if row_shaped(instr.operands[0]) && row_shaped(m) => Ok(()),
        op if op.is_elementwise() => {
            if row_shaped(m) {
                Ok(())
            } else {
                refuse("is not computed row by row")
            }
        }
        _ => refuse(&format!("moves data across rows ({})", instr.op.opcode())),
    }
}

/// Whether `id` is data movement (transpose, broadcast, reshape) of values from
/// outside the kernel: an operand read in place through an index map.
fn is_view_chain(comp: &Computation, members: &Inside, id: InstrId) -> bool {
    let instr = comp.instr(id);
    is_movement(&instr.op)
        && instr
            .operands
            .iter()
            .all(|&o| !members(o) || is_view_chain(comp, members, o))
}

/// The data movement a dot reads through in place.
pub fn is_movement(op: &Op) -> bool {
    matches!(
        op,
        Op::Transpose { .. } | Op::Broadcast { .. } | Op::Reshape
    )
}
