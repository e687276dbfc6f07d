//! Loops and branches (`while`, `conditional`) on the compiled engines. A
//! computation is split into straight-line segments — ordinary modules that
//! the engine optimizes, fuses and compiles on its own — and the loops and
//! branches between them, which this driver runs: a loop runs its
//! condition's steps, reads the predicate, then its body's, until the
//! predicate is false (XLA's `WhileThunk`); a branch reads its selector and
//! runs one branch's steps. A loop body is compiled once, whatever its trip
//! count.
//!
//! Tuples never reach an engine: every value is a list of arrays (its
//! leaves; HLO tuples are flat), a `tuple` concatenates its operands' leaves
//! and a `get-tuple-element` picks one. A computation's parameters are
//! likewise its parameters' leaves, in order.

use std::rc::Rc;

use omelet_compiler::hlo::{
    ArrayShape, Computation, ComputationBuilder, ComputationId, InstrId, Instruction, Module, Op,
    Shape,
};
use rustc_hash::FxHashMap;

use crate::array::{Array, RuntimeError};
use crate::interp::{MAX_LOOP_ITERATIONS, update_slice};

/// Where a step's input comes from: a parameter leaf of the computation, or
/// an output of an earlier step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Ref {
    Param(usize),
    Output { step: usize, index: usize },
}

/// A computation as steps, with `E` the engine's compiled segment.
pub struct Flow<E> {
    steps: Vec<Step<E>>,
    results: Vec<Ref>,
}

enum Step<E> {
    /// A straight-line segment; its outputs are the module's results.
    Straight { code: E, inputs: Vec<Ref> },
    /// Outputs are the final state's leaves; the names are for errors.
    While {
        name: String,
        condition_name: String,
        init: Vec<Ref>,
        condition: Flow<E>,
        body: Flow<E>,
    },
    /// `dynamic-update-slice` of parameter leaf `target`, which nothing else
    /// reads, by the driver on the host in place: a scan's stacked outputs
    /// grow by one row per iteration, not by a copy of the stack. The output
    /// is the updated array.
    UpdateSlice {
        target: usize,
        update: Ref,
        starts: Vec<Ref>,
    },
    /// Outputs are the chosen branch's results.
    Conditional {
        selector: Ref,
        branches: Vec<(Flow<E>, Vec<Ref>)>,
    },
}

/// How a backend compiles a segment (a module without loops or branches).
pub trait Compiler {
    type Code;
    fn compile(&mut self, segment: Module) -> Result<Self::Code, RuntimeError>;
}

/// How an engine runs a compiled segment.
pub trait Engine: Compiler {
    fn run(&self, code: &Self::Code, inputs: &[&Array]) -> Result<Vec<Array>, RuntimeError>;
}

/// A value while a program runs: one of its inputs, borrowed, or an array a
/// step computed, shared by every step that reads it (a loop's state passes
/// through its iterations without a copy).
#[derive(Clone)]
enum Held<'a> {
    Input(&'a Array),
    Computed(Rc<Array>),
    /// A parameter an in-place update took: nothing reads it after.
    Taken,
}

impl Held<'_> {
    fn array(&self) -> &Array {
        match self {
            Held::Input(a) => a,
            Held::Computed(a) => a,
            Held::Taken => unreachable!("a taken parameter has no other reader"),
        }
    }

    /// The array, without a copy where this was its only holder.
    fn into_array(self) -> Array {
        match self {
            Held::Input(a) => a.clone(),
            Held::Computed(a) => Rc::try_unwrap(a).unwrap_or_else(|a| (*a).clone()),
            Held::Taken => unreachable!("a taken parameter has no other reader"),
        }
    }
}

impl<E> Flow<E> {
    /// Splits `module`'s entry, compiling every segment with `compiler`.
    pub fn new<C: Compiler<Code = E>>(
        module: &Module,
        compiler: &mut C,
    ) -> Result<Self, RuntimeError> {
        Splitter { module, compiler }.flow(module.entry)
    }

