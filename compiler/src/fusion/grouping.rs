//! Greedy grouping with incremental legality and cycle tests, so that fusing a
//! program costs about linear time in its instructions (unrolled loops give
//! programs of 100,000 instructions).
//!
//! Every kernel (a group) keeps a summary of what [`model::classify`] and the
//! cycle test would compute over its members: its iteration space and cheapest
//! expensive member, the rows its heroes iterate, its outputs, the users that
//! leave it, and the distinct row tests its members need. Offering one group to
//! another then looks only at the edges between the two (found from the group
//! with fewer edges) and at these summaries, and reaches the same decision as
//! testing the union from scratch. Groups keep topological keys, so the search
//! for a path through a third kernel never leaves the span between the two.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};

use super::Graph;
use super::model::{
    disagree, elements, feeds_kernel, hero_rows, is_column_reduce, is_expensive, is_hero,
    is_movement, recomputed, row_member,
};
use crate::cost::single_op_kind;
use crate::hlo::{Computation, FusionKind, InstrId, Op};

/// Keys start this far apart, leaving room to reorder groups between them
/// (tests leave little, so that renumbering runs often).
/// The most instructions one kernel may have. The backends' code generators
/// recurse through a kernel's values and their compile time grows faster than
/// its size (Cranelift's register allocator on one huge function): an unrolled
/// loop of 20,000 steps fused into one kernel overflowed the emitter's stack.
/// No program of the suite or the fixtures comes near it.
pub const MAX_KERNEL_INSTRUCTIONS: usize = 2_000;

/// The most reductions and dots one kernel may have. A row kernel's code
/// computes the row values each of them reads inside its loop, so a chain of
/// them costs code quadratic in its length (200 chained row sums, one kernel,
/// took 45 s to compile); kernels of at most this many keep it linear. The
/// suite's kernels have at most four.
pub const MAX_KERNEL_HEROES: usize = 16;

const KEY_SPACING: u64 = if cfg!(test) { 4 } else { 1 << 40 };

/// What [`row_member`] looks at in a member that reads another member, besides
/// the kernel's rows: members with equal keys pass or fail together.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RowKey {
    opcode: &'static str,
    /// A broadcast's `dimensions`.
    dimensions: Vec<usize>,
    dims: Vec<usize>,
    /// A reshape's operand dimensions.
    operand: Vec<usize>,
}

impl RowKey {
    fn of(comp: &Computation, m: InstrId) -> RowKey {
        let instr = comp.instr(m);
        RowKey {
            opcode: instr.op.opcode(),
            dimensions: match &instr.op {
                Op::Broadcast { dimensions } => dimensions.clone(),
                _ => vec![],
            },
            dims: instr.array_shape().dims.clone(),
            operand: match instr.op {
                Op::Reshape => comp.instr(instr.operands[0]).array_shape().dims.clone(),
                _ => vec![],
            },
        }
    }
}

/// One kernel under construction.
struct Group {
    members: Vec<InstrId>,
    /// Users of members that are not members.
    out_users: FxHashSet<InstrId>,
    /// Operands of members that are not members and not sources (parameters,
    /// constants, views).
    in_operands: FxHashSet<InstrId>,
    /// Members read outside the group or results of the program.
    outputs: BTreeSet<InstrId>,
    /// Operands plus users of the members: the cost of walking the group's edges.
    degree: usize,
    /// The largest member's element count.
    space: usize,
    /// The expensive member with fewest elements (the first by id on a tie).
    cheapest: Option<(usize, InstrId)>,
    /// The first hero and the rows every hero iterates; `None` without heroes.
    rows: Option<(InstrId, Vec<usize>)>,
    has_dot: bool,
    /// Members that are neither reductions nor dots.
    plain: usize,
    /// For a group without heroes: one member per distinct row test among the
    /// members that read a member.
    reads: FxHashMap<RowKey, InstrId>,
    /// The group's place in a topological order of the groups.
    key: u64,
}

pub struct Grouping<'g, 'c> {
    graph: &'g Graph<'c>,
    /// Each kernel instruction's group.
    pub group: Vec<Option<usize>>,
    groups: Vec<Group>,
    /// Each member's number of users outside its group.
    ext: Vec<usize>,
    /// The keys of the live groups.
    keys: BTreeSet<u64>,
    /// (producer, consumer, reason), kept only if the two end up apart.
    pub refused: Vec<(InstrId, InstrId, String)>,
    /// Edges and groups visited by the tests, a measure of the work done.
    pub visits: usize,
}

