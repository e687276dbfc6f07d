//! HLO text to HLO graph: gives the parser's syntax tree its meaning.
//!
//! Expects a [`ModuleAst`] from `omelet_grammar::hlo`. Guarantees a module that
//! passes the verifier, in which every `call` is inlined, every `reduce` region is
//! replaced by its [`ReduceOp`], and only `fusion` callees remain as computations.
//! XLA's `copy` becomes a reshape to the same dimensions (the identity on values,
//! in the copy's layout), a `dot` into a wider type converts its operands first,
//! and the entry takes and gives the layouts of `entry_computation_layout`.
//! Anything outside HLO.md's op set is an error that names the op and its place
//! (`unsupported.rs`); what XLA prints without meaning (metadata, backend
//! configs, shardings, scheduling) is not read.

mod attributes;
mod entry_layout;
mod regions;
mod unsupported;
mod values;

use rustc_hash::FxHashMap;

use omelet_grammar::hlo::{BodyAst, ComputationAst, InstructionAst, ModuleAst, ShapeAst};

use entry_layout::Signature;

use crate::error::{CompileError, ErrorKind, Span};
use crate::hlo::{
    ArrayShape, BinaryOp, ComputationBuilder, ComputationId, Direction, DotDims, ElementType,
    FusionKind, InstrId, Module, Op, Shape, UnaryOp, verify,
};

use attributes::{
    attr_error, attribute, bits_attr, bool_attr, dims_attr, gather_attr, int_attr, name_list_attr,
    padding_attr, slice_attr, word_attr,
};
use values::{literal, shape};

use crate::hlo::region::{self, Gives};

/// The largest array Omelet accepts, in elements: indices must fit in 32 bits on
/// every backend.
pub const MAX_ELEMENTS: u64 = i32::MAX as u64;

/// The highest rank Omelet accepts.
pub const MAX_RANK: usize = 64;

/// How deep `call`s and `fusion`s may nest: the importer recurses once per level.
pub const MAX_CALL_DEPTH: usize = 64;

/// The most instructions a computation may have once its calls are inlined.
pub const MAX_INSTRUCTIONS: usize = 1 << 20;

/// Parses HLO text and imports it.
pub fn parse_module(text: &str) -> Result<Module, CompileError> {
    let ast = omelet_grammar::hlo::parse(text)?;
    import(&ast)
}

pub fn import(ast: &ModuleAst) -> Result<Module, CompileError> {
    let mut by_name = FxHashMap::default();
    for comp in &ast.computations {
        if by_name.insert(comp.name.as_str(), comp).is_some() {
            return Err(err(
                ErrorKind::Syntax,
                comp.name_span,
                format!("computation {} is defined twice", comp.name),
            ));
        }
    }
    let entry = match ast
        .computations
        .iter()
        .filter(|c| c.is_entry)
        .collect::<Vec<_>>()[..]
    {
        [entry] => entry,
        [] => ast.computations.last().ok_or_else(|| {
            err(
                ErrorKind::Syntax,
                ast.name_span,
                "the module has no computations",
            )
        })?,
        [_, second, ..] => {
            return Err(err(
                ErrorKind::Syntax,
                second.name_span,
                "a second ENTRY computation",
            ));
        }
    };
    let mut importer = Importer {
        by_name,
        computations: Vec::new(),
        imported: FxHashMap::default(),
        tupled: FxHashMap::default(),
        inlining: Vec::new(),
        inlined_sizes: FxHashMap::default(),
    };
    // XLA passes the entry's arguments and takes its result in the layouts the
    // header declares, relayouting where the entry's own differ.
    let signature = ast
        .entry_layout
        .as_ref()
        .map(entry_layout::signature)
        .transpose()?;
    let entry_id = importer.import_computation(entry, signature.as_ref())?;
    let module = Module {
        name: ast.name.clone(),
        computations: importer.computations,
        entry: entry_id,
    };
    // The builder checked every shape rule; what is left is the module-level wiring
    // and what each fusion's kind allows, reported where the text names the culprit.
    verify(&module).map_err(|e| {
        let comp = ast.computations.iter().find(|c| c.name == e.computation);
        let instr = comp.and_then(|c| c.instructions.iter().find(|i| i.name == e.instruction));
        match (comp, instr) {
            (_, Some(instr)) => CompileError::at(ErrorKind::Shape, instr.name_span, e.to_string()),
            (Some(comp), None) => CompileError::at(ErrorKind::Shape, comp.name_span, e.to_string()),
            _ => CompileError::new(ErrorKind::Shape, e.to_string()),
        }
    })?;
    if let Some(layout) = &ast.entry_layout {
        entry_layout::check(layout, &module)?;
    }
    Ok(module)
}