    /// Runs the program on `inputs` (the parameters' leaves).
    pub fn run<G: Engine<Code = E>>(
        &self,
        engine: &G,
        inputs: &[Array],
    ) -> Result<Vec<Array>, RuntimeError> {
        let params: Vec<Held> = inputs.iter().map(Held::Input).collect();
        let results = self.steps(engine, params)?;
        Ok(results.into_iter().map(Held::into_array).collect())
    }

    /// Runs the steps on `params`, which an in-place update may take.
    fn steps<'a, G: Engine<Code = E>>(
        &self,
        engine: &G,
        mut params: Vec<Held<'a>>,
    ) -> Result<Vec<Held<'a>>, RuntimeError> {
        let mut outputs: Vec<Vec<Held>> = Vec::with_capacity(self.steps.len());
        let get = |r: &Ref, params: &[Held<'a>], outputs: &[Vec<Held<'a>>]| match *r {
            Ref::Param(i) => params[i].clone(),
            Ref::Output { step, index } => outputs[step][index].clone(),
        };
        let gather =
            |refs: &[Ref], params: &[Held<'a>], outputs: &[Vec<Held<'a>>]| -> Vec<Held<'a>> {
                refs.iter().map(|r| get(r, params, outputs)).collect()
            };
        let computed = |arrays: Vec<Array>| -> Vec<Held<'a>> {
            arrays
                .into_iter()
                .map(|a| Held::Computed(Rc::new(a)))
                .collect()
        };
        for step in &self.steps {
            let out = match step {
                Step::Straight { code, inputs } => {
                    let inputs = gather(inputs, &params, &outputs);
                    let arrays: Vec<&Array> = inputs.iter().map(Held::array).collect();
                    computed(engine.run(code, &arrays)?)
                }
                Step::UpdateSlice {
                    target,
                    update,
                    starts,
                } => {
                    let update = get(update, &params, &outputs);
                    let starts = gather(starts, &params, &outputs);
                    let starts: Vec<&Array> = starts.iter().map(Held::array).collect();
                    let mut array =
                        std::mem::replace(&mut params[*target], Held::Taken).into_array();
                    update_slice(&mut array, update.array(), &starts);
                    computed(vec![array])
                }
                Step::While {
                    name,
                    condition_name,
                    init,
                    condition,
                    body,
                } => {
                    let mut state = gather(init, &params, &outputs);
                    let mut iterations = 0u64;
                    while is_true(condition.steps(engine, state.clone())?[0].array()) {
                        // As the interpreter: a condition that never fails is an error.
                        if iterations == MAX_LOOP_ITERATIONS {
                            return Err(RuntimeError::input(format!(
                                "the loop {name} ran {iterations} iterations without its condition {condition_name} failing"
                            )));
                        }
                        state = body.steps(engine, state)?;
                        iterations += 1;
                    }
                    state
                }
                Step::Conditional { selector, branches } => {
                    let selector = get(selector, &params, &outputs);
                    let selector = selector.array();
                    // `true` runs the first branch; an index out of range the last.
                    let chosen = match selector {
                        Array::Pred(_) => usize::from(!is_true(selector)),
                        _ => usize::try_from(scalar_index(selector))
                            .ok()
                            .filter(|&i| i < branches.len())
                            .unwrap_or(branches.len() - 1),
                    };
                    let (branch, operands) = &branches[chosen];
                    branch.steps(engine, gather(operands, &params, &outputs))?
                }
            };
            outputs.push(out);
        }
        Ok(gather(&self.results, &params, &outputs))
    }

    /// The compiled segments, in order, nested loops' and branches' included.
    pub fn segments(&self) -> Vec<&E> {
        let mut all = Vec::new();
        for step in &self.steps {
            match step {
                Step::Straight { code, .. } => all.push(code),
                Step::While {
                    condition, body, ..
                } => {
                    all.extend(condition.segments());
                    all.extend(body.segments());
                }
                Step::Conditional { branches, .. } => {
                    for (branch, _) in branches {
                        all.extend(branch.segments());
                    }
                }
                Step::UpdateSlice { .. } => {}
            }
        }
        all
    }
}

