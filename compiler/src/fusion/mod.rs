//! Fusion: grouping the optimized entry computation into kernels, each printed as
//! a `fusion` instruction with `kind=` and `calls=` as XLA prints them.
//!
//! Grouping is greedy, consumers first (as XLA's instruction fusion): every
//! producer is offered to each consumer's kernel, and joins it when the union is
//! one legal kernel ([`model::classify`]) and no cycle between kernels appears.
//! Then kernels that read the same data and iterate the same space merge into one
//! multi-output kernel (sibling fusion). *Views* — broadcasts, reshapes, transposes,
//! slices and iotas of parameters and constants — are no kernels of their own: each
//! reader reads through them in place.

mod model;
mod outline;

pub use model::kernel_outer_dims;

use rustc_hash::FxHashSet;

use crate::cost::single_op_kind;
use crate::hlo::{Computation, FusionKind, InstrId, Module, Op};

/// The fused module and the fusions that were refused, with their reasons.
pub struct Fused {
    pub module: Module,
    pub refused: Vec<Refusal>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub producer: String,
    pub consumer: String,
    pub reason: String,
}

/// The entry computation's dataflow, as grouping needs it.
pub struct Graph<'c> {
    pub comp: &'c Computation,
    pub users: Vec<Vec<InstrId>>,
    /// Results of the program (the root, or the operands of a root tuple).
    pub is_output: Vec<bool>,
    pub live: Vec<bool>,
}

impl<'c> Graph<'c> {
    fn new(comp: &'c Computation) -> Graph<'c> {
        let live = comp.live();
        let mut users = vec![Vec::new(); comp.instructions.len()];
        for id in comp.ids().filter(|id| live[id.index()]) {
            for &o in &comp.instr(id).operands {
                if !users[o.index()].contains(&id) {
                    users[o.index()].push(id);
                }
            }
        }
        let mut is_output = vec![false; comp.instructions.len()];
        let root = comp.root_instr();
        match root.op {
            Op::Tuple => root
                .operands
                .iter()
                .for_each(|o| is_output[o.index()] = true),
            _ => is_output[comp.root.index()] = true,
        }
        Graph {
            comp,
            users,
            is_output,
            live,
        }
    }

    /// Free instructions (parameters, constants, tuples) and views are no kernels.
    pub fn is_kernel(&self, id: InstrId) -> bool {
        self.live[id.index()] && !self.comp.instr(id).op.is_free() && !self.is_view(id)
    }

    /// Data movement of parameters and constants that readers read in place.
    pub fn is_view(&self, id: InstrId) -> bool {
        let instr = self.comp.instr(id);
        let movement = matches!(
            instr.op,
            Op::Broadcast { .. }
                | Op::Reshape
                | Op::Transpose { .. }
                | Op::Slice { .. }
                | Op::Iota { .. }
        );
        movement
            && !self.is_output[id.index()]
            && instr.operands.iter().all(|&o| {
                let op = &self.comp.instr(o).op;
                matches!(op, Op::Parameter(_) | Op::Constant(_)) || self.is_view(o)
            })
    }

    /// The members whose values leave the kernel.
    pub fn outputs(&self, members: &FxHashSet<InstrId>) -> Vec<InstrId> {
        model::sorted(members)
            .into_iter()
            .filter(|&m| {
                self.is_output[m.index()]
                    || self.users[m.index()].iter().any(|u| !members.contains(u))
            })
            .collect()
    }
}

struct Grouping<'g, 'c> {
    graph: &'g Graph<'c>,
    group: Vec<Option<usize>>,
    members: Vec<FxHashSet<InstrId>>,
    /// (producer, consumer, reason), kept only if the two end up apart.
    refused: Vec<(InstrId, InstrId, String)>,
}

pub fn fuse(module: &Module) -> Fused {
    let comp = module.entry();
    let graph = Graph::new(comp);
    let mut g = Grouping {
        graph: &graph,
        group: vec![None; comp.instructions.len()],
        members: Vec::new(),
        refused: Vec::new(),
    };
    for id in comp.ids().filter(|&id| graph.is_kernel(id)) {
        g.group[id.index()] = Some(g.members.len());
        g.members.push(std::iter::once(id).collect());
    }
    g.fuse_producers();
    g.fuse_siblings();
    let groups: Vec<(FxHashSet<InstrId>, FusionKind)> = g
        .members
        .iter()
        .filter(|m| !m.is_empty())
        .map(|m| {
            let kind = match m.iter().next() {
                Some(&only) if m.len() == 1 => single_op_kind(&comp.instr(only).op),
                _ => g.kind(m).expect("every merged kernel was checked"),
            };
            (m.clone(), kind)
        })
        .collect();
    // Report only refusals that stood: a producer refused by one consumer may have
    // joined the same kernel through another.
    let mut refused: Vec<Refusal> = Vec::new();
    for (producer, consumer, reason) in g.refused {
        let r = Refusal {
            producer: comp.instr(producer).name.clone(),
            consumer: comp.instr(consumer).name.clone(),
            reason,
        };
        if g.group[producer.index()] != g.group[consumer.index()] && !refused.contains(&r) {
            refused.push(r);
        }
    }
    let module = outline::outline(module, &graph, &groups);
    Fused { module, refused }
}

impl Grouping<'_, '_> {
    fn comp(&self) -> &Computation {
        self.graph.comp
    }