struct Importer<'a> {
    by_name: FxHashMap<&'a str, &'a ComputationAst>,
    computations: Vec<crate::hlo::Computation>,
    /// Computations already imported as computations of the module (fusion,
    /// loop and branch callees, regions), by name.
    imported: FxHashMap<&'a str, ComputationId>,
    /// Regions of array-valued `reduce`s made variadic ([`Importer::general_reduce`]),
    /// by the name of the scalar region.
    tupled: FxHashMap<&'a str, ComputationId>,
    /// Computations being inlined, innermost last: a call back into one is recursion.
    inlining: Vec<&'a str>,
    /// [`Importer::inlined_size`]'s results, by computation name.
    inlined_sizes: FxHashMap<&'a str, u64>,
}

impl<'a> Importer<'a> {
    /// Imports a computation as a computation of the module (the entry, or a fusion's callee).
    /// With a `signature`, the parameters and result take its layouts.
    fn import_computation(
        &mut self,
        comp: &'a ComputationAst,
        signature: Option<&Signature>,
    ) -> Result<ComputationId, CompileError> {
        let computation = self.build_computation(comp, signature)?;
        self.computations.push(computation);
        Ok(ComputationId::new(self.computations.len() - 1))
    }

    /// `comp` as a computation, not yet in the module.
    fn build_computation(
        &mut self,
        comp: &'a ComputationAst,
        signature: Option<&Signature>,
    ) -> Result<crate::hlo::Computation, CompileError> {
        if self.inlined_size(comp, 0) > MAX_INSTRUCTIONS as u64 {
            return Err(err(
                ErrorKind::Unsupported,
                comp.name_span,
                format!(
                    "computation {} has more than {MAX_INSTRUCTIONS} instructions once its calls are inlined, which is not supported",
                    comp.name
                ),
            ));
        }
        let mut builder = ComputationBuilder::new(comp.name.clone());
        let mut root = self.lower(comp, &mut builder, None, signature)?;
        if let Some(signature) = signature {
            root = entry_layout::relayout_result(&mut builder, root, &signature.result)
                .map_err(|e| err(ErrorKind::Shape, comp.name_span, e))?;
        }
        builder
            .finish(root)
            .map_err(|e| err(ErrorKind::Shape, comp.name_span, e))
    }

    /// How many instructions `comp` has once its calls are inlined, saturating.
    /// Every call inlines a copy of its callee, so calls of calls grow
    /// exponentially: a few kilobytes of text can ask for billions, and this
    /// measures before anything is built. Recursion and runaway depth count as
    /// nothing here; `lower` reports them.
    fn inlined_size(&mut self, comp: &'a ComputationAst, depth: usize) -> u64 {
        if let Some(&size) = self.inlined_sizes.get(comp.name.as_str()) {
            return size;
        }
        if depth > MAX_CALL_DEPTH {
            return 0;
        }
        self.inlined_sizes.insert(&comp.name, 0);
        let mut size: u64 = 0;
        for instr in &comp.instructions {
            let callee = match instr.opcode.as_str() {
                "call" => self.callee(instr, "to_apply").ok(),
                _ => None,
            };
            size = size.saturating_add(callee.map_or(1, |c| self.inlined_size(c, depth + 1)));
        }
        self.inlined_sizes.insert(&comp.name, size);
        size
    }

