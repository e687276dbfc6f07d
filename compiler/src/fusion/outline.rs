//! Rebuilding the module with one `fusion` instruction per kernel: each kernel's
//! members move into a fused computation whose parameters are the values it reads
//! from outside, with the views and constants it reads cloned in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::{FxHashMap, FxHashSet};

use super::Graph;
use super::model::sorted;
use crate::hlo::{
    ComputationBuilder, ComputationId, FusionKind, InstrId, Instruction, Module, Op, RegionCopier,
    Shape,
};

pub fn outline(
    module: &Module,
    graph: &Graph,
    groups: &[(FxHashSet<InstrId>, FusionKind)],
) -> Module {
    let comp = graph.comp;
    let mut group_of: Vec<Option<usize>> = vec![None; comp.instructions.len()];
    for (g, (members, _)) in groups.iter().enumerate() {
        for m in members {
            group_of[m.index()] = Some(g);
        }
    }
    let mut out = Outliner {
        graph,
        entry: ComputationBuilder::new(comp.name.clone()),
        mapped: FxHashMap::default(),
        computations: RegionCopier::new(module),
    };
    for &p in &comp.parameters {
        let instr = comp.instr(p);
        let id = copy(&mut out.entry, &mut out.computations, instr, vec![]);
        out.mapped.insert(p, id);
    }
    for g in topological(graph, groups, &group_of) {
        let (members, kind) = &groups[g];
        // A kernel of its own reads its views from the entry (materialized),
        // except a scatter, which computes its operands element by element:
        // the zeros of a gradient's scatter-add are never written and copied.
        let needs_fusion = members.len() > 1
            || members.iter().any(|&m| {
                let instr = comp.instr(m);
                let elemental = !instr.op.is_standalone() || matches!(instr.op, Op::Scatter { .. });
                elemental && instr.operands.iter().any(|&o| graph.is_view(o))
            });
        if needs_fusion {
            out.fusion(members, *kind);
        } else {
            let m = *members.iter().next().unwrap();
            let instr = comp.instr(m);
            let operands = instr.operands.iter().map(|&o| out.entry_value(o)).collect();
            let id = copy(&mut out.entry, &mut out.computations, instr, operands);
            out.mapped.insert(m, id);
        }
    }
    let root = out.entry_value(comp.root);
    let entry = out.entry.finish(root).expect("the fused entry is complete");
    let mut computations = out.computations.computations;
    computations.push(entry);
    Module {
        name: module.name.clone(),
        entry: ComputationId::new(computations.len() - 1),
        computations,
    }
}

/// Kernels in an order where each comes after the kernels it reads: of the
/// kernels ready, the one with the first instruction goes first.
fn topological(
    graph: &Graph,
    groups: &[(FxHashSet<InstrId>, FusionKind)],
    group_of: &[Option<usize>],
) -> Vec<usize> {
    let comp = graph.comp;
    let mut waiting = vec![0usize; groups.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for (g, (members, _)) in groups.iter().enumerate() {
        let deps: FxHashSet<usize> = members
            .iter()
            .flat_map(|&m| comp.instr(m).operands.iter())
            .filter_map(|o| group_of[o.index()])
            .filter(|&d| d != g)
            .collect();
        waiting[g] = deps.len();
        for d in deps {
            dependents[d].push(g);
        }
    }
    let first_member: Vec<InstrId> = groups
        .iter()
        .map(|(members, _)| *members.iter().min().expect("kernels have members"))
        .collect();
    let mut ready: BinaryHeap<Reverse<(InstrId, usize)>> = (0..groups.len())
        .filter(|&g| waiting[g] == 0)
        .map(|g| Reverse((first_member[g], g)))
        .collect();
    let mut order = Vec::with_capacity(groups.len());
    while let Some(Reverse((_, g))) = ready.pop() {
        order.push(g);
        for &d in &dependents[g] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(Reverse((first_member[d], d)));
            }
        }
    }
    assert_eq!(order.len(), groups.len(), "kernels form no cycle");
    order
}

struct Outliner<'g, 'c, 'm> {
    graph: &'g Graph<'c>,
    entry: ComputationBuilder,
    /// Original instruction → its value in the new entry.
    mapped: FxHashMap<InstrId, InstrId>,
    /// The new module's computations: fused ones and the regions they use.
    computations: RegionCopier<'m>,
}

