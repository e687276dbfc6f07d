//! E-graph → HLO module: choose one e-node per e-class so that the program costs
//! least, counting a value shared by several users once (a DAG cost), and rebuild
//! the entry computation from the choice.
//!
//! The cost of a node is an estimate of its work assuming fusion will follow:
//! elementwise ops cost per element (transcendentals more), index-only ops
//! (broadcast, reshape, slice, pad, reverse, gather) almost nothing because they fuse into their readers,
//! a transpose a strided pass over its result, a dot its flops. Extraction starts
//! from the cheapest tree per class (egg's greedy choice) and then improves the
//! choice class by class against the DAG cost of the whole program.

use egg::Id;
use rustc_hash::{FxHashMap, FxHashSet};

use super::analysis::HloGraph;
use super::node::{Node, NodeOp};
use super::to_egraph::Program;
use crate::hlo::{
    ComputationBuilder, ComputationId, InstrId, Module, Op, RegionCopier, Shape, shape_rules,
};

/// Every node costs at least this, so that of two equal forms the smaller wins.
const NODE_COST: f64 = 1.0;

pub fn node_cost(egraph: &HloGraph, class: Id, node: &Node) -> f64 {
    let out = egraph[class].data.shape.element_count() as f64;
    let work = match &node.op {
        NodeOp::Parameter { .. } | NodeOp::Constant { .. } => return 0.0,
        NodeOp::Broadcast { .. }
        | NodeOp::Reshape { .. }
        | NodeOp::Iota { .. }
        | NodeOp::Slice { .. }
        | NodeOp::Pad { .. }
        | NodeOp::Reverse { .. }
        | NodeOp::DynamicSlice { .. }
        | NodeOp::Gather(_) => 0.1 * out,
        NodeOp::DynamicUpdateSlice => 0.5 * out,
        NodeOp::Transpose { .. } => out,
        NodeOp::Concatenate { .. } => 0.5 * out,
        NodeOp::Unary(u) if u.is_expensive() => 4.0 * out,
        NodeOp::Binary(b) if b.is_expensive() => 4.0 * out,
        NodeOp::Unary(_)
        | NodeOp::Binary(_)
        | NodeOp::Compare(_)
        | NodeOp::Select
        | NodeOp::Clamp
        | NodeOp::Convert(_)
        | NodeOp::BitcastConvert(_)
        | NodeOp::ReducePrecision { .. } => out,
        NodeOp::Reduce { .. } | NodeOp::ReduceTuple { .. } => {
            egraph[node.children[0]].data.shape.element_count() as f64
        }
        NodeOp::CompareTotalOrder(_) => out,
        // Each update read and combined once.
        NodeOp::Scatter { .. } => egraph[node.children[2]].data.shape.element_count() as f64,
        NodeOp::Sort { .. } => out * (out.max(2.0)).log2(),
        // One pass over the operand, keeping the k best.
        NodeOp::TopK { k, .. } => {
            egraph[node.children[0]].data.shape.element_count() as f64 * (*k as f64).max(2.0).log2()
        }
        NodeOp::ReduceWindow { window, .. } => {
            out * window.iter().map(|w| w.size).product::<usize>() as f64
        }
        NodeOp::SelectAndScatter { window, .. } => {
            let source = egraph[node.children[1]].data.shape.element_count() as f64;
            source * window.iter().map(|w| w.size).product::<usize>() as f64
        }
        NodeOp::Dot(dims) => {
            let lhs = &egraph[node.children[0]].data.shape;
            let k: usize = dims.lhs_contracting.iter().map(|&d| lhs.dims[d]).product();
            2.0 * out * k as f64
        }
    };
    NODE_COST + work
}

/// The chosen node of every class that has one.
struct Choice {
    node: FxHashMap<Id, Node>,
    cost: FxHashMap<Id, f64>,
}

fn greedy(egraph: &HloGraph) -> Choice {
    let mut choice = Choice {
        node: FxHashMap::default(),
        cost: FxHashMap::default(),
    };
    loop {
        let mut changed = false;
        for class in egraph.classes() {
            for node in &class.nodes {
                let Some(children) = node
                    .children
                    .iter()
                    .map(|c| choice.cost.get(&egraph.find(*c)).copied())
                    .sum::<Option<f64>>()
                else {
                    continue;
                };
                let cost = node_cost(egraph, class.id, node) + children;
                if choice.cost.get(&class.id).is_none_or(|&old| cost < old) {
                    choice.cost.insert(class.id, cost);
                    choice.node.insert(class.id, node.clone());
                    changed = true;
                }
            }
        }
        if !changed {
            return choice;
        }
    }
}