    /// Appends `comp`'s instructions to `builder` and returns its root. With
    /// `arguments`, the computation is inlined: its parameters stand for them.
    /// With a `signature`, its parameters take the signature's layouts.
    fn lower(
        &mut self,
        comp: &'a ComputationAst,
        builder: &mut ComputationBuilder,
        arguments: Option<&[InstrId]>,
        signature: Option<&Signature>,
    ) -> Result<InstrId, CompileError> {
        if self.inlining.contains(&comp.name.as_str()) {
            return Err(err(
                ErrorKind::Recursion,
                comp.name_span,
                format!("computation {} calls itself", comp.name),
            ));
        }
        // Each level takes a few recursive calls here and in the interpreter; real
        // programs nest a handful of calls (jit in jit) and fusions.
        if self.inlining.len() >= MAX_CALL_DEPTH {
            return Err(err(
                ErrorKind::Unsupported,
                comp.name_span,
                format!(
                    "calls and fusions nested more than {MAX_CALL_DEPTH} deep are not supported"
                ),
            ));
        }
        if let Some(second) = comp.instructions.iter().filter(|i| i.is_root).nth(1) {
            return Err(err(
                ErrorKind::Syntax,
                second.name_span,
                format!("a second ROOT in computation {}", comp.name),
            ));
        }
        // N parameters are numbered 0 to N-1: a larger number is an error, not a
        // table of that many entries for the builder to allocate.
        let parameters = comp
            .instructions
            .iter()
            .filter(|i| matches!(i.body, BodyAst::ParameterNumber(_)))
            .count();
        self.inlining.push(&comp.name);
        let mut ids: FxHashMap<&str, InstrId> = FxHashMap::default();
        let mut root = None;
        for instr in topological_order(comp)? {
            if let BodyAst::ParameterNumber(n) = instr.body
                && n >= parameters as u64
            {
                return Err(err(
                    ErrorKind::Syntax,
                    instr.opcode_span,
                    format!(
                        "parameter({n}) is out of range: computation {} has {parameters} parameter{}, numbered from 0",
                        comp.name,
                        if parameters == 1 { "" } else { "s" },
                    ),
                ));
            }
            let id = self.lower_instruction(instr, builder, arguments, signature, &ids)?;
            ids.insert(instr.name.as_str(), id);
            if instr.is_root {
                root = Some(id);
            }
        }
        self.inlining.pop();
        // Without a ROOT marker, XLA takes the last instruction.
        root.or_else(|| comp.instructions.last().map(|i| ids[i.name.as_str()]))
            .ok_or_else(|| {
                err(
                    ErrorKind::Syntax,
                    comp.name_span,
                    format!("computation {} is empty", comp.name),
                )
            })
    }

    fn lower_instruction(
        &mut self,
        instr: &'a InstructionAst,
        builder: &mut ComputationBuilder,
        arguments: Option<&[InstrId]>,
        signature: Option<&Signature>,
        ids: &FxHashMap<&str, InstrId>,
    ) -> Result<InstrId, CompileError> {
        if let Some(message) = unsupported::refusal(instr) {
            return Err(err(ErrorKind::Unsupported, instr.opcode_span, message));
        }
        let shape = shape(&instr.shape)?;
        let operands: Vec<InstrId> = match &instr.body {
            BodyAst::Operands(operands) => operands.iter().map(|o| ids[o.name.as_str()]).collect(),
            _ => Vec::new(),
        };
        let at_instr = |e: String| {
            err(
                ErrorKind::Shape,
                instr.opcode_span,
                format!("{}: {e}", instr.name),
            )
        };
        if let (BodyAst::ParameterNumber(n), Some(arguments)) = (&instr.body, arguments) {
            let arg = arguments.get(*n as usize).copied().ok_or_else(|| {
                err(
                    ErrorKind::Shape,
                    instr.opcode_span,
                    format!("parameter({n}) has no argument"),
                )
            })?;
            return expect_shape(builder.shape(arg), &shape)
                .map(|()| arg)
                .map_err(at_instr);
        }
        if instr.opcode == "call" {
            let callee = self.callee(instr, "to_apply")?;
            let root = self.lower(callee, builder, Some(&operands), None)?;
            return expect_shape(builder.shape(root), &shape)
                .map(|()| root)
                .map_err(at_instr);
        }
        // Inlined instructions keep their names unless the caller already uses them.
        let name = if builder.has_name(&instr.name) {
            builder.fresh_name(&instr.name)
        } else {
            instr.name.clone()
        };
        if let Some(region) = self.general_reduce_region(instr)? {
            return self.general_reduce(instr, builder, name, region, operands, shape);
        }
        let op = self.op(instr, &shape)?;
        if let (Op::Parameter(n), Some(signature)) = (&op, signature) {
            return entry_layout::relayout_parameter(builder, name, *n, shape, signature)
                .map_err(at_instr);
        }
        let operands = match op {
            Op::DynamicSlice { .. } | Op::DynamicUpdateSlice => {
                vector_start_refused(instr, builder, &op, &operands)?;
                operands
            }
            Op::Dot(_) => mixed_dot_operands(builder, operands, &shape).map_err(|e| {
                err(
                    ErrorKind::Unsupported,
                    instr.opcode_span,
                    format!("{}: {e}", instr.name),
                )
            })?,
            _ => operands,
        };
        let op = retyping_bitcast(builder, op, &operands, &shape);
        builder.push(name, op, operands, shape).map_err(at_instr)
    }