impl<E> Step<E> {
    /// The step's inputs from this computation (a nested flow's are its own).
    fn inputs_mut(&mut self) -> Vec<&mut Ref> {
        match self {
            Step::Straight { inputs, .. } => inputs.iter_mut().collect(),
            Step::While { init, .. } => init.iter_mut().collect(),
            Step::UpdateSlice { update, starts, .. } => {
                std::iter::once(update).chain(starts.iter_mut()).collect()
            }
            Step::Conditional { selector, branches } => std::iter::once(selector)
                .chain(
                    branches
                        .iter_mut()
                        .flat_map(|(_, operands)| operands.iter_mut()),
                )
                .collect(),
        }
    }
}

fn is_true(a: &Array) -> bool {
    scalar_index(a) != 0
}

/// A scalar predicate or index as an integer.
fn scalar_index(a: &Array) -> i64 {
    match a {
        Array::Pred(x) => i64::from(x.iter().next().copied().unwrap_or(false)),
        Array::S32(x) => x.iter().next().copied().map_or(0, i64::from),
        other => unreachable!("the verifier admits pred and s32 selectors, not {other:?}"),
    }
}

/// One leaf of a value while a computation is split.
#[derive(Clone, Copy)]
enum Leaf {
    /// A parameter leaf or an earlier step's output.
    Ref(Ref),
    /// Computed by instruction `id` of open segment `segment`.
    Local { segment: usize, id: InstrId },
}

/// A straight-line segment being built.
struct Segment<'m> {
    /// Its position among the steps, counting segments without outputs.
    step: usize,
    builder: ComputationBuilder,
    copier: DeepCopier<'m>,
    inputs: Vec<Ref>,
    params: FxHashMap<Ref, InstrId>,
    outputs: Vec<InstrId>,
}

/// One computation's split in progress: its segments (the last one open),
/// the loops, branches and updates between them by position among all steps,
/// and the shape of every step input.
struct Split<'m, Code> {
    module: &'m Module,
    comp: &'m Computation,
    segments: Vec<Segment<'m>>,
    flow_steps: Vec<(usize, Step<Code>)>,
    shapes: FxHashMap<Ref, ArrayShape>,
}

impl<'m, Code> Split<'m, Code> {
    fn segment(&self, step: usize) -> Segment<'m> {
        let k = self.segments.len();
        Segment {
            step,
            builder: ComputationBuilder::new(format!("{}.segment{k}", self.comp.name)),
            copier: DeepCopier::new(self.module),
            inputs: Vec::new(),
            params: FxHashMap::default(),
            outputs: Vec::new(),
        }
    }

    /// Records `step` (a loop, branch or update) after the open segment, its
    /// outputs (`instr`'s arrays) as leaves, and opens the segment after it.
    fn step(&mut self, step: Step<Code>, instr: &Instruction) -> Vec<Leaf> {
        let at = self.segments.last().expect("a segment is open").step + 1;
        self.flow_steps.push((at, step));
        let next = self.segment(at + 1);
        self.segments.push(next);
        let arrays = instr.shape.arrays();
        (0..arrays.len())
            .map(|index| {
                let r = Ref::Output { step: at, index };
                self.shapes.insert(r, arrays[index].clone());
                Leaf::Ref(r)
            })
            .collect()
    }

    /// The in-place update `id` of parameter leaf `target` as a step.
    fn update_slice(&mut self, leaves: &[Vec<Leaf>], id: InstrId, target: usize) -> Vec<Leaf> {
        let instr = self.comp.instr(id);
        let read = |k: usize| leaves[instr.operands[k].index()][0];
        let update = self.refs(&[read(1)])[0];
        let starts: Vec<Leaf> = (2..instr.operands.len()).map(read).collect();
        let step = Step::UpdateSlice {
            target,
            update,
            starts: self.refs(&starts),
        };
        self.step(step, instr)
    }

    /// The step inputs for `leaves`: a local value becomes its segment's output.
    fn refs(&mut self, leaves: &[Leaf]) -> Vec<Ref> {
        leaves
            .iter()
            .map(|&leaf| match leaf {
                Leaf::Ref(r) => r,
                Leaf::Local { segment, id } => {
                    output(&mut self.segments[segment], &mut self.shapes, id)
                }
            })
            .collect()
    }

    /// `leaf` as an instruction of the open segment: its own value, or a
    /// parameter reading a computation parameter or an earlier step's output.
    fn local(&mut self, leaf: Leaf) -> InstrId {
        let s = self.segments.len() - 1;
        let r = match leaf {
            Leaf::Local { segment, id } if segment == s => return id,
            Leaf::Local { segment, id } => {
                output(&mut self.segments[segment], &mut self.shapes, id)
            }
            Leaf::Ref(r) => r,
        };
        let shape = self.shapes[&r].clone();
        let segment = &mut self.segments[s];
        *segment.params.entry(r).or_insert_with(|| {
            let n = segment.inputs.len();
            segment.inputs.push(r);
            let name = segment.builder.fresh_name(&format!("input.{n}"));
            segment
                .builder
                .push(name, Op::Parameter(n), vec![], Shape::Array(shape))
                .expect("a parameter has any shape")
        })
    }
}