impl Outliner<'_, '_, '_> {
    /// The value of original instruction `id` in the new entry: parameters and
    /// kernel outputs are there already; constants, views and the root tuple are
    /// emitted on first use.
    fn entry_value(&mut self, id: InstrId) -> InstrId {
        if let Some(&v) = self.mapped.get(&id) {
            return v;
        }
        let instr = self.graph.comp.instr(id);
        let operands = instr
            .operands
            .iter()
            .map(|&o| self.entry_value(o))
            .collect();
        let v = copy(&mut self.entry, &mut self.computations, instr, operands);
        self.mapped.insert(id, v);
        v
    }

    fn fusion(&mut self, members: &FxHashSet<InstrId>, kind: FusionKind) {
        let comp = self.graph.comp;
        let n = self.computations.computations.len() + 1;
        let mut inner = Inner {
            b: ComputationBuilder::new(format!("fused_computation.{n}")),
            mapped: FxHashMap::default(),
            externals: Vec::new(),
        };
        for m in sorted(members) {
            let instr = comp.instr(m);
            let operands = instr
                .operands
                .iter()
                .map(|&o| inner.value(self.graph, &mut self.computations, members, o))
                .collect();
            let id = copy(&mut inner.b, &mut self.computations, instr, operands);
            inner.mapped.insert(m, id);
        }
        let outputs = self.graph.outputs(members);
        let roots: Vec<InstrId> = outputs.iter().map(|o| inner.mapped[o]).collect();
        let root = match roots[..] {
            [single] => single,
            _ => inner
                .b
                .add(Op::Tuple, roots)
                .expect("a tuple of arrays is valid"),
        };
        let shape = inner.b.shape(root).clone();
        let callee = inner
            .b
            .finish(root)
            .expect("the fused computation is complete");
        let computation = ComputationId::new(self.computations.computations.len());
        self.computations.computations.push(callee);
        let operands = inner
            .externals
            .iter()
            .map(|&e| self.entry_value(e))
            .collect();
        let name = self.entry.fresh_name("fusion");
        let fusion = self
            .entry
            .push(
                name,
                Op::Fusion { kind, computation },
                operands,
                shape.clone(),
            )
            .expect("a fusion's shape is its root's");
        match shape {
            Shape::Array(_) => {
                self.mapped.insert(outputs[0], fusion);
            }
            Shape::Tuple(_) => {
                for (index, &o) in outputs.iter().enumerate() {
                    let gte = self
                        .entry
                        .add(Op::GetTupleElement { index }, vec![fusion])
                        .expect("the fusion has this output");
                    self.mapped.insert(o, gte);
                }
            }
        }
    }
}

/// A fused computation under construction.
struct Inner {
    b: ComputationBuilder,
    mapped: FxHashMap<InstrId, InstrId>,
    /// The original instructions the kernel reads, in parameter order.
    externals: Vec<InstrId>,
}

impl Inner {
    /// The value of original instruction `id` inside the kernel: members are there
    /// already, constants and views are cloned in, anything else becomes a
    /// parameter.
    fn value(
        &mut self,
        graph: &Graph,
        regions: &mut RegionCopier,
        members: &FxHashSet<InstrId>,
        id: InstrId,
    ) -> InstrId {
        if let Some(&v) = self.mapped.get(&id) {
            return v;
        }
        let instr = graph.comp.instr(id);
        let v = if matches!(instr.op, Op::Constant(_)) || graph.is_view(id) {
            let operands = instr
                .operands
                .iter()
                .map(|&o| self.value(graph, regions, members, o))
                .collect();
            copy(&mut self.b, regions, instr, operands)
        } else {
            debug_assert!(!members.contains(&id), "members come in order");
            let index = self.externals.len();
            self.externals.push(id);
            self.b
                .push(
                    format!("param_{index}"),
                    Op::Parameter(index),
                    vec![],
                    instr.shape.clone(),
                )
                .expect("a parameter takes any shape")
        };
        self.mapped.insert(id, v);
        v
    }
}

/// Appends a copy of `instr` (same op and shape, same name unless taken)
/// reading `operands`, its region copied into the new module. A name can be
/// taken in the entry: the `get-tuple-element`s that read a several-result
/// kernel (a sort, a topk) are named before the original ones are copied.
fn copy(
    b: &mut ComputationBuilder,
    regions: &mut RegionCopier,
    instr: &Instruction,
    operands: Vec<InstrId>,
) -> InstrId {
    let name = match b.has_name(&instr.name) {
        true => b.fresh_name(instr.op.opcode()),
        false => instr.name.clone(),
    };
    b.push(name, regions.op(&instr.op), operands, instr.shape.clone())
        .expect("a copied instruction keeps its shape")
}