    fn op(&mut self, instr: &'a InstructionAst, shape: &Shape) -> Result<Op, CompileError> {
        let opcode = instr.opcode.as_str();
        if let Some(u) = UnaryOp::from_opcode(opcode) {
            return Ok(Op::Unary(u));
        }
        if let Some(b) = BinaryOp::from_opcode(opcode) {
            return Ok(Op::Binary(b));
        }
        Ok(match opcode {
            // `parameter(x)` and `constant(x)` parse as generic ops with operands.
            "parameter" => match instr.body {
                BodyAst::ParameterNumber(n) => Op::Parameter(n as usize),
                _ => {
                    return Err(err(
                        ErrorKind::Syntax,
                        instr.opcode_span,
                        "parameter takes a number: parameter(0)",
                    ));
                }
            },
            "constant" => match &instr.body {
                BodyAst::Literal(lit) => Op::Constant(literal(lit, shape)?),
                BodyAst::TupleLiteral(_, span) => {
                    return Err(err(
                        ErrorKind::Unsupported,
                        *span,
                        format!(
                            "a constant of tuple shape {shape} is not supported (constants are arrays)"
                        ),
                    ));
                }
                _ => {
                    return Err(err(
                        ErrorKind::Syntax,
                        instr.opcode_span,
                        "constant takes a literal: constant(0), constant({1, 2})",
                    ));
                }
            },
            "iota" => Op::Iota {
                dimension: int_attr(instr, "iota_dimension")?,
            },
            "convert" => Op::Convert,
            "bitcast-convert" => Op::BitcastConvert,
            "compare" => {
                let word = word_attr(instr, "direction")?;
                let direction = Direction::ALL
                    .into_iter()
                    .find(|d| d.name() == word.0)
                    .ok_or_else(|| {
                        err(
                            ErrorKind::Syntax,
                            word.1,
                            format!("unknown comparison direction {}", word.0),
                        )
                    })?;
                // `type=` names the order; only TOTALORDER differs from the
                // element type's own (FLOAT, SIGNED, UNSIGNED).
                match attribute(instr, "type")
                    .map(|_| word_attr(instr, "type"))
                    .transpose()?
                {
                    Some((order, _)) if order == "TOTALORDER" => Op::CompareTotalOrder(direction),
                    _ => Op::Compare(direction),
                }
            }
            "select" => Op::Select,
            "clamp" => Op::Clamp,
            "broadcast" => Op::Broadcast {
                dimensions: dims_attr(instr, "dimensions", true)?,
            },
            "reshape" => Op::Reshape,
            // XLA's `copy` is the identity on values that may change the layout:
            // a reshape to the same dimensions is exactly that, and every stage
            // already knows it.
            "copy" if matches!(shape, Shape::Array(_)) => Op::Reshape,
            "copy" => {
                return Err(err(
                    ErrorKind::Unsupported,
                    instr.opcode_span,
                    format!("a copy of tuple shape {shape} is not supported"),
                ));
            }
            "bitcast" => Op::Bitcast,
            "transpose" => Op::Transpose {
                permutation: dims_attr(instr, "dimensions", true)?,
            },
            "slice" => Op::Slice {
                dims: slice_attr(instr)?,
            },
            "concatenate" => match dims_attr(instr, "dimensions", true)?[..] {
                [dimension] => Op::Concatenate { dimension },
                _ => {
                    return Err(attr_error(
                        instr,
                        "dimensions",
                        "concatenate takes one dimension",
                    ));
                }
            },
            "dot" => Op::Dot(DotDims {
                lhs_batch: dims_attr(instr, "lhs_batch_dims", false)?,
                rhs_batch: dims_attr(instr, "rhs_batch_dims", false)?,
                lhs_contracting: dims_attr(instr, "lhs_contracting_dims", false)?,
                rhs_contracting: dims_attr(instr, "rhs_contracting_dims", false)?,
            }),
            "reduce" => {
                let dimensions = dims_attr(instr, "dimensions", true)?;
                let region = self.callee(instr, "to_apply")?;
                match &instr.body {
                    _ if matches!(shape, Shape::Tuple(_)) => Op::ReduceTuple {
                        dimensions,
                        to_apply: self.called(region)?,
                    },
                    _ => Op::Reduce {
                        dimensions,
                        reducer: regions::reducer(instr, "to_apply", region)?,
                    },
                }
            }
            "reduce-window" => {
                if let BodyAst::Operands(ops) = &instr.body
                    && ops.len() != 2
                {
                    return Err(err(
                        ErrorKind::Unsupported,
                        instr.opcode_span,
                        format!(
                            "a variadic reduce-window ({} operands) is not supported",
                            ops.len()
                        ),
                    ));
                }
                Op::ReduceWindow {
                    window: regions::window_attr(instr)?,
                    to_apply: self.called(self.callee(instr, "to_apply")?)?,
                }
            }
            "pad" => Op::Pad {
                config: padding_attr(instr)?,
            },
            "reverse" => Op::Reverse {
                dimensions: dims_attr(instr, "dimensions", true)?,
            },
            "dynamic-slice" => Op::DynamicSlice {
                sizes: dims_attr(instr, "dynamic_slice_sizes", true)?,
            },
            "dynamic-update-slice" => Op::DynamicUpdateSlice,
            "gather" => Op::Gather(gather_attr(instr)?),
            "reduce-precision" => Op::ReducePrecision {
                exponent_bits: bits_attr(instr, "exponent_bits")?,
                mantissa_bits: bits_attr(instr, "mantissa_bits")?,
            },
            "select-and-scatter" => Op::SelectAndScatter {
                window: regions::window_attr(instr)?,
                select: regions::select_direction(instr, self.callee(instr, "select")?)?,
                scatter: regions::reducer(instr, "scatter", self.callee(instr, "scatter")?)?,
            },
            "scatter" => {
                if let BodyAst::Operands(ops) = &instr.body
                    && ops.len() != 3
                {
                    return Err(err(
                        ErrorKind::Unsupported,
                        instr.opcode_span,
                        format!(
                            "a scatter of several operands ({} operands and updates) is not supported",
                            ops.len()
                        ),
                    ));
                }
                Op::Scatter {
                    dims: regions::scatter_dims(instr)?,
                    update: self.called(self.callee(instr, "to_apply")?)?,
                    indices_are_sorted: bool_attr(instr, "indices_are_sorted")?,
                    unique_indices: bool_attr(instr, "unique_indices")?,
                }
            }
            "topk" => Op::TopK {
                k: int_attr(instr, "k")?,
                largest: bool_attr(instr, "largest")?,
            },
            // XLA:CPU's `TopK` (the only custom call `unsupported::refusal`
            // admits): the `k` greatest along the last dimension, as its
            // runtime computes them whatever comparator it names; `k` is the
            // results' last dimension.
            "custom-call" => Op::TopK {
                k: shape
                    .arrays()
                    .first()
                    .and_then(|values| values.dims.last().copied())
                    .unwrap_or(0),
                largest: true,
            },
            "sort" => match dims_attr(instr, "dimensions", true)?[..] {
                [dimension] => Op::Sort {
                    dimension,
                    is_stable: bool_attr(instr, "is_stable")?,
                    comparator: self.called(self.callee(instr, "to_apply")?)?,
                },
                _ => return Err(attr_error(instr, "dimensions", "sort takes one dimension")),
            },
            "tuple" => Op::Tuple,
            "get-tuple-element" => Op::GetTupleElement {
                index: int_attr(instr, "index")?,
            },
            "fusion" => {
                let (kind, span) = word_attr(instr, "kind")?;
                let kind = FusionKind::ALL
                    .into_iter()
                    .find(|k| k.name() == kind)
                    .ok_or_else(|| {
                        err(
                            ErrorKind::Syntax,
                            span,
                            format!("unknown fusion kind {kind}"),
                        )
                    })?;
                let callee = self.callee(instr, "calls")?;
                Op::Fusion {
                    kind,
                    computation: self.called(callee)?,
                }
            }
            "while" => Op::While {
                condition: self.called(self.callee(instr, "condition")?)?,
                body: self.called(self.callee(instr, "body")?)?,
            },
            "conditional" => {
                let callees = match attribute(instr, "branch_computations") {
                    Some(_) => self.callee_list(instr, "branch_computations")?,
                    None => vec![
                        self.callee(instr, "true_computation")?,
                        self.callee(instr, "false_computation")?,
                    ],
                };
                let branches = callees
                    .into_iter()
                    .map(|c| self.called(c))
                    .collect::<Result<_, _>>()?;
                Op::Conditional { branches }
            }
            _ => {
                return Err(err(
                    ErrorKind::Unsupported,
                    instr.opcode_span,
                    format!("unsupported op `{opcode}`"),
                ));
            }
        })
    }