/// Splits a module's computations, recursively, compiling each segment.
struct Splitter<'m, 'c, C> {
    module: &'m Module,
    compiler: &'c mut C,
}

impl<'m, C: Compiler> Splitter<'m, '_, C> {
    fn flow(&mut self, id: ComputationId) -> Result<Flow<C::Code>, RuntimeError> {
        let module = self.module;
        let comp = module.computation(id);
        let live = comp.live();
        let mut leaves: Vec<Vec<Leaf>> = vec![Vec::new(); comp.instructions.len()];
        let mut split = Split {
            module,
            comp,
            segments: Vec::new(),
            flow_steps: Vec::new(),
            shapes: FxHashMap::default(),
        };
        let first = split.segment(0);
        split.segments.push(first);
        // Parameter `n`'s leaves follow those of the parameters before it.
        let mut first_leaf = Vec::with_capacity(comp.parameters.len());
        for &p in &comp.parameters {
            let before = split.shapes.len();
            first_leaf.push(before);
            for (k, shape) in comp.instr(p).shape.arrays().iter().enumerate() {
                split.shapes.insert(Ref::Param(before + k), shape.clone());
            }
        }
        let in_place = updated_in_place(comp, &live, &first_leaf, split.shapes.len());
        let mut deferred: Vec<(InstrId, usize)> = Vec::new();
        for id in comp.ids().filter(|id| live[id.index()]) {
            let instr = comp.instr(id);
            // The results read the updates, which run last.
            if id == comp.root {
                for (d, target) in std::mem::take(&mut deferred) {
                    leaves[d.index()] = split.update_slice(&leaves, d, target);
                }
            }
            leaves[id.index()] = match &instr.op {
                _ if let Some(target) = in_place[id.index()] => {
                    if id == comp.root {
                        split.update_slice(&leaves, id, target)
                    } else {
                        deferred.push((id, target));
                        Vec::new()
                    }
                }
                Op::Parameter(n) => {
                    let first = first_leaf[*n];
                    (first..first + instr.shape.arrays().len())
                        .map(|i| Leaf::Ref(Ref::Param(i)))
                        .collect()
                }
                Op::Tuple => instr
                    .operands
                    .iter()
                    .flat_map(|o| leaves[o.index()].clone())
                    .collect(),
                Op::GetTupleElement { index } => vec![leaves[instr.operands[0].index()][*index]],
                Op::While { condition, body } => {
                    let init = split.refs(&leaves[instr.operands[0].index()]);
                    let step = Step::While {
                        name: instr.name.clone(),
                        condition_name: module.computation(*condition).name.clone(),
                        init,
                        condition: self.flow(*condition)?,
                        body: self.flow(*body)?,
                    };
                    split.step(step, instr)
                }
                Op::Conditional { branches } => {
                    let selector = split.refs(&leaves[instr.operands[0].index()])[0];
                    let mut compiled = Vec::new();
                    for (k, &branch) in branches.iter().enumerate() {
                        let operands = split.refs(&leaves[instr.operands[k + 1].index()]);
                        compiled.push((self.flow(branch)?, operands));
                    }
                    let step = Step::Conditional {
                        selector,
                        branches: compiled,
                    };
                    split.step(step, instr)
                }
                _ => {
                    let operands: Vec<InstrId> = instr
                        .operands
                        .iter()
                        .map(|o| split.local(leaves[o.index()][0]))
                        .collect();
                    let s = split.segments.len() - 1;
                    let copied = split.segments[s].copy(instr, operands)?;
                    copied
                        .into_iter()
                        .map(|id| Leaf::Local { segment: s, id })
                        .collect()
                }
            };
        }
        let results = split.refs(&leaves[comp.root.index()]);
        self.finish(split.segments, split.flow_steps, results)
    }

    /// Compiles the segments that have outputs and numbers the steps without
    /// the others.
    fn finish(
        &mut self,
        segments: Vec<Segment>,
        flow_steps: Vec<(usize, Step<C::Code>)>,
        results: Vec<Ref>,
    ) -> Result<Flow<C::Code>, RuntimeError> {
        let total = segments.last().map_or(0, |s| s.step + 1);
        let kept: Vec<bool> = (0..total)
            .map(|at| {
                segments
                    .iter()
                    .find(|s| s.step == at)
                    .is_none_or(|s| !s.outputs.is_empty())
            })
            .collect();
        let renumbered: Vec<usize> = kept
            .iter()
            .scan(0, |next, &k| {
                let at = *next;
                *next += usize::from(k);
                Some(at)
            })
            .collect();
        let renumber = |r: Ref| match r {
            Ref::Output { step, index } => Ref::Output {
                step: renumbered[step],
                index,
            },
            param => param,
        };
        let all = |refs: Vec<Ref>| refs.into_iter().map(renumber).collect::<Vec<_>>();
        let mut steps: Vec<(usize, Step<C::Code>)> = Vec::new();
        for segment in segments.into_iter().filter(|s| !s.outputs.is_empty()) {
            let at = segment.step;
            let inputs = all(segment.inputs.clone());
            let code = self.compiler.compile(segment.into_module(self.module)?)?;
            steps.push((at, Step::Straight { code, inputs }));
        }
        for (at, mut step) in flow_steps {
            for r in step.inputs_mut() {
                *r = renumber(*r);
            }
            steps.push((at, step));
        }
        steps.sort_by_key(|(at, _)| *at);
        Ok(Flow {
            steps: steps.into_iter().map(|(_, step)| step).collect(),
            results: all(results),
        })
    }
}

