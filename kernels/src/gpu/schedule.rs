//! The element, column and row schedules as WGSL, and the shader around them.
//!
//! - Elements (`Schedule::Loop`): one thread per element of the outputs, in the
//!   first output's memory order, so neighbouring threads write neighbouring
//!   words; four elements per thread where the innermost dimension allows.
//! - Columns: one thread per output element, its reduction a loop; neighbouring
//!   threads read neighbouring columns.
//! - Rows: one workgroup per row. Reductions over the row are shared: each thread
//!   accumulates a strided part, then a tree in workgroup memory combines the
//!   parts. Values the row reads repeatedly (dots, their computed operands,
//!   expensive values read twice) are materialized in workgroup memory once.

use std::collections::BTreeSet;
use std::fmt::Write;

use omelet_compiler::hlo::{ArrayShape, ElementType, InstrId, Op, ReduceOp};

use super::emit::{Emitter, RowArray, reg_type, storage_type, u};
use super::lanes::{LANES, lanes_along};
use super::types::{Class, class};
use super::{Shader, Target, WORKGROUP, groups_for, ops, tiles};
use crate::kernel::{Kernel, physical_order, strides};

/// The WGSL module: the bindings, the prelude, then `main`.
pub(super) fn assemble(
    name: &str,
    args: &[ElementType],
    e: Emitter,
    workgroup_size: &str,
    groups: u32,
) -> Shader {
    let mut wgsl = String::new();
    for (i, &element) in args.iter().enumerate() {
        let ty = match e.vector_args.contains(&i) {
            true => format!("vec4<{}>", storage_type(element)),
            false => storage_type(element).to_string(),
        };
        let _ = writeln!(
            wgsl,
            "@group(0) @binding({i}) var<storage, read_write> a{i}: array<{ty}>;"
        );
    }
    let subgroups = if e.subgroups {
        ", @builtin(subgroup_id) sg_id: u32, @builtin(num_subgroups) sg_count: u32"
    } else {
        ""
    };
    let (prelude, body) = e.finish();
    if !prelude.is_empty() {
        wgsl.push('\n');
        wgsl.push_str(&prelude);
    }
    let _ = write!(
        wgsl,
        "\n@compute @workgroup_size({workgroup_size})\n\
         fn main(@builtin(global_invocation_id) gid: vec3<u32>, \
         @builtin(workgroup_id) wid: vec3<u32>, \
         @builtin(local_invocation_index) lid: u32{subgroups}) {{\n{body}}}\n"
    );
    Shader {
        name: name.to_string(),
        wgsl,
        groups,
    }
}

/// Element by element over the outputs (which share one shape): in tiles
/// where an input is read transposed ([`tiles`]), four neighbours per thread
/// where [`vector_dim`] allows, else one.
pub(super) fn elements(kernel: &Kernel, args: &[ElementType]) -> Shader {
    if let Some(shader) = tiles::transposed(kernel, args) {
        return shader;
    }
    let Some(dim) = vector_dim(kernel) else {
        return scalar_elements(kernel, args);
    };
    // Every output is written in words, and every input whose innermost
    // dimension allows it is read in words, until the code shows an input read
    // element by element somewhere: that one is bound as scalars, and the
    // shader is written again.
    let inputs = kernel.body.parameters.len();
    let mut vector: BTreeSet<usize> = (0..args.len())
        .filter(|&a| {
            a >= inputs || {
                let shape = kernel.input_shapes()[a];
                // (An empty array is bound as one word, less than a vec4.)
                shape.element_count() > 0
                    && shape
                        .minor_to_major
                        .first()
                        .is_some_and(|&d| shape.dims[d].is_multiple_of(LANES))
            }
        })
        .collect();
    loop {
        let e = vector_elements(kernel, dim, &vector);
        if e.scalar_reads.is_empty() {
            let groups = groups_for(
                e.shape(kernel.outputs[0]).element_count() / LANES,
                WORKGROUP,
            );
            return assemble(&kernel.name, args, e, &WORKGROUP.to_string(), groups);
        }
        vector.retain(|a| !e.scalar_reads.contains(a));
    }
}