impl<'g, 'c> Grouping<'g, 'c> {
    /// One group per kernel instruction.
    pub fn new(graph: &'g Graph<'c>) -> Grouping<'g, 'c> {
        let comp = graph.comp;
        let n = comp.instructions.len();
        let mut g = Grouping {
            graph,
            group: vec![None; n],
            groups: Vec::new(),
            ext: vec![0; n],
            keys: BTreeSet::new(),
            refused: Vec::new(),
            visits: 0,
        };
        for id in comp.ids().filter(|&id| graph.is_kernel(id)) {
            let instr = comp.instr(id);
            let users = &graph.users[id.index()];
            let size = elements(comp, id);
            let key = (id.index() as u64 + 1) * KEY_SPACING;
            g.group[id.index()] = Some(g.groups.len());
            g.ext[id.index()] = users.len();
            g.keys.insert(key);
            g.groups.push(Group {
                members: vec![id],
                out_users: users.iter().copied().collect(),
                in_operands: instr
                    .operands
                    .iter()
                    .copied()
                    .filter(|&o| {
                        graph.is_kernel(o)
                            || !comp.instr(o).operands.is_empty() && !graph.is_view(o)
                    })
                    .collect(),
                outputs: if graph.is_output[id.index()] || !users.is_empty() {
                    BTreeSet::from([id])
                } else {
                    BTreeSet::new()
                },
                degree: instr.operands.len() + users.len(),
                space: size,
                cheapest: is_expensive(&instr.op).then_some((size, id)),
                rows: is_hero(&instr.op).then(|| (id, hero_rows(comp, id))),
                has_dot: matches!(instr.op, Op::Dot(_)),
                plain: usize::from(!is_hero(&instr.op)),
                reads: FxHashMap::default(),
                key,
            });
        }
        g
    }

    pub fn graph(&self) -> &'g Graph<'c> {
        self.graph
    }