    fn try_merge(&mut self, a: usize, b: usize) -> Result<(), String> {
        let union: FxHashSet<InstrId> = self.members[a].union(&self.members[b]).copied().collect();
        self.kind(&union)?;
        if self.creates_cycle(a, b) {
            return Err("the kernels would depend on each other through a third".into());
        }
        for &m in &self.members[b] {
            self.group[m.index()] = Some(a);
        }
        self.members[a] = union;
        self.members[b].clear();
        Ok(())
    }

    /// The kernel kind, including the rule that a loop kernel's outputs share one
    /// iteration space.
    fn kind(&self, members: &FxHashSet<InstrId>) -> Result<FusionKind, String> {
        let kind = model::classify(self.comp(), members)?;
        if kind == FusionKind::Loop {
            let outputs = self.graph.outputs(members);
            let dims = |id: InstrId| &self.comp().instr(id).array_shape().dims;
            if let Some(&first) = outputs.first()
                && let Some(&other) = outputs.iter().find(|&&o| dims(o) != dims(first))
            {
                return Err(format!(
                    "outputs {} and {} have different shapes",
                    self.comp().instr(first).name,
                    self.comp().instr(other).name
                ));
            }
        }
        Ok(kind)
    }

    /// Producer-consumer fusion, consumers first.
    fn fuse_producers(&mut self) {
        let comp = self.graph.comp;
        for c in comp.ids().rev() {
            let Some(_) = self.group[c.index()] else {
                continue;
            };
            let mut operands = comp.instr(c).operands.clone();
            operands.dedup();
            for p in operands {
                let (Some(gp), Some(gc)) = (self.group[p.index()], self.group[c.index()]) else {
                    continue;
                };
                if gp == gc {
                    continue;
                }
                if let Err(reason) = self.try_merge(gc, gp) {
                    self.refused.push((p, c, reason));
                }
            }
        }
    }

    /// Kernels that read one value merge when they iterate the same space.
    /// Siblings that do not fit together stay apart; that is no refused fusion
    /// worth reporting.
    fn fuse_siblings(&mut self) {
        let comp = self.graph.comp;
        for x in comp.ids().filter(|&x| self.graph.live[x.index()]) {
            if comp.instr(x).shape.as_array().is_none_or(|s| s.rank() == 0) {
                continue;
            }
            let readers = &self.graph.users[x.index()];
            for (i, &u) in readers.iter().enumerate() {
                for &v in &readers[i + 1..] {
                    if let (Some(a), Some(b)) = (self.group[u.index()], self.group[v.index()])
                        && a != b
                    {
                        let _ = self.try_merge(a, b);
                    }
                }
            }
        }
    }

    /// Whether some path leads from one group to the other through instructions
    /// or kernels in neither.
    fn creates_cycle(&self, a: usize, b: usize) -> bool {
        self.path_outside(a, b) || self.path_outside(b, a)
    }

    fn path_outside(&self, from: usize, to: usize) -> bool {
        let inside = |id: InstrId| {
            let g = self.group[id.index()];
            g == Some(from) || g == Some(to)
        };
        let mut stack: Vec<InstrId> = self.members[from]
            .iter()
            .flat_map(|m| self.graph.users[m.index()].iter().copied())
            .filter(|&u| !inside(u))
            .collect();
        let mut seen = FxHashSet::default();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            // A third kernel runs as a whole: what any of its members produce
            // comes after all of its inputs.
            let kernel: Vec<InstrId> = match self.group[id.index()] {
                Some(g) => self.members[g].iter().copied().collect(),
                None => vec![id],
            };
            for u in kernel.iter().flat_map(|k| &self.graph.users[k.index()]) {
                if self.group[u.index()] == Some(to) {
                    return true;
                }
                if !inside(*u) {
                    stack.push(*u);
                }
            }
        }
        false
    }
}