impl Segment<'_> {
    /// Appends a copy of `instr` reading `operands`; returns its arrays: the
    /// copy, or a `get-tuple-element` of each of its results.
    fn copy(
        &mut self,
        instr: &Instruction,
        operands: Vec<InstrId>,
    ) -> Result<Vec<InstrId>, RuntimeError> {
        let op = self.copier.op(&instr.op);
        let name = self.name(&instr.name);
        let copied = self
            .builder
            .push(name, op, operands, instr.shape.clone())
            .map_err(RuntimeError::internal)?;
        let Shape::Tuple(arrays) = &instr.shape else {
            return Ok(vec![copied]);
        };
        (0..arrays.len())
            .map(|index| {
                let name = self.name(&instr.name);
                let element = Shape::Array(arrays[index].clone());
                let gte = Op::GetTupleElement { index };
                self.builder
                    .push(name, gte, vec![copied], element)
                    .map_err(RuntimeError::internal)
            })
            .collect()
    }

    /// `name`, unless the segment has it already: names survive into errors.
    fn name(&mut self, name: &str) -> String {
        match self.builder.has_name(name) {
            true => self.builder.fresh_name(name),
            false => name.to_string(),
        }
    }

    /// The segment as a module whose results are its outputs.
    fn into_module(mut self, source: &Module) -> Result<Module, RuntimeError> {
        let root = match self.outputs[..] {
            [one] => one,
            _ => self
                .builder
                .add(Op::Tuple, self.outputs.clone())
                .map_err(RuntimeError::internal)?,
        };
        let entry = self.builder.finish(root).map_err(RuntimeError::internal)?;
        let mut computations = self.copier.computations;
        computations.push(entry);
        Ok(Module {
            name: source.name.clone(),
            entry: ComputationId::new(computations.len() - 1),
            computations,
        })
    }
}