    fn comp(&self) -> &'c Computation {
        self.graph.comp
    }

    /// The groups that hold members, with their kernel kinds.
    pub fn kernels(&self) -> Vec<(FxHashSet<InstrId>, FusionKind)> {
        let comp = self.comp();
        self.groups
            .iter()
            .filter(|g| !g.members.is_empty())
            .map(|g| {
                let kind = match (&g.members[..], &g.rows) {
                    ([only], _) => single_op_kind(&comp.instr(*only).op),
                    (_, None) => FusionKind::Loop,
                    (_, Some(_)) if g.has_dot => FusionKind::Output,
                    (_, Some(_)) => FusionKind::Input,
                };
                (g.members.iter().copied().collect(), kind)
            })
            .collect()
    }

    /// Merges groups `a` and `b` if their union is one legal kernel and no cycle
    /// between kernels appears; otherwise says why not.
    ///
    /// The size test comes first, then the cycle test: it is cheap when it
    /// fails, as it does for a value that every step of an unrolled loop reads,
    /// offered to each step.
    pub fn try_merge(&mut self, a: usize, b: usize) -> Result<(), String> {
        let (ga, gb) = (&self.groups[a], &self.groups[b]);
        // An op of its own kernel is never merged, so its group is just it.
        if let Some(op) = [ga, gb]
            .iter()
            .map(|g| &self.comp().instr(g.members[0]).op)
            .find(|op| op.is_standalone())
        {
            return Err(format!("{} is a kernel of its own", op.opcode()));
        }
        if ga.members.len() + gb.members.len() > MAX_KERNEL_INSTRUCTIONS {
            return Err(format!(
                "the kernel would have more than {MAX_KERNEL_INSTRUCTIONS} instructions"
            ));
        }
        let heroes = |g: &Group| g.members.len() - g.plain;
        if heroes(ga) + heroes(gb) > MAX_KERNEL_HEROES {
            return Err(format!(
                "the kernel would have more than {MAX_KERNEL_HEROES} reductions and dots"
            ));
        }
        let later = self.check_cycle(a, b)?;
        let edges = self.edges_between(a, b);
        self.check_kind(a, b, &edges)?;
        self.merge(a, b, &edges, later);
        Ok(())
    }

    /// The dataflow edges (producer, consumer) between the two groups, walked
    /// from the one with fewer edges.
    fn edges_between(&mut self, a: usize, b: usize) -> Vec<(InstrId, InstrId)> {
        let (small, other) = if self.groups[a].degree <= self.groups[b].degree {
            (a, b)
        } else {
            (b, a)
        };
        self.visits += self.groups[small].degree;
        let comp = self.comp();
        let mut edges = Vec::new();
        for &x in &self.groups[small].members {
            let operands = &comp.instr(x).operands;
            for (i, &o) in operands.iter().enumerate() {
                if self.group[o.index()] == Some(other) && !operands[..i].contains(&o) {
                    edges.push((o, x));
                }
            }
            for &u in &self.graph.users[x.index()] {
                if self.group[u.index()] == Some(other) {
                    edges.push((x, u));
                }
            }
        }
        edges
    }

    /// Producers that stop being outputs once the two groups are one.
    fn absorbed_outputs(&self, edges: &[(InstrId, InstrId)]) -> FxHashSet<InstrId> {
        let mut inner: FxHashMap<InstrId, usize> = FxHashMap::default();
        for &(p, _) in edges {
            *inner.entry(p).or_insert(0) += 1;
        }
        inner
            .into_iter()
            .filter(|&(p, n)| n == self.ext[p.index()] && !self.graph.is_output[p.index()])
            .map(|(p, _)| p)
            .collect()
    }

    /// The kernel kind test of [`model::classify`] on the union, from the two
    /// summaries and the members the edges between them touch.
    fn check_kind(&self, a: usize, b: usize, edges: &[(InstrId, InstrId)]) -> Result<(), String> {
        let comp = self.comp();
        let (ga, gb) = (&self.groups[a], &self.groups[b]);
        let space = ga.space.max(gb.space);
        let cheapest = match (ga.cheapest, gb.cheapest) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        let loop_ok = match cheapest {
            Some((size, m)) if size < space => Err(recomputed(comp, m, space)),
            _ => Ok(()),
        };
        let rows = match (&ga.rows, &gb.rows) {
            (None, None) => {
                loop_ok?;
                return self.check_loop_outputs(a, b, edges);
            }
            (Some((ha, ra)), Some((hb, rb))) if ra != rb => {
                let ((first, first_rows), (later, later_rows)) = if ha < hb {
                    ((ha, ra), (hb, rb))
                } else {
                    ((hb, rb), (ha, ra))
                };
                return Err(disagree(comp, *later, later_rows, *first, first_rows));
            }
            (Some((_, rows)), _) | (None, Some((_, rows))) => rows,
        };
        if let Some(&(p, _)) = edges.iter().find(|&&(p, _)| is_column_reduce(comp, p)) {
            return Err(feeds_kernel(comp, p));
        }
        let inside = |id: InstrId| {
            let g = self.group[id.index()];
            g == Some(a) || g == Some(b)
        };
        if rows.is_empty() && ga.plain + gb.plain > 0 {
            loop_ok.clone()?;
        }
        // A group without heroes had no rows to test its members against.
        for g in [ga, gb].into_iter().filter(|g| g.rows.is_none()) {
            for &m in g.reads.values() {
                row_member(comp, &inside, m, rows, &loop_ok)?;
            }
        }
        // Members that now read across the two, and the dots that read them
        // through views.
        let mut touched: Vec<InstrId> = edges.iter().map(|&(_, c)| c).collect();
        let mut seen: FxHashSet<InstrId> = touched.iter().copied().collect();
        while let Some(m) = touched.pop() {
            row_member(comp, &inside, m, rows, &loop_ok)?;
            if is_movement(&comp.instr(m).op) {
                for &u in &self.graph.users[m.index()] {
                    if inside(u) && seen.insert(u) {
                        touched.push(u);
                    }
                }
            }
        }
        Ok(())
    }

    /// A loop kernel's outputs share one iteration space. Each group's outputs
    /// do already.
    fn check_loop_outputs(
        &self,
        a: usize,
        b: usize,
        edges: &[(InstrId, InstrId)],
    ) -> Result<(), String> {
        let comp = self.comp();
        let absorbed = self.absorbed_outputs(edges);
        let first = |g: usize| {
            self.groups[g]
                .outputs
                .iter()
                .copied()
                .find(|o| !absorbed.contains(o))
        };
        let dims = |id: InstrId| &comp.instr(id).array_shape().dims;
        match (first(a), first(b)) {
            (Some(x), Some(y)) if dims(x) != dims(y) => Err(format!(
                "outputs {} and {} have different shapes",
                comp.instr(x.min(y)).name,
                comp.instr(x.max(y)).name
            )),
            _ => Ok(()),
        }
    }

    /// Refuses the merge if a path leads from one group to the other through a
    /// third kernel; otherwise returns the groups between the two that the
    /// earlier one reaches, which must move after the merged group.
    fn check_cycle(&mut self, a: usize, b: usize) -> Result<Vec<usize>, String> {
        // Keys are a topological order: only the earlier group can reach the
        // later, and only through groups between them.
        let (from, to) = if self.groups[a].key < self.groups[b].key {
            (a, b)
        } else {
            (b, a)
        };
        // Search from the end with fewer edges to follow: a value read by every
        // step of a loop has many users, and a kernel that refused many
        // producers many operands.
        let forward = self.groups[from].out_users.len() <= self.groups[to].in_operands.len();
        let found = if forward {
            self.search(from, to, true)
        } else {
            self.search(to, from, false)
        };
        if found.is_none() {
            return Err("the kernels would depend on each other through a third".into());
        }
        if forward {
            return Ok(found.unwrap_or_default());
        }
        // The groups to move are the ones the earlier group reaches.
        Ok(self.search(from, to, true).unwrap_or_default())
    }

    /// Searches from group `start` along users (`forward`) or operands for a
    /// path to group `goal` through third groups; `None` if there is one, else
    /// the third groups reached between the two keys. Edges are followed one at
    /// a time, depth first, so that a path is often found after a few.
    fn search(&mut self, start: usize, goal: usize, forward: bool) -> Option<Vec<usize>> {
        let (low, high) = if forward {
            (self.groups[start].key, self.groups[goal].key)
        } else {
            (self.groups[goal].key, self.groups[start].key)
        };
        let edges = |g: usize| -> Box<dyn Iterator<Item = InstrId> + '_> {
            let set = if forward {
                &self.groups[g].out_users
            } else {
                &self.groups[g].in_operands
            };
            Box::new(set.iter().copied())
        };
        let mut frames = vec![edges(start)];
        let mut seen_groups: FxHashSet<usize> = FxHashSet::default();
        let mut seen_free: FxHashSet<InstrId> = FxHashSet::default();
        let mut reached = Vec::new();
        let mut visits = 0;
        let mut found = false;
        while let Some(frame) = frames.last_mut() {
            let Some(id) = frame.next() else {
                frames.pop();
                continue;
            };
            visits += 1;
            match self.group[id.index()] {
                // An edge between the two groups themselves is no path.
                Some(g) if g == goal && frames.len() == 1 => {}
                Some(g) if g == goal => {
                    found = true;
                    break;
                }
                Some(g) if g == start => {}
                // A third kernel runs as a whole: what any of its members
                // produce comes after all of its inputs.
                Some(g) => {
                    let key = self.groups[g].key;
                    if low < key && key < high && seen_groups.insert(g) {
                        reached.push(g);
                        frames.push(edges(g));
                    }
                }
                None => {
                    if seen_free.insert(id) {
                        let next = if forward {
                            &self.graph.users[id.index()]
                        } else {
                            &self.comp().instr(id).operands
                        };
                        frames.push(Box::new(next.iter().copied()));
                    }
                }
            }
        }
        drop(frames);
        self.visits += visits;
        (!found).then_some(reached)
    }

    fn merge(&mut self, a: usize, b: usize, edges: &[(InstrId, InstrId)], later: Vec<usize>) {
        let comp = self.comp();
        let absorbed = self.absorbed_outputs(edges);
        for &(p, _) in edges {
            self.ext[p.index()] -= 1;
        }
        let (keep, gone) = if self.groups[a].members.len() >= self.groups[b].members.len() {
            (a, b)
        } else {
            (b, a)
        };
        let gone_group = std::mem::replace(
            &mut self.groups[gone],
            Group {
                members: Vec::new(),
                out_users: FxHashSet::default(),
                in_operands: FxHashSet::default(),
                outputs: BTreeSet::new(),
                degree: 0,
                space: 0,
                cheapest: None,
                rows: None,
                has_dot: false,
                plain: 0,
                reads: FxHashMap::default(),
                key: 0,
            },
        );
        for &m in &gone_group.members {
            self.group[m.index()] = Some(keep);
        }
        let key = self.groups[keep].key.max(gone_group.key);
        self.keys.remove(&gone_group.key);
        self.keys.remove(&self.groups[keep].key);
        self.keys.insert(key);
        let g = &mut self.groups[keep];
        g.key = key;
        g.members.extend(gone_group.members);
        g.out_users.extend(gone_group.out_users);
        g.in_operands.extend(gone_group.in_operands);
        // The edges between the two are inside now.
        for &(p, c) in edges {
            g.in_operands.remove(&p);
            g.out_users.remove(&c);
        }
        // Walking a set costs its capacity: keep that near its size.
        for set in [&mut g.out_users, &mut g.in_operands] {
            if set.capacity() > 4 * set.len() + 16 {
                set.shrink_to_fit();
            }
        }
        g.outputs.extend(gone_group.outputs);
        g.outputs.retain(|o| !absorbed.contains(o));
        g.degree += gone_group.degree;
        g.space = g.space.max(gone_group.space);
        g.cheapest = match (g.cheapest, gone_group.cheapest) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        g.rows = match (g.rows.take(), gone_group.rows) {
            (Some(x), Some(y)) => Some(if x.0 < y.0 { x } else { y }),
            (x, y) => x.or(y),
        };
        g.has_dot |= gone_group.has_dot;
        g.plain += gone_group.plain;
        if g.rows.is_some() {
            g.reads.clear();
        } else {
            for (k, m) in gone_group.reads {
                let e = g.reads.entry(k).or_insert(m);
                *e = (*e).min(m);
            }
            for &(_, c) in edges {
                let e = g.reads.entry(RowKey::of(comp, c)).or_insert(c);
                *e = (*e).min(c);
            }
        }
        self.move_after(keep, later);
    }

    /// Gives `groups` keys just after group `after`'s, keeping the order among
    /// them; renumbers every group when no room is left.
    fn move_after(&mut self, after: usize, mut groups: Vec<usize>) {
        if groups.is_empty() {
            return;
        }
        groups.sort_by_key(|&g| self.groups[g].key);
        for &g in &groups {
            self.keys.remove(&self.groups[g].key);
        }
        let mut key = self.groups[after].key;
        let mut next = self
            .keys
            .range(key + 1..)
            .next()
            .copied()
            .unwrap_or(u64::MAX);
        if next - key <= groups.len() as u64 + 1 {
            // Renumber the others, leaving the moved groups out, then retry.
            let moved: FxHashSet<usize> = groups.iter().copied().collect();
            let mut live: Vec<usize> = (0..self.groups.len())
                .filter(|&g| !self.groups[g].members.is_empty() && !moved.contains(&g))
                .collect();
            live.sort_by_key(|&g| self.groups[g].key);
            self.keys.clear();
            let spacing = KEY_SPACING.max(groups.len() as u64 + 2);
            for (i, &g) in live.iter().enumerate() {
                let new = (i as u64 + 1) * spacing;
                self.groups[g].key = new;
                self.keys.insert(new);
            }
            key = self.groups[after].key;
            next = self
                .keys
                .range(key + 1..)
                .next()
                .copied()
                .unwrap_or(u64::MAX);
        }
        let step = (next - key) / (groups.len() as u64 + 1);
        for (i, &g) in groups.iter().enumerate() {
            let new = key + step * (i as u64 + 1);
            self.groups[g].key = new;
            self.keys.insert(new);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Graph, fuse_producers, fuse_siblings, model};
    use super::*;
    use crate::hlo::Module;
    use crate::import::parse_module;
    use crate::opt::{Limits, optimize};
    use crate::trace::{KnownShapes, trace_source};

    fn optimized(source: &str) -> Module {
        let known = KnownShapes {
            dims: [("B", 8), ("T", 16), ("N", 8)]
                .map(|(n, d)| (n.to_string(), d))
                .into_iter()
                .collect(),
            ..KnownShapes::default()
        };
        let traced = trace_source(source, "t", &known).unwrap();
        optimize(&traced, Limits::default()).module
    }

    /// The groups (as sorted member lists) and the refused (producer,
    /// consumer) pairs, with the work the tests did.
    type Outcome = (BTreeSet<Vec<InstrId>>, BTreeSet<(InstrId, InstrId)>, usize);

    fn incremental(module: &Module) -> Outcome {
        let graph = Graph::new(module.entry());
        let mut g = Grouping::new(&graph);
        fuse_producers(&mut g);
        fuse_siblings(&mut g);
        for (i, group) in g.groups.iter().enumerate() {
            for &m in &group.members {
                assert_eq!(g.group[m.index()], Some(i));
            }
            if group.members.len() > 1 {
                let set: FxHashSet<InstrId> = group.members.iter().copied().collect();
                assert!(model::classify(graph.comp, &set).is_ok());
                let outputs: BTreeSet<InstrId> = graph.outputs(&set).into_iter().collect();
                assert_eq!(outputs, group.outputs);
            }
        }
        let groups = g
            .kernels()
            .into_iter()
            .map(|(m, _)| model::sorted(&m))
            .collect();
        let refused = g
            .refused
            .iter()
            .filter(|(p, c, _)| g.group[p.index()] != g.group[c.index()])
            .map(|&(p, c, _)| (p, c))
            .collect();
        (groups, refused, g.visits)
    }

    /// The grouping as first written: every offer tests the union from scratch.
    fn reference(module: &Module) -> Outcome {
        let graph = Graph::new(module.entry());
        let comp = graph.comp;
        let mut group: Vec<Option<usize>> = vec![None; comp.instructions.len()];
        let mut members: Vec<FxHashSet<InstrId>> = Vec::new();
        for id in comp.ids().filter(|&id| graph.is_kernel(id)) {
            group[id.index()] = Some(members.len());
            members.push(std::iter::once(id).collect());
        }
        let kind = |m: &FxHashSet<InstrId>| -> Result<(), String> {
            if model::classify(comp, m)? == FusionKind::Loop {
                let outputs = graph.outputs(m);
                let dims = |id: InstrId| &comp.instr(id).array_shape().dims;
                if outputs.iter().any(|&o| dims(o) != dims(outputs[0])) {
                    return Err("outputs".into());
                }
            }
            Ok(())
        };
        let path = |group: &[Option<usize>], members: &[FxHashSet<InstrId>], from, to| {
            let inside = |id: InstrId| {
                let g = group[id.index()];
                g == Some(from) || g == Some(to)
            };
            let mut stack: Vec<InstrId> = members[from]
                .iter()
                .flat_map(|m| graph.users[m.index()].iter().copied())
                .filter(|&u| !inside(u))
                .collect();
            let mut seen = FxHashSet::default();
            while let Some(id) = stack.pop() {
                if !seen.insert(id) {
                    continue;
                }
                let kernel: Vec<InstrId> = match group[id.index()] {
                    Some(g) => members[g].iter().copied().collect(),
                    None => vec![id],
                };
                for u in kernel.iter().flat_map(|k| &graph.users[k.index()]) {
                    if group[u.index()] == Some(to) {
                        return true;
                    }
                    if !inside(*u) {
                        stack.push(*u);
                    }
                }
            }
            false
        };
        let try_merge = |group: &mut Vec<Option<usize>>,
                         members: &mut Vec<FxHashSet<InstrId>>,
                         a: usize,
                         b: usize|
         -> bool {
            let union: FxHashSet<InstrId> = members[a].union(&members[b]).copied().collect();
            let heroes = union
                .iter()
                .filter(|&&m| is_hero(&comp.instr(m).op))
                .count();
            if union.iter().any(|&m| comp.instr(m).op.is_standalone())
                || union.len() > MAX_KERNEL_INSTRUCTIONS
                || heroes > MAX_KERNEL_HEROES
                || kind(&union).is_err()
                || path(group, members, a, b)
                || path(group, members, b, a)
            {
                return false;
            }
            for &m in &members[b] {
                group[m.index()] = Some(a);
            }
            members[a] = union;
            members[b].clear();
            true
        };
        let mut refused = Vec::new();
        for c in comp.ids().rev() {
            let mut operands = comp.instr(c).operands.clone();
            operands.dedup();
            for p in operands {
                let (Some(gp), Some(gc)) = (group[p.index()], group[c.index()]) else {
                    continue;
                };
                if gp != gc && !try_merge(&mut group, &mut members, gc, gp) {
                    refused.push((p, c));
                }
            }
        }
        for x in comp.ids().filter(|&x| graph.live[x.index()]) {
            if comp.instr(x).shape.as_array().is_none_or(|s| s.rank() == 0) {
                continue;
            }
            let readers = &graph.users[x.index()];
            for (i, &u) in readers.iter().enumerate() {
                for &v in &readers[i + 1..] {
                    if let (Some(a), Some(b)) = (group[u.index()], group[v.index()])
                        && a != b
                    {
                        try_merge(&mut group, &mut members, a, b);
                    }
                }
            }
        }
        let groups = members
            .iter()
            .filter(|m| !m.is_empty())
            .map(model::sorted)
            .collect();
        let refused = refused
            .into_iter()
            .filter(|(p, c)| group[p.index()] != group[c.index()])
            .collect();
        (groups, refused, 0)
    }

    /// The suite, the examples, every fixture module, and short unrolled loops.
    fn programs() -> Vec<Module> {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let read_dir = |dir: &str| {
            let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            paths.sort();
            paths
        };
        let mut sources = Vec::new();
        for dir in ["benches/suite", "examples"] {
            for path in read_dir(dir) {
                if path.extension().is_some_and(|e| e == "om") {
                    sources.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        sources.extend([8, 40].into_iter().flat_map(unrolled));
        let mut modules: Vec<Module> = sources.iter().map(|s| optimized(s)).collect();
        for dir in ["tests/om", "tests/jax", "tests/xla"] {
            for path in read_dir(dir) {
                let Ok(text) = std::fs::read_to_string(path.join("module.hlo")) else {
                    continue;
                };
                // `fuse` leaves control flow alone, and so do these tests.
                if let Ok(module) = parse_module(&text)
                    && !module.has_control_flow()
                {
                    modules.push(optimize(&module, Limits::default()).module);
                }
            }
        }
        modules
    }

    /// Unrolled loops: an elementwise chain, a chain through a matmul, a chain
    /// through a row reduction, and three independent chains.
    fn unrolled(n: usize) -> [String; 4] {
        [
            format!(
                "fn main(x: f32[64]) {{ let h = x; for i in 0..{n} {{ let h = tanh(h) + x * 0.5; }} h }}"
            ),
            format!(
                "fn main(x: f32[16, 64], w: f32[64, 64]) {{ let h = x; for i in 0..{n} {{ let h = tanh(h @ w) + x; }} h }}"
            ),
            format!(
                "fn main(x: f32[16, 64]) {{ let h = x; for i in 0..{n} {{ let h = tanh(h - sum(h, axis=1, keepdims=true) * 0.01) + x; }} h }}"
            ),
            format!(
                "fn main(x: f32[64], y: f32[64], z: f32[64]) {{ let a = x; let b = y; let c = z; for i in 0..{n} {{ let a = tanh(a) + x * 0.5; let b = sin(b) * y; let c = exp(c - a) + z; }} (a, b, c) }}"
            ),
        ]
    }

    #[test]
    fn incremental_grouping_decides_as_testing_each_union() {
        let modules = programs();
        assert!(modules.len() > 100);
        for module in modules {
            let (groups, refused, _) = incremental(&module);
            let (want_groups, want_refused, _) = reference(&module);
            assert_eq!(groups, want_groups, "{}", module.name);
            assert_eq!(refused, want_refused, "{}", module.name);
        }
    }

    /// Loops unrolled far make many kernels, none past the size limits.
    #[test]
    fn kernels_stay_within_the_size_limits() {
        for source in unrolled(2_500) {
            let module = optimized(&source);
            let comp = module.entry();
            let (groups, _, _) = incremental(&module);
            let heroes =
                |g: &Vec<InstrId>| g.iter().filter(|&&m| is_hero(&comp.instr(m).op)).count();
            assert!(groups.len() > 1, "{source}");
            for group in &groups {
                assert!(group.len() <= MAX_KERNEL_INSTRUCTIONS, "{source}");
                assert!(heroes(group) <= MAX_KERNEL_HEROES, "{source}");
            }
        }
    }

    /// Work, not time: grouping a loop unrolled 8 times as far costs at most
    /// twice 8 times as many visits (the optimizer may stop at a different
    /// point on each), where quadratic work would cost 64 times as many.
    #[test]
    fn grouping_work_grows_linearly_with_unrolled_loops() {
        for (short, long) in unrolled(100).into_iter().zip(unrolled(800)) {
            let (_, _, short_visits) = incremental(&optimized(&short));
            let (_, _, long_visits) = incremental(&optimized(&long));
            assert!(
                long_visits <= 16 * short_visits,
                "{short_visits} visits for 100 steps, {long_visits} for 800: {long}"
            );
        }
    }
}