/// The dimension a loop kernel's threads take four elements of: the outputs'
/// innermost in memory, when they share one layout and its size is a multiple
/// of four (and they are not empty: an empty array is bound as one word).
fn vector_dim(kernel: &Kernel) -> Option<usize> {
    let shapes = kernel.output_shapes();
    let first = shapes[0];
    let &dim = first.minor_to_major.first()?;
    let same = shapes
        .iter()
        .all(|s| s.dims == first.dims && s.minor_to_major == first.minor_to_major);
    let fits = first.element_count() > 0 && first.dims[dim].is_multiple_of(LANES);
    (same && fits).then_some(dim)
}

fn vector_elements<'k>(kernel: &'k Kernel, dim: usize, vector: &BTreeSet<usize>) -> Emitter<'k> {
    let mut e = Emitter::new(&kernel.body, &kernel.regions);
    e.vector_args = vector.clone();
    let first = e.shape(kernel.outputs[0]);
    let words = first.element_count() / LANES;
    let groups = groups_for(words, WORKGROUP);
    let stride = u(groups as usize * WORKGROUP as usize);
    e.open_loop("i", "gid.x", words, &stride);
    let base = e.bind("u32", &format!("i * {}", u(LANES)));
    let coords = e.delinearize(&base, &first.dims, &physical_order(first));
    let lanes = lanes_along(&coords, dim);
    let inputs = kernel.body.parameters.len();
    for (o, &id) in kernel.outputs.iter().enumerate() {
        let values = e.elements_at(id, &lanes);
        let shape = e.shape(id);
        let offset = e.offset(&coords, &shape.dims, &strides(shape));
        let words: Vec<String> = values
            .iter()
            .map(|v| match shape.element {
                ElementType::Pred => format!("select(0u, 1u, {v})"),
                _ => v.clone(),
            })
            .collect();
        e.line(&format!(
            "a{}[{offset} / {}] = vec4<{}>({});",
            inputs + o,
            u(LANES),
            storage_type(shape.element),
            words.join(", ")
        ));
    }
    e.close();
    e
}

/// One element per thread.
fn scalar_elements(kernel: &Kernel, args: &[ElementType]) -> Shader {
    let mut e = Emitter::new(&kernel.body, &kernel.regions);
    let first = e.shape(kernel.outputs[0]);
    let count = first.element_count();
    let order = physical_order(first);
    let groups = groups_for(count, WORKGROUP);
    let stride = u(groups as usize * WORKGROUP as usize);
    e.open_loop("i", "gid.x", count, &stride);
    let coords = e.delinearize("i", &first.dims, &order);
    store_outputs(
        &mut e,
        kernel,
        &(0..kernel.outputs.len()).collect::<Vec<_>>(),
        &coords,
    );
    e.close();
    assemble(&kernel.name, args, e, &WORKGROUP.to_string(), groups)
}