    /// `comp` as a computation of the module (a fusion's body, a loop's
    /// condition or body, a branch, a region), imported once however many
    /// instructions call it.
    fn called(&mut self, comp: &'a ComputationAst) -> Result<ComputationId, CompileError> {
        if let Some(&id) = self.imported.get(comp.name.as_str()) {
            return Ok(id);
        }
        let id = self.import_computation(comp, None)?;
        self.imported.insert(&comp.name, id);
        Ok(id)
    }

    /// The region of an array-valued `reduce` that is not one [`ReduceOp`]
    /// combining its parameters (XLA's optimized modules sum `bf16` by
    /// converting to `f32` and back): `None` for any other instruction.
    fn general_reduce_region(
        &self,
        instr: &'a InstructionAst,
    ) -> Result<Option<&'a ComputationAst>, CompileError> {
        if instr.opcode != "reduce" || !matches!(instr.shape, ShapeAst::Array { .. }) {
            return Ok(None);
        }
        let region = self.callee(instr, "to_apply")?;
        Ok(regions::reducer(instr, "to_apply", region)
            .is_err()
            .then_some(region))
    }

    /// A `reduce` by a general region: the variadic reduce of one operand (its
    /// region's result made a 1-tuple, as XLA's variadic reduce wants) and
    /// that tuple's element, named as the instruction.
    fn general_reduce(
        &mut self,
        instr: &'a InstructionAst,
        builder: &mut ComputationBuilder,
        name: String,
        region: &'a ComputationAst,
        operands: Vec<InstrId>,
        shape: Shape,
    ) -> Result<InstrId, CompileError> {
        let at_instr = |e: String| {
            err(
                ErrorKind::Shape,
                instr.opcode_span,
                format!("{}: {e}", instr.name),
            )
        };
        let to_apply = match self.tupled.get(region.name.as_str()) {
            Some(&id) => id,
            None => {
                let mut tupled = self.build_computation(region, None)?;
                let element = shape.arrays()[0].element;
                let at_region = |e: String| {
                    let span = attribute(instr, "to_apply").map_or(instr.opcode_span, |a| a.span);
                    err(ErrorKind::Shape, span, format!("{}: {e}", instr.name))
                };
                region::check(&tupled, &[element, element], &Gives::Scalar(element))
                    .map_err(at_region)?;
                tupled.name = format!("{}.tuple", tupled.name);
                let root = tupled.root_instr();
                let scalar = root.array_shape().clone();
                let element = crate::hlo::Instruction {
                    name: format!("{}.tuple", root.name),
                    op: Op::Tuple,
                    operands: vec![tupled.root],
                    shape: Shape::Tuple(vec![scalar]),
                };
                tupled.instructions.push(element);
                tupled.root = InstrId::new(tupled.instructions.len() - 1);
                self.computations.push(tupled);
                let id = ComputationId::new(self.computations.len() - 1);
                self.tupled.insert(&region.name, id);
                id
            }
        };
        let op = Op::ReduceTuple {
            dimensions: dims_attr(instr, "dimensions", true)?,
            to_apply,
        };
        let tuple_shape = Shape::Tuple(shape.arrays().to_vec());
        let tuple_name = builder.fresh_name(&format!("{name}.tuple"));
        let reduce = builder
            .push(tuple_name, op, operands, tuple_shape)
            .map_err(at_instr)?;
        builder
            .push(name, Op::GetTupleElement { index: 0 }, vec![reduce], shape)
            .map_err(at_instr)
    }

    /// The computations a `{%a, %b}` attribute names, in order.
    fn callee_list(
        &self,
        instr: &InstructionAst,
        attr: &str,
    ) -> Result<Vec<&'a ComputationAst>, CompileError> {
        let (names, span) = name_list_attr(instr, attr)?;
        names
            .iter()
            .map(|name| {
                self.by_name.get(name.as_str()).copied().ok_or_else(|| {
                    err(
                        ErrorKind::UnknownName,
                        span,
                        format!("no computation named {name}"),
                    )
                })
            })
            .collect()
    }

    /// The computation an attribute names.
    fn callee(
        &self,
        instr: &InstructionAst,
        attr: &str,
    ) -> Result<&'a ComputationAst, CompileError> {
        let (name, span) = word_attr(instr, attr)?;
        self.by_name.get(name.as_str()).copied().ok_or_else(|| {
            err(
                ErrorKind::UnknownName,
                span,
                format!("no computation named {name}"),
            )
        })
    }
}