/// The cost of the program under `choice`, each class counted once.
fn dag_cost(egraph: &HloGraph, choice: &FxHashMap<Id, Node>, roots: &[Id]) -> f64 {
    let mut seen = FxHashSet::default();
    let mut stack: Vec<Id> = roots.to_vec();
    let mut total = 0.0;
    while let Some(id) = stack.pop() {
        let id = egraph.find(id);
        if !seen.insert(id) {
            continue;
        }
        let node = &choice[&id];
        total += node_cost(egraph, id, node);
        stack.extend(node.children.iter().copied());
    }
    total
}

/// Whether `target` is reachable from `from` following the choice.
fn reaches(egraph: &HloGraph, choice: &FxHashMap<Id, Node>, from: Id, target: Id) -> bool {
    let mut seen = FxHashSet::default();
    let mut stack = vec![from];
    while let Some(id) = stack.pop() {
        let id = egraph.find(id);
        if id == target {
            return true;
        }
        if seen.insert(id) {
            stack.extend(choice[&id].children.iter().copied());
        }
    }
    false
}

/// Tries each alternative node of each class against the DAG cost, keeping any
/// that lowers it; stops after two sweeps or once `budget` node visits are
/// spent (each DAG cost visits about every chosen node).
fn improve(egraph: &HloGraph, choice: &mut Choice, roots: &[Id], budget: usize) {
    let mut best = dag_cost(egraph, &choice.node, roots);
    let mut spent = 0;
    for _ in 0..2 {
        let mut improved = false;
        for class in egraph.classes().filter(|c| c.nodes.len() > 1) {
            for node in &class.nodes {
                if spent > budget {
                    return;
                }
                spent += choice.node.len();
                let extractable = node
                    .children
                    .iter()
                    .all(|c| choice.cost.contains_key(&egraph.find(*c)));
                if !extractable || choice.node[&class.id] == *node {
                    continue;
                }
                if node
                    .children
                    .iter()
                    .any(|&c| reaches(egraph, &choice.node, c, class.id))
                {
                    continue;
                }
                let old = choice.node.insert(class.id, node.clone()).unwrap();
                let cost = dag_cost(egraph, &choice.node, roots);
                if cost < best - 1e-9 {
                    best = cost;
                    improved = true;
                } else {
                    choice.node.insert(class.id, old);
                }
            }
        }
        if !improved {
            return;
        }
    }
}

/// Rebuilds the entry computation from the cheapest choice.
/// The input module `source` holds the regions that nodes reference.
pub fn extract(egraph: &HloGraph, program: &Program, source: &Module, refinement: usize) -> Module {
    let name = &source.entry().name;
    let mut choice = greedy(egraph);
    let roots: Vec<Id> = program
        .outputs
        .iter()
        .map(|(id, _)| egraph.find(*id))
        .collect();
    improve(egraph, &mut choice, &roots, refinement);
    let names: FxHashMap<Id, (&str, &str)> = program
        .names
        .iter()
        .rev()
        .map(|(id, name, opcode)| (egraph.find(*id), (name.as_str(), *opcode)))
        .collect();
    let mut b = ComputationBuilder::new(name);
    let parameters: Vec<InstrId> = program
        .parameters
        .iter()
        .enumerate()
        .map(|(i, (name, shape))| {
            b.push(
                name.clone(),
                Op::Parameter(i),
                vec![],
                Shape::Array(shape.clone()),
            )
            .expect("the input's parameters are valid")
        })
        .collect();
    let mut e = Emitter {
        egraph,
        choice: &choice.node,
        names: &names,
        parameters: &parameters,
        b,
        emitted: FxHashMap::default(),
        several: FxHashMap::default(),
        regions: RegionCopier::new(source),
    };
    for &root in &roots {
        e.emit(root);
    }
    let Emitter {
        emitted,
        regions,
        mut b,
        ..
    } = e;
    let mut results = Vec::new();
    for (&root, (_, required)) in roots.iter().zip(&program.outputs) {
        let mut id = emitted[&root];
        if b.shape(id).as_array() != Some(required) {
            // The caller expects another layout: copy into it.
            let identity = (0..required.rank()).collect();
            id = b
                .add_with_shape(
                    Op::Transpose {
                        permutation: identity,
                    },
                    vec![id],
                    Shape::Array(required.clone()),
                )
                .expect("a layout copy is valid");
        }
        results.push(id);
    }
    let root = if program.tuple_root {
        b.add(Op::Tuple, results)
            .expect("a tuple of arrays is valid")
    } else {
        results[0]
    };
    let entry = b
        .finish(root)
        .expect("the extracted computation is complete");
    let mut computations = regions.computations;
    computations.push(entry);
    Module {
        name: name.to_string(),
        entry: ComputationId::new(computations.len() - 1),
        computations,
    }
}