/// For each instruction, the parameter leaf it updates in place, where it is
/// a `dynamic-update-slice` of a parameter leaf that nothing else reads, and
/// whose result only the computation's results read (a scan's stacked
/// outputs, in its body).
fn updated_in_place(
    comp: &Computation,
    live: &[bool],
    first_leaf: &[usize],
    param_leaves: usize,
) -> Vec<Option<usize>> {
    let n = comp.instructions.len();
    // The parameter leaf each array of each value is, where it is one.
    let mut leaf_of: Vec<Vec<Option<usize>>> = vec![Vec::new(); n];
    let mut reads: Vec<usize> = vec![0; param_leaves];
    let mut users: Vec<Vec<InstrId>> = vec![Vec::new(); n];
    for id in comp.ids().filter(|id| live[id.index()]) {
        let instr = comp.instr(id);
        leaf_of[id.index()] = match &instr.op {
            Op::Parameter(p) => (0..instr.shape.arrays().len())
                .map(|k| Some(first_leaf[*p] + k))
                .collect(),
            Op::Tuple => instr
                .operands
                .iter()
                .flat_map(|o| leaf_of[o.index()].clone())
                .collect(),
            Op::GetTupleElement { index } => vec![leaf_of[instr.operands[0].index()][*index]],
            _ => {
                for o in &instr.operands {
                    for p in leaf_of[o.index()].iter().flatten() {
                        reads[*p] += 1;
                    }
                }
                vec![None; instr.shape.arrays().len()]
            }
        };
        for &o in &instr.operands {
            users[o.index()].push(id);
        }
    }
    // A parameter leaf passed through to the results is read there.
    for p in leaf_of[comp.root.index()].iter().flatten() {
        reads[*p] += 1;
    }
    let root = comp.root_instr();
    comp.ids()
        .map(|id| {
            let instr = comp.instr(id);
            let only_results = id == comp.root
                || matches!(root.op, Op::Tuple)
                    && users[id.index()].iter().all(|&u| u == comp.root);
            match (&instr.op, live[id.index()] && only_results) {
                (Op::DynamicUpdateSlice, true) => match leaf_of[instr.operands[0].index()][..] {
                    [Some(p)] if reads[p] == 1 => Some(p),
                    _ => None,
                },
                _ => None,
            }
        })
        .collect()
}

/// Output `id` of `segment` as a step input.
fn output(segment: &mut Segment, shapes: &mut FxHashMap<Ref, ArrayShape>, id: InstrId) -> Ref {
    let index = match segment.outputs.iter().position(|&o| o == id) {
        Some(i) => i,
        None => {
            segment.outputs.push(id);
            segment.outputs.len() - 1
        }
    };
    let r = Ref::Output {
        step: segment.step,
        index,
    };
    let shape = segment
        .builder
        .shape(id)
        .as_array()
        .expect("outputs are arrays");
    shapes.insert(r, shape.clone());
    r
}

/// Copies the computations an op calls (a fusion's body, a region) into a
/// new module, with the computations those call.
struct DeepCopier<'m> {
    source: &'m Module,
    copied: FxHashMap<ComputationId, ComputationId>,
    computations: Vec<Computation>,
}

impl<'m> DeepCopier<'m> {
    fn new(source: &'m Module) -> Self {
        DeepCopier {
            source,
            copied: FxHashMap::default(),
            computations: Vec::new(),
        }
    }

    fn op(&mut self, op: &Op) -> Op {
        match op {
            Op::Fusion { kind, computation } => Op::Fusion {
                kind: *kind,
                computation: self.computation(*computation),
            },
            _ => op.map_region(|id| self.computation(id)),
        }
    }

    fn computation(&mut self, id: ComputationId) -> ComputationId {
        if let Some(&c) = self.copied.get(&id) {
            return c;
        }
        let mut comp = self.source.computation(id).clone();
        for instr in &mut comp.instructions {
            instr.op = self.op(&instr.op);
        }
        self.computations.push(comp);
        let c = ComputationId::new(self.computations.len() - 1);
        self.copied.insert(id, c);
        c
    }
}