/// XLA's optimized modules write a `bitcast` that changes a scalar's element
/// type to one of the same width (a sort comparator's total order, as
/// integers): of a scalar, that is a `bitcast-convert`.
fn retyping_bitcast(
    builder: &ComputationBuilder,
    op: Op,
    operands: &[InstrId],
    shape: &Shape,
) -> Op {
    let (Op::Bitcast, [operand], Some(out)) = (&op, operands, shape.as_array()) else {
        return op;
    };
    let from = builder.shape(*operand).as_array();
    let retypes_scalar = from.is_some_and(|a| {
        a.rank() == 0
            && out.rank() == 0
            && a.element != out.element
            && a.element.bit_width() == out.element.bit_width()
    });
    if retypes_scalar {
        Op::BitcastConvert
    } else {
        op
    }
}

/// XLA's older `dynamic-slice(operand, starts)` form, with the starts in one
/// vector, is refused by name (JAX emits one scalar per dimension).
fn vector_start_refused(
    instr: &InstructionAst,
    builder: &ComputationBuilder,
    op: &Op,
    operands: &[InstrId],
) -> Result<(), CompileError> {
    let first_start = if matches!(op, Op::DynamicSlice { .. }) {
        1
    } else {
        2
    };
    let vector = operands
        .get(first_start..)
        .unwrap_or_default()
        .iter()
        .any(|&s| builder.shape(s).as_array().is_some_and(|a| a.rank() == 1));
    if vector && operands.len() == first_start + 1 {
        return Err(err(
            ErrorKind::Unsupported,
            instr.opcode_span,
            format!(
                "{}: {} with its start indices in one vector (XLA's older form) is not supported: give one scalar per dimension",
                instr.name, instr.opcode
            ),
        ));
    }
    Ok(())
}