/// Reductions over leading dimensions. A reduction output takes a workgroup
/// per 32 neighbouring elements, eight threads each, every thread reducing an
/// eighth of the rows (neighbouring threads on neighbouring words), the eight
/// parts combined in workgroup memory: eight times the workgroups a thread per
/// element would give, to fill a large GPU. Other outputs: a thread each.
pub(super) fn columns(kernel: &Kernel, args: &[ElementType]) -> Shader {
    let mut e = Emitter::new(&kernel.body, &kernel.regions);
    let _ = writeln!(
        e.globals,
        "{}",
        reduction_arrays(kernel, WORKGROUP as usize)
    );
    e.line(&format!("let cx = lid % {};", u(COLUMNS)));
    e.line(&format!("let sy = lid / {};", u(COLUMNS)));
    let mut groups = 1;
    // Sibling reductions of one shape over the same dimensions of operands of
    // one shape share their pass: each operand element is read once.
    let mut siblings: Vec<(ReductionKey, Vec<usize>)> = Vec::new();
    for o in 0..kernel.outputs.len() {
        let id = kernel.outputs[o];
        let shape = e.shape(id);
        let count = shape.element_count();
        let instr = e.body.instr(id);
        let Op::Reduce { dimensions, .. } = &instr.op else {
            let g = groups_for(count, WORKGROUP);
            groups = groups.max(g);
            let stride = u(g as usize * WORKGROUP as usize);
            e.open_loop("i", "gid.x", count, &stride);
            let coords = e.delinearize("i", &shape.dims, &physical_order(shape));
            store_outputs(&mut e, kernel, &[o], &coords);
            e.close();
            continue;
        };
        let key = (
            shape.clone(),
            dimensions.clone(),
            e.shape(instr.operands[0]).clone(),
        );
        match siblings.iter_mut().find(|(k, _)| *k == key) {
            Some((_, outputs)) => outputs.push(o),
            None => siblings.push((key, vec![o])),
        }
    }
    for (_, outputs) in siblings {
        let count = e.shape(kernel.outputs[outputs[0]]).element_count();
        let g = groups_for(count.div_ceil(COLUMNS), 1);
        groups = groups.max(g);
        split_reduce(&mut e, kernel, &outputs, g);
    }
    assemble(&kernel.name, args, e, &WORKGROUP.to_string(), groups)
}

/// What sibling reductions share: output shape, reduced dimensions, operand
/// shape.
type ReductionKey = (ArrayShape, Vec<usize>, ArrayShape);

/// Output elements per workgroup of a column reduction.
const COLUMNS: usize = 32;

/// Sibling reduction outputs `outputs` by [`columns`]' split over `groups`
/// workgroups, in one pass over their operands.
fn split_reduce(e: &mut Emitter, kernel: &Kernel, outputs: &[usize], groups: u32) {
    let reduction = |e: &Emitter, o: usize| {
        let instr = e.body.instr(kernel.outputs[o]);
        let Op::Reduce { reducer, .. } = &instr.op else {
            unreachable!("called on reductions")
        };
        (*reducer, instr.operands[0], instr.operands[1])
    };
    let shape = e.shape(kernel.outputs[outputs[0]]);
    let slices = WORKGROUP as usize / COLUMNS;
    let count = shape.element_count();
    e.open_loop("w", "wid.x", count.div_ceil(COLUMNS), &u(groups as usize));
    let at = e.bind("u32", &format!("w * {} + cx", u(COLUMNS)));
    let coords = e.delinearize(&at, &shape.dims, &physical_order(shape));
    let mut parts = Vec::new();
    for &o in outputs {
        let (reducer, _, _) = reduction(e, o);
        let element = e.shape(kernel.outputs[o]).element;
        let part = e.fresh("part");
        e.line(&format!(
            "var {part}: {} = {};",
            reg_type(element),
            ops::identity(reducer, element)
        ));
        parts.push(part);
    }
    e.open(&format!("if ({at} < {})", u(count)));
    // Siblings reduce operands of one shape over the same dimensions.
    let inner = e.open_reduction(kernel.outputs[outputs[0]], &coords, "r", "sy", slices);
    for (&o, part) in outputs.iter().zip(&parts) {
        let (reducer, operand, _) = reduction(e, o);
        let element = e.shape(kernel.outputs[o]).element;
        let v = e.element_at(operand, &inner);
        let step = ops::combine(e, reducer, element, part, &v);
        e.line(&format!("{part} = {step};"));
    }
    e.close();
    e.close();
    let inputs = kernel.body.parameters.len();
    for (&o, part) in outputs.iter().zip(&parts) {
        let (reducer, _, init) = reduction(e, o);
        let out = e.shape(kernel.outputs[o]);
        let element = out.element;
        let (array, shared, value, op) = to_shared(element, reducer, part);
        e.line(&format!("{array}[lid] = {value};"));
        e.line("workgroupBarrier();");
        e.open(&format!("if (sy == 0u && {at} < {})", u(count)));
        let total = e.fresh("total");
        e.line(&format!("var {total} = {array}[cx];"));
        for s in 1..slices {
            let next = format!("{array}[{} + cx]", u(s * COLUMNS));
            let step = ops::combine(e, op, shared, &total, &next);
            e.line(&format!("{total} = {step};"));
        }
        let total = from_shared(e, element, &total);
        let start = e.element_at(init, &[]);
        let result = ops::combine(e, reducer, element, &start, &total);
        let result = e.bind(reg_type(element), &result);
        e.store_at(inputs + o, out, &coords, &result);
        e.close();
        // The next output, or group of columns, reuses the array.
        e.line("workgroupBarrier();");
    }
    e.close();
}