/// Rebuilds chosen nodes as instructions.
struct Emitter<'a> {
    egraph: &'a HloGraph,
    choice: &'a FxHashMap<Id, Node>,
    names: &'a FxHashMap<Id, (&'a str, &'a str)>,
    parameters: &'a [InstrId],
    b: ComputationBuilder,
    emitted: FxHashMap<Id, InstrId>,
    /// Several-result ops already emitted, by op (its output left out) and operands.
    several: FxHashMap<(NodeOp, Vec<InstrId>), InstrId>,
    regions: RegionCopier<'a>,
}

impl Emitter<'_> {
    /// Emits the class `root` and everything it needs, operands first
    /// (iteratively: programs can be deep chains).
    fn emit(&mut self, root: Id) {
        let egraph = self.egraph;
        let mut stack = vec![(egraph.find(root), false)];
        while let Some((id, children_done)) = stack.pop() {
            if self.emitted.contains_key(&id) {
                continue;
            }
            let node = &self.choice[&id];
            if !children_done {
                stack.push((id, true));
                stack.extend(node.children.iter().rev().map(|&c| (egraph.find(c), false)));
                continue;
            }
            let instr = match &node.op {
                NodeOp::Parameter { index, .. } => self.parameters[*index],
                op => {
                    let shape = &egraph[id].data.shape;
                    let operands: Vec<InstrId> = node
                        .children
                        .iter()
                        .map(|c| self.emitted[&egraph.find(*c)])
                        .collect();
                    let (hlo, _) = op.to_hlo(shape.element);
                    let hlo = self.regions.op(&hlo);
                    match op.output() {
                        Some(_) => self.output(id, op, hlo, operands),
                        None => {
                            let name = self.name(id, &hlo);
                            // Intermediates take the default layout: the class's logical shape.
                            self.b
                                .push(name, hlo, operands, Shape::Array(shape.clone()))
                                .expect("extracted nodes have valid shapes")
                        }
                    }
                }
            };
            self.emitted.insert(id, instr);
        }
    }

    /// The input's name, unless the op changed (a `divide` named `multiply.3`
    /// would mislead).
    fn name(&mut self, id: Id, hlo: &Op) -> String {
        match self.names.get(&id) {
            Some(&(name, opcode)) if opcode == hlo.opcode() && !self.b.has_name(name) => {
                name.to_string()
            }
            _ => self.b.fresh_name(hlo.opcode()),
        }
    }

    /// Result `output` of a several-result op: the op once, then its element.
    fn output(&mut self, id: Id, node: &NodeOp, hlo: Op, operands: Vec<InstrId>) -> InstrId {
        let output = node.output().unwrap_or(0);
        let key = (node.with_output(0), operands);
        let whole = match self.several.get(&key) {
            Some(&whole) => whole,
            None => {
                let name = self.name(id, &hlo);
                let shapes: Vec<&Shape> = key.1.iter().map(|&o| self.b.shape(o)).collect();
                let shape = shape_rules::infer(&hlo, &shapes)
                    .ok()
                    .flatten()
                    .expect("extracted nodes have valid shapes");
                let whole = self
                    .b
                    .push(name, hlo, key.1.clone(), shape)
                    .expect("extracted nodes have valid shapes");
                self.several.insert(key, whole);
                whole
            }
        };
        match self.b.shape(whole) {
            Shape::Array(_) => whole,
            Shape::Tuple(_) => self
                .b
                .add(Op::GetTupleElement { index: output }, vec![whole])
                .expect("the op has this output"),
        }
    }
}