/// The computation's instructions with operands before users; reports undefined
/// operands and cycles.
fn topological_order(comp: &ComputationAst) -> Result<Vec<&InstructionAst>, CompileError> {
    let mut index = FxHashMap::default();
    for (i, instr) in comp.instructions.iter().enumerate() {
        if index.insert(instr.name.as_str(), i).is_some() {
            return Err(err(
                ErrorKind::Syntax,
                instr.name_span,
                format!("{} is defined twice", instr.name),
            ));
        }
    }
    // 0: unvisited, 1: on the stack, 2: done. Iterative, so deep graphs cannot
    // overflow the stack.
    let mut state = vec![0u8; comp.instructions.len()];
    let mut order = Vec::with_capacity(comp.instructions.len());
    for start in 0..comp.instructions.len() {
        let mut stack = vec![(start, 0usize)];
        while let Some(&mut (i, ref mut next)) = stack.last_mut() {
            if *next == 0 && state[i] != 0 {
                stack.pop();
                continue;
            }
            state[i] = 1;
            let instr = &comp.instructions[i];
            let operands = match &instr.body {
                BodyAst::Operands(ops) => &ops[..],
                _ => &[],
            };
            if let Some(operand) = operands.get(*next) {
                *next += 1;
                let &j = index.get(operand.name.as_str()).ok_or_else(|| {
                    err(
                        ErrorKind::UnknownName,
                        operand.span,
                        format!("no instruction named {}", operand.name),
                    )
                })?;
                match state[j] {
                    0 => stack.push((j, 0)),
                    1 => {
                        return Err(err(
                            ErrorKind::Syntax,
                            operand.span,
                            format!("{} depends on itself", operand.name),
                        ));
                    }
                    _ => {}
                }
            } else {
                state[i] = 2;
                order.push(instr);
                stack.pop();
            }
        }
    }
    Ok(order)
}