/// Computes and writes outputs `which` (of one shape) at `coords`.
fn store_outputs(e: &mut Emitter, kernel: &Kernel, which: &[usize], coords: &[String]) {
    let inputs = kernel.body.parameters.len();
    for &o in which {
        let id = kernel.outputs[o];
        let v = e.element_at(id, coords);
        let shape = e.shape(id);
        e.store_at(inputs + o, shape, coords, &v);
    }
}

/// A workgroup per row of the leading dimensions `outer_dims`.
pub(super) fn rows(
    kernel: &Kernel,
    outer_dims: &[usize],
    consumer_lhs: Option<InstrId>,
    args: &[ElementType],
    target: &Target,
) -> Shader {
    let body = &kernel.body;
    let mut e = Emitter::new(body, &kernel.regions);
    let outer = outer_dims.len();
    e.outer = outer;
    let rows: usize = outer_dims.iter().product();
    let live = body.live();
    let is_per_row = |id: InstrId| {
        live[id.index()]
            && !matches!(body.instr(id).op, Op::Constant(_) | Op::Parameter(_))
            && body
                .instr(id)
                .shape
                .as_array()
                .is_some_and(|s| s.dims == outer_dims)
    };
    // A thread per element of the row's widest pass (at least a warp's worth,
    // at most WORKGROUP), so short rows leave no threads idle.
    let widest = body
        .ids()
        .filter(|&id| live[id.index()])
        .filter_map(|id| body.instr(id).shape.as_array())
        .filter(|s| s.dims.starts_with(outer_dims))
        .map(|s| s.dims[outer..].iter().product::<usize>())
        .chain(body.ids().filter(|&id| is_per_row(id)).filter_map(|id| {
            let instr = body.instr(id);
            matches!(instr.op, Op::Reduce { .. })
                .then(|| body.instr(instr.operands[0]).array_shape().element_count() / rows.max(1))
        }))
        .max()
        .unwrap_or(1);
    let threads = widest.next_power_of_two().clamp(32, WORKGROUP as usize);
    let r = Rows {
        threads,
        subgroups: target.subgroups,
    };
    // Materialized rows, while they fit beside the reduction arrays.
    let mut steps = kernel.materialized(outer_dims);
    steps.extend(consumer_lhs.filter(|c| !steps.contains(c)));
    let arrays = reduction_arrays(kernel, threads);
    let mut budget = target
        .workgroup_storage
        .saturating_sub(arrays.lines().count() * 4 * threads);
    let mut fills: Vec<InstrId> = Vec::new();
    for id in body.ids().filter(|id| steps.contains(id)) {
        let shape = body.instr(id).array_shape();
        let bytes = shape.dims[outer..].iter().product::<usize>() * 4;
        if shape.element == ElementType::F32 && bytes > 0 && bytes <= budget {
            budget -= bytes;
            fills.push(id);
        }
    }
    for &m in &fills {
        let n: usize = body.instr(m).array_shape().dims[outer..].iter().product();
        let _ = writeln!(e.globals, "var<workgroup> w{}: array<f32, {n}>;", m.index());
    }
    let _ = writeln!(e.globals, "{arrays}");
    let groups = groups_for(rows, 1);
    e.open_loop("row", "wid.x", rows, &u(groups as usize));
    let order: Vec<usize> = (0..outer).collect();
    let row = e.delinearize("row", outer_dims, &order);
    for id in body.ids() {
        if fills.contains(&id) {
            r.fill(&mut e, id, &row);
        } else if is_per_row(id) {
            let v = match body.instr(id).op {
                Op::Reduce { .. } => r.reduce(&mut e, id, &row),
                _ => e.element_at(id, &row),
            };
            e.remember(id, &row, v);
        }
    }
    let inputs = body.parameters.len();
    let mut whole = Vec::new();
    for (o, &id) in kernel.outputs.iter().enumerate() {
        let shape = e.shape(id);
        if !shape.dims.starts_with(outer_dims) {
            whole.push(o);
            continue;
        }
        let inner = &shape.dims[outer..];
        let order: Vec<usize> = physical_order(shape)
            .into_iter()
            .filter_map(|d| d.checked_sub(outer))
            .collect();
        e.open_loop("j", "lid", inner.iter().product(), &u(threads));
        let mut coords = row.clone();
        coords.extend(e.delinearize("j", inner, &order));
        let v = e.element_at(id, &coords);
        e.store_at(inputs + o, shape, &coords, &v);
        e.close();
    }
    // The next row reuses the workgroup arrays.
    e.line("workgroupBarrier();");
    e.close();
    // Outputs of other shapes (views fusion kept beside the rows) by the first
    // workgroup.
    if !whole.is_empty() {
        e.open("if (wid.x == 0u)");
        for o in whole {
            let shape = e.shape(kernel.outputs[o]);
            e.open_loop("j", "lid", shape.element_count(), &u(threads));
            let coords = e.delinearize("j", &shape.dims, &physical_order(shape));
            store_outputs(&mut e, kernel, &[o], &coords);
            e.close();
        }
        e.close();
    }
    assemble(&kernel.name, args, e, &threads.to_string(), groups)
}

