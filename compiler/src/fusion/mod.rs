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

mod grouping;
mod model;
mod outline;

pub use model::kernel_outer_dims;

use rustc_hash::FxHashSet;

use grouping::Grouping;

use crate::hlo::{Computation, InstrId, Module, Op};

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
    /// Which instructions are views (see [`Graph::is_view`]).
    view: Vec<bool>,
}

impl<'c> Graph<'c> {
    fn new(comp: &'c Computation) -> Graph<'c> {
        let live = comp.live();
        let mut users = vec![Vec::new(); comp.instructions.len()];
        for id in comp.ids().filter(|id| live[id.index()]) {
            for &o in &comp.instr(id).operands {
                // Users arrive in order: a repeated operand repeats the last one.
                if users[o.index()].last() != Some(&id) {
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
        let mut view = vec![false; comp.instructions.len()];
        for id in comp.ids() {
            let instr = comp.instr(id);
            let movement = matches!(
                instr.op,
                Op::Broadcast { .. }
                    | Op::Reshape
                    | Op::Transpose { .. }
                    | Op::Slice { .. }
                    | Op::Iota { .. }
                    | Op::Pad { .. }
                    | Op::Reverse { .. }
                    | Op::DynamicSlice { .. }
                    | Op::Gather(_)
            );
            view[id.index()] = movement
                && !is_output[id.index()]
                && instr.operands.iter().all(|&o| {
                    let op = &comp.instr(o).op;
                    matches!(op, Op::Parameter(_) | Op::Constant(_)) || view[o.index()]
                });
        }
        Graph {
            comp,
            users,
            is_output,
            live,
            view,
        }
    }

    /// Free instructions (parameters, constants, tuples) and views are no kernels.
    pub fn is_kernel(&self, id: InstrId) -> bool {
        self.live[id.index()] && !self.comp.instr(id).op.is_free() && !self.is_view(id)
    }

    /// Data movement of parameters and constants that readers read in place.
    pub fn is_view(&self, id: InstrId) -> bool {
        self.view[id.index()]
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

/// Groups the entry's instructions into kernels. A module with control flow is
/// left as it is, for now: the backends refuse its loops and branches by name.
pub fn fuse(module: &Module) -> Fused {
    if module.has_control_flow() {
        return Fused {
            module: module.clone(),
            refused: Vec::new(),
        };
    }
    let comp = module.entry();
    let graph = Graph::new(comp);
    let mut g = Grouping::new(&graph);
    fuse_producers(&mut g);
    fuse_siblings(&mut g);
    let groups = g.kernels();
    // Report only refusals that stood: a producer refused by one consumer may have
    // joined the same kernel through another.
    let mut refused: Vec<Refusal> = Vec::new();
    let mut reported: FxHashSet<(InstrId, InstrId, String)> = FxHashSet::default();
    for (producer, consumer, reason) in g.refused {
        if g.group[producer.index()] != g.group[consumer.index()]
            && reported.insert((producer, consumer, reason.clone()))
        {
            refused.push(Refusal {
                producer: comp.instr(producer).name.clone(),
                consumer: comp.instr(consumer).name.clone(),
                reason,
            });
        }
    }
    let module = outline::outline(module, &graph, &groups);
    Fused { module, refused }
}

/// Producer-consumer fusion, consumers first.
fn fuse_producers(g: &mut Grouping) {
    let comp = g.graph().comp;
    for c in comp.ids().rev() {
        if g.group[c.index()].is_none() {
            continue;
        }
        let mut operands = comp.instr(c).operands.clone();
        operands.dedup();
        for p in operands {
            let (Some(gp), Some(gc)) = (g.group[p.index()], g.group[c.index()]) else {
                continue;
            };
            if gp == gc {
                continue;
            }
            if let Err(reason) = g.try_merge(gc, gp) {
                g.refused.push((p, c, reason));
            }
        }
    }
}

/// Kernels that read one value merge when they iterate the same space.
/// Siblings that do not fit together stay apart; that is no refused fusion
/// worth reporting.
fn fuse_siblings(g: &mut Grouping) {
    let graph = g.graph();
    let comp = graph.comp;
    for x in comp.ids().filter(|&x| graph.live[x.index()]) {
        if comp.instr(x).shape.as_array().is_none_or(|s| s.rank() == 0) {
            continue;
        }
        let readers = &graph.users[x.index()];
        let first = readers.first().map(|r| g.group[r.index()]);
        if readers.iter().all(|r| Some(g.group[r.index()]) == first) {
            continue;
        }
        for (i, &u) in readers.iter().enumerate() {
            // A pair that failed fails again until some merge succeeds.
            let mut failed: FxHashSet<usize> = FxHashSet::default();
            for &v in &readers[i + 1..] {
                if let (Some(a), Some(b)) = (g.group[u.index()], g.group[v.index()])
                    && a != b
                    && !failed.contains(&b)
                {
                    match g.try_merge(a, b) {
                        Ok(()) => failed.clear(),
                        Err(_) => {
                            failed.insert(b);
                        }
                    }
                }
            }
        }
    }
}