/// XLA's `dot` may yield another element type than its operands' (JAX's
/// `preferred_element_type`: bf16 products summed in f32, s8 in s32): XLA's
/// operand upcaster converts the operands and multiplies in the result's type.
/// Omelet's `dot` keeps one type, so the importer writes those conversions out
/// where they are exact; a dot that would narrow is refused.
fn mixed_dot_operands(
    builder: &mut ComputationBuilder,
    operands: Vec<InstrId>,
    shape: &Shape,
) -> Result<Vec<InstrId>, String> {
    let (Shape::Array(result), [lhs, rhs]) = (shape, &operands[..]) else {
        return Ok(operands);
    };
    let element = |id: InstrId| builder.shape(id).as_array().map(|a| a.element);
    let (Some(l), Some(r)) = (element(*lhs), element(*rhs)) else {
        return Ok(operands);
    };
    if l == result.element && r == result.element {
        return Ok(operands);
    }
    if !(exact_conversion(l, result.element) && exact_conversion(r, result.element)) {
        return Err(format!(
            "a dot of {l} and {r} into {} is not supported (only exact widenings of the operands are)",
            result.element
        ));
    }
    [*lhs, *rhs]
        .into_iter()
        .map(|id| {
            let array = builder
                .shape(id)
                .as_array()
                .expect("an array operand")
                .clone();
            if array.element == result.element {
                return Ok(id);
            }
            let converted = ArrayShape {
                element: result.element,
                ..array
            };
            builder.add_with_shape(Op::Convert, vec![id], Shape::Array(converted))
        })
        .collect()
}

/// Whether every value of `from` is a value of `to`.
fn exact_conversion(from: ElementType, to: ElementType) -> bool {
    use crate::hlo::Kind::{Float, Pred, Signed, Unsigned};
    // Significand bits, with the implicit one.
    let precision = |t: ElementType| match t {
        ElementType::F16 => 11,
        ElementType::Bf16 => 8,
        ElementType::F32 => 24,
        _ => 53,
    };
    // The largest exponent, as a power of two.
    let range = |t: ElementType| match t {
        ElementType::F16 => 15,
        ElementType::Bf16 | ElementType::F32 => 127,
        _ => 1023,
    };
    let (fw, tw) = (from.bit_width(), to.bit_width());
    match (from.kind(), to.kind()) {
        (Pred, _) => true,
        (_, Pred) => false,
        (Signed, Signed) | (Unsigned, Unsigned) => fw <= tw,
        (Unsigned, Signed) => fw < tw,
        (Signed, Unsigned) => false,
        (Signed | Unsigned, Float) => fw <= precision(to),
        (Float, Float) => precision(from) <= precision(to) && range(from) <= range(to),
        (Float, _) => false,
    }
}

/// The inlined root must have the shape the call declares.
fn expect_shape(actual: &Shape, declared: &Shape) -> Result<(), String> {
    let same = actual.arrays().len() == declared.arrays().len()
        && actual
            .arrays()
            .iter()
            .zip(declared.arrays())
            .all(|(a, d)| a.same_logical(d));
    if same {
        Ok(())
    } else {
        Err(format!(
            "declared shape {declared} differs from the value's shape {actual}"
        ))
    }
}

pub(super) fn err(kind: ErrorKind, span: Span, message: impl Into<String>) -> CompileError {
    CompileError::at(kind, span, message)
}