/// A row kernel's workgroup: its size, and whether it reduces by subgroups.
struct Rows {
    threads: usize,
    subgroups: bool,
}

impl Rows {
    /// Fills value `id`'s row in workgroup memory, every thread a strided part;
    /// later reads of it go there.
    fn fill(&self, e: &mut Emitter, id: InstrId, row: &[String]) {
        let shape = e.shape(id);
        let inner = shape.dims[row.len()..].to_vec();
        let order: Vec<usize> = (0..inner.len()).collect();
        e.open_loop("j", "lid", inner.iter().product(), &u(self.threads));
        let mut coords = row.to_vec();
        coords.extend(e.delinearize("j", &inner, &order));
        let v = e.element_at(id, &coords);
        e.line(&format!("w{}[j] = {v};", id.index()));
        e.close();
        e.line("workgroupBarrier();");
        let name = format!("w{}", id.index());
        e.rows.insert(id, RowArray { name, inner });
    }

    /// A reduction over the row, shared by the workgroup: each thread reduces a
    /// strided part, then the parts combine (see [`Rows::combine_parts`]).
    /// Returns the row's value, on every thread.
    fn reduce(&self, e: &mut Emitter, id: InstrId, row: &[String]) -> String {
        let instr = e.body.instr(id);
        let Op::Reduce { reducer, .. } = &instr.op else {
            unreachable!("called on reductions")
        };
        let (operand, init) = (instr.operands[0], instr.operands[1]);
        let element = instr.array_shape().element;
        let part = e.fresh("part");
        e.line(&format!(
            "var {part}: {} = {};",
            reg_type(element),
            ops::identity(*reducer, element)
        ));
        let coords = e.open_reduction(id, row, "j", "lid", self.threads);
        let v = e.element_at(operand, &coords);
        let step = ops::combine(e, *reducer, element, &part, &v);
        e.line(&format!("{part} = {step};"));
        e.close();
        let total = self.combine_parts(e, *reducer, element, &part);
        let start = e.element_at(init, &[]);
        let result = ops::combine(e, *reducer, element, &start, &total);
        e.bind(reg_type(element), &result)
    }

