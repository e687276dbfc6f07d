//! Equality saturation with bounds: search every rule against every e-node, add
//! what matched, rebuild, and repeat until nothing changes or a limit is hit.
//!
//! Rules are Rust functions rather than egg patterns because most of ours compute
//! with attributes (composing permutations, remapping dot dimensions); each returns
//! right-hand sides as [`Rhs`] recipes that this loop checks and adds.

use std::collections::BTreeMap;

use egg::Id;

use super::analysis::{HloGraph, result_shape};
use super::node::{Node, NodeOp};
use crate::hlo::{ArrayShape, ComputationId, Module, ReduceOp, Scalar, region};

/// A rule's search: given an e-node of a class, push the right-hand sides that
/// equal it.
pub type Search = fn(&Ctx, &Node, &mut Vec<Rhs>);

pub struct Rule {
    pub name: &'static str,
    pub search: Search,
}

/// An expression to add to the e-graph: existing classes and new nodes over them.
pub enum Rhs {
    Class(Id),
    Node(NodeOp, Vec<Rhs>),
}

impl Rhs {
    pub fn node(op: NodeOp, children: Vec<Rhs>) -> Rhs {
        Rhs::Node(op, children)
    }
}

impl From<Id> for Rhs {
    fn from(id: Id) -> Rhs {
        Rhs::Class(id)
    }
}

/// Read access to the e-graph for searches.
pub struct Ctx<'a> {
    egraph: &'a HloGraph,
    /// The module being optimized, whose computations are the regions that
    /// region ops name.
    module: &'a Module,
}

impl Ctx<'_> {
    pub fn shape(&self, id: Id) -> &ArrayShape {
        &self.egraph[id].data.shape
    }

    pub fn splat(&self, id: Id) -> Option<Scalar> {
        self.egraph[id].data.splat
    }

    pub fn nodes(&self, id: Id) -> &[Node] {
        &self.egraph[id].nodes
    }

    /// The [`ReduceOp`] that region `region` applies, where it is one.
    pub fn combiner(&self, region: ComputationId) -> Option<ReduceOp> {
        region::combiner(self.module.computation(region))
    }
}

/// How far the search goes. Every limit counts work, never time, so that a
/// program optimizes to the same module on a busy machine as on an idle one.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub iterations: usize,
    pub nodes: usize,
    /// Rule searches (one per e-node per rule in each iteration), summed over
    /// the iterations: the search stops after the iteration that passes it.
    pub searches: usize,
    /// Node visits that extraction's refinement may spend (see
    /// `extract::improve`).
    pub refinement: usize,
}

impl Default for Limits {
    /// Every suite program saturates well within them; a program of thousands
    /// of instructions stops after a few milliseconds' work.
    fn default() -> Limits {
        Limits {
            iterations: 16,
            nodes: 20_000,
            searches: 300_000,
            refinement: 500_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    Saturated,
    IterationLimit,
    NodeLimit,
    SearchLimit,
}

impl StopReason {
    pub fn describe(self) -> &'static str {
        match self {
            StopReason::Saturated => "saturated",
            StopReason::IterationLimit => "iteration limit",
            StopReason::NodeLimit => "node limit",
            StopReason::SearchLimit => "search limit",
        }
    }
}

#[derive(Clone, Debug)]
pub struct SaturationReport {
    pub stop: StopReason,
    pub iterations: usize,
    pub nodes: usize,
    pub classes: usize,
    /// How many times each rule merged two classes that were not yet equal.
    pub fired: BTreeMap<&'static str, usize>,
}

impl SaturationReport {
    /// The report of a search that did not run.
    pub fn unchanged() -> SaturationReport {
        SaturationReport {
            stop: StopReason::Saturated,
            iterations: 0,
            nodes: 0,
            classes: 0,
            fired: BTreeMap::new(),
        }
    }
}

pub fn saturate(
    egraph: &mut HloGraph,
    module: &Module,
    rules: &[Rule],
    limits: Limits,
) -> SaturationReport {
    let mut fired = BTreeMap::new();
    let mut iterations = 0;
    let mut searches = 0;
    let stop = loop {
        if iterations == limits.iterations {
            break StopReason::IterationLimit;
        }
        iterations += 1;
        let mut matches: Vec<(usize, Id, Rhs)> = Vec::new();
        {
            let ctx = Ctx { egraph, module };
            searches += egraph.total_number_of_nodes() * rules.len();
            let mut found = Vec::new();
            for class in egraph.classes() {
                for node in &class.nodes {
                    for (r, rule) in rules.iter().enumerate() {
                        (rule.search)(&ctx, node, &mut found);
                        matches.extend(found.drain(..).map(|rhs| (r, class.id, rhs)));
                    }
                }
            }
        }
        let mut changed = false;
        for (r, class, rhs) in matches {
            let Some(new) = instantiate(egraph, &rhs) else {
                continue;
            };
            if egraph[new].data.shape != egraph[class].data.shape {
                debug_assert!(false, "rule {} changed a shape", rules[r].name);
                continue;
            }
            if egraph.union(class, new) {
                *fired.entry(rules[r].name).or_insert(0) += 1;
                changed = true;
            }
        }
        egraph.rebuild();
        if !changed {
            break StopReason::Saturated;
        }
        if egraph.total_number_of_nodes() > limits.nodes {
            break StopReason::NodeLimit;
        }
        if searches > limits.searches {
            break StopReason::SearchLimit;
        }
    };
    SaturationReport {
        stop,
        iterations,
        nodes: egraph.total_number_of_nodes(),
        classes: egraph.number_of_classes(),
        fired,
    }
}

/// Adds `rhs` to the e-graph, or `None` if some node of it has no valid shape (a
/// rule may propose a form that only some shapes admit).
fn instantiate(egraph: &mut HloGraph, rhs: &Rhs) -> Option<Id> {
    match rhs {
        Rhs::Class(id) => Some(*id),
        Rhs::Node(op, children) => {
            let ids = children
                .iter()
                .map(|c| instantiate(egraph, c))
                .collect::<Option<Vec<Id>>>()?;
            result_shape(op, &ids, |id| &egraph[id].data.shape).ok()?;
            Some(egraph.add(Node::new(op.clone(), ids)))
        }
    }
}