    /// Every thread's `part` combined, on every thread (see [`to_shared`]). With subgroups, each
    /// subgroup combines its parts in registers and every thread then folds the
    /// subgroups' results; otherwise a tree in workgroup memory.
    fn combine_parts(
        &self,
        e: &mut Emitter,
        op: ReduceOp,
        element: ElementType,
        part: &str,
    ) -> String {
        let (array, shared, value, op) = to_shared(element, op, part);
        if self.subgroups {
            e.subgroups = true;
            let sub = ops::subgroup_combine(e, op, shared, &value);
            e.line(&format!("{array}[sg_id] = {sub};"));
            e.line("workgroupBarrier();");
            let total = e.fresh("total");
            e.line(&format!("var {total} = {array}[0];"));
            e.open("for (var s: u32 = 1u; s < sg_count; s += 1u)");
            let step = ops::combine(e, op, shared, &total, &format!("{array}[s]"));
            e.line(&format!("{total} = {step};"));
            e.close();
            e.line("workgroupBarrier();");
            return from_shared(e, element, &total);
        }
        e.line(&format!("{array}[lid] = {value};"));
        e.line("workgroupBarrier();");
        let mut s = self.threads / 2;
        while s > 0 {
            let step = ops::combine(
                e,
                op,
                shared,
                &format!("{array}[lid]"),
                &format!("{array}[lid + {s}u]"),
            );
            e.line(&format!("if (lid < {s}u) {{ {array}[lid] = {step}; }}"));
            e.line("workgroupBarrier();");
            s /= 2;
        }
        let total = e.bind(reg_type(shared), &format!("{array}[0]"));
        // Every thread has read the total before the array is reused.
        e.line("workgroupBarrier();");
        from_shared(e, element, &total)
    }
}

/// The workgroup arrays a kernel's reductions combine their parts in, `size`
/// each: `f32` and `i32` always (`pred` parts travel as `i32`), `u32` where an
/// unsigned reduction needs it.
fn reduction_arrays(kernel: &Kernel, size: usize) -> String {
    let body = &kernel.body;
    let unsigned = body.ids().any(|id| {
        matches!(body.instr(id).op, Op::Reduce { .. })
            && body
                .instr(id)
                .shape
                .as_array()
                .is_some_and(|s| class(s.element) == Class::Unsigned)
    });
    let mut arrays = format!(
        "var<workgroup> red_f32: array<f32, {size}>;\nvar<workgroup> red_i32: array<i32, {size}>;"
    );
    if unsigned {
        let _ = write!(arrays, "\nvar<workgroup> red_u32: array<u32, {size}>;");
    }
    arrays
}

/// How a reduction's parts travel through workgroup memory: the array, its
/// element type, the part as stored, and the op combining stored parts. Pred
/// parts travel as 0/1 integers, where `or` is `max` and `and` is `min`; the
/// others as themselves, combined in their own type.
fn to_shared(
    element: ElementType,
    op: ReduceOp,
    part: &str,
) -> (&'static str, ElementType, String, ReduceOp) {
    match class(element) {
        Class::Float => ("red_f32", element, part.to_string(), op),
        Class::Signed => ("red_i32", element, part.to_string(), op),
        Class::Unsigned => ("red_u32", element, part.to_string(), op),
        Class::Pred => (
            "red_i32",
            ElementType::S32,
            format!("select(0i, 1i, {part})"),
            match op {
                ReduceOp::And | ReduceOp::Minimum => ReduceOp::Minimum,
                _ => ReduceOp::Maximum,
            },
        ),
    }
}

/// A combined part back in the reduction's element type.
fn from_shared(e: &mut Emitter, element: ElementType, total: &str) -> String {
    match element {
        ElementType::Pred => e.bind("bool", &format!("{total} != 0i")),
        _ => e.bind(reg_type(element), total),
    }
}
