//! The elemental WGSL emitter: each body value's element at an index, as a WGSL
//! `let`, views turned into index arithmetic, memoized per (value, index) within
//! the scope (loop body, branch) that computed it.

use std::collections::BTreeSet;
use std::fmt::Write;

use omelet_compiler::hlo::{
    ArrayShape, Computation, ComputationId, ElementType, InstrId, Literal, Op,
};
use rustc_hash::FxHashMap;

use super::helpers::Helper;
use super::ops;
use super::types::{self, Class, class};
pub(super) use super::types::{reg_type, storage_type};
use crate::elemental::{self, DotMap, IndexArith, Side, Source};
use crate::kernel::{Regions, strides};
use crate::math::MathFn;

/// A value held a row at a time in workgroup memory: its array's name and the
/// dimensions after the row's.
pub(super) struct RowArray {
    pub name: String,
    pub inner: Vec<usize>,
}

pub(super) struct Emitter<'k> {
    pub body: &'k Computation,
    /// The regions of the body's region ops.
    regions: &'k Regions,
    /// The statements of `main`, indented.
    code: String,
    depth: usize,
    next: usize,
    /// Memoized elements, one map per open scope, innermost last.
    memo: Vec<FxHashMap<(InstrId, Vec<String>), String>>,
    /// Values given at every index (a GEMM epilogue's product).
    pub given: FxHashMap<InstrId, String>,
    /// Values materialized per row in workgroup memory, and the row's rank.
    pub rows: FxHashMap<InstrId, RowArray>,
    pub outer: usize,
    /// Module-scope declarations: array constants, workgroup arrays.
    pub globals: String,
    /// Array constants declared in `globals`.
    constants: BTreeSet<InstrId>,
    /// The transcendentals called, in first-use order.
    pub math: Vec<MathFn>,
    pub helpers: BTreeSet<Helper>,
    /// Arguments bound as `array<vec4<T>>`, four elements a word (see `lanes`).
    pub vector_args: BTreeSet<usize>,
    /// Vector arguments that some element was read from on its own.
    pub scalar_reads: BTreeSet<usize>,
    /// Whether `main` uses the subgroup builtins (`sg_id`, `sg_count`).
    pub subgroups: bool,
}

/// A `u32` literal.
pub(super) fn u(n: usize) -> String {
    format!("{n}u")
}

impl<'k> Emitter<'k> {
    pub fn new(body: &'k Computation, regions: &'k Regions) -> Emitter<'k> {
        Emitter {
            body,
            regions,
            code: String::new(),
            depth: 1,
            next: 0,
            memo: vec![FxHashMap::default()],
            given: FxHashMap::default(),
            rows: FxHashMap::default(),
            outer: 0,
            globals: String::new(),
            constants: BTreeSet::new(),
            math: Vec::new(),
            helpers: BTreeSet::new(),
            vector_args: BTreeSet::new(),
            scalar_reads: BTreeSet::new(),
            subgroups: false,
        }
    }

    /// Notes that the shader calls `f`.
    pub fn use_math(&mut self, f: MathFn) {
        if !self.math.contains(&f) {
            self.math.push(f);
        }
    }

    pub fn shape(&self, id: InstrId) -> &'k ArrayShape {
        self.body.instr(id).array_shape()
    }

    /// Appends one statement.
    pub fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.code.push_str("    ");
        }
        self.code.push_str(s);
        self.code.push('\n');
    }

    /// Opens a block (`for`, `if`) whose values stay inside it.
    pub fn open(&mut self, header: &str) {
        self.line(&format!("{header} {{"));
        self.depth += 1;
        self.memo.push(FxHashMap::default());
    }

    /// Ends an `if` block and opens its `else`.
    pub fn otherwise(&mut self) {
        self.memo.pop();
        self.depth -= 1;
        self.line("} else {");
        self.depth += 1;
        self.memo.push(FxHashMap::default());
    }

    pub fn close(&mut self) {
        self.memo.pop();
        self.depth -= 1;
        self.line("}");
    }

    /// A fresh name with the given prefix.
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    /// Binds `expr` to a new `let` of type `ty` and returns its name.
    pub fn bind(&mut self, ty: &str, expr: &str) -> String {
        let name = self.fresh("v");
        self.line(&format!("let {name}: {ty} = {expr};"));
        name
    }

    /// A loop `for (var name = begin; name < end; name += step)`, opened.
    pub fn open_loop(&mut self, name: &str, begin: &str, end: usize, step: &str) {
        self.open(&format!(
            "for (var {name}: u32 = {begin}; {name} < {}; {name} += {step})",
            u(end)
        ));
    }

    /// The body text and the module-scope declarations it needs, with the math
    /// and helper functions it calls.
    pub fn finish(self) -> (String, String) {
        let mut prelude = String::new();
        if !self.math.is_empty() {
            prelude.push_str(&crate::math::wgsl_prelude(&self.math));
        }
        let mut helpers = self.helpers.clone();
        helpers.extend(self.helpers.iter().flat_map(|h| h.needs()));
        for h in helpers {
            prelude.push_str(h.source());
        }
        prelude.push_str(&self.globals);
        (prelude, self.code)
    }

    /// `coords` (in `order`, major first) as a position, `dims` being the sizes.
    pub fn linearize(&mut self, coords: &[String], dims: &[usize], order: &[usize]) -> String {
        elemental::linearize(self, coords, dims, order)
    }

    /// The coordinates of position `linear` over `dims` laid out in `order`.
    pub fn delinearize(&mut self, linear: &str, dims: &[usize], order: &[usize]) -> Vec<String> {
        elemental::delinearize(self, &linear.to_string(), dims, order)
    }

    /// The element offset of `coords` in an array with these strides.
    pub fn offset(&mut self, coords: &[String], dims: &[usize], strides: &[usize]) -> String {
        let terms: Vec<String> = (0..dims.len())
            .filter(|&d| dims[d] != 1)
            .map(|d| match strides[d] {
                1 => coords[d].clone(),
                s => format!("{} * {}", coords[d], u(s)),
            })
            .collect();
        if terms.is_empty() {
            return u(0);
        }
        if terms.len() == 1 && !terms[0].contains(' ') {
            return terms[0].clone();
        }
        self.bind("u32", &terms.join(" + "))
    }

    /// Reads argument `arg` (of `element`s) at `offset`.
    pub fn load(&mut self, arg: usize, element: ElementType, offset: &str) -> String {
        let word = if self.vector_args.contains(&arg) {
            self.scalar_reads.insert(arg);
            format!("a{arg}[{offset} / 4u][{offset} % 4u]")
        } else {
            format!("a{arg}[{offset}]")
        };
        let expr = match element {
            ElementType::Pred => format!("{word} != 0u"),
            _ => word,
        };
        self.bind(reg_type(element), &expr)
    }

    /// Writes `value` to argument `arg` at `offset`.
    pub fn store(&mut self, arg: usize, element: ElementType, offset: &str, value: &str) {
        let value = match element {
            ElementType::Pred => format!("select(0u, 1u, {value})"),
            _ => value.to_string(),
        };
        self.line(&format!("a{arg}[{offset}] = {value};"));
    }

    /// Writes `value`, the element of an output of `shape` at `coords`.
    pub fn store_at(&mut self, arg: usize, shape: &ArrayShape, coords: &[String], value: &str) {
        let offset = self.offset(coords, &shape.dims, &strides(shape));
        self.store(arg, shape.element, &offset, value);
    }

    /// Whether `coords` has an element memoized for `id`.
    pub fn memoized(&self, id: InstrId, coords: &[String]) -> Option<String> {
        let key = (id, coords.to_vec());
        self.memo.iter().rev().find_map(|m| m.get(&key)).cloned()
    }

    /// The element of `id` at `coords`.
    pub fn element_at(&mut self, id: InstrId, coords: &[String]) -> String {
        if let Some(v) = self.given.get(&id) {
            return v.clone();
        }
        if let Some(v) = self.memoized(id, coords) {
            return v;
        }
        let v = self.element_uncached(id, coords);
        self.remember(id, coords, v.clone());
        v
    }

    /// Records `value` as `id`'s element at `coords` in the current scope.
    pub fn remember(&mut self, id: InstrId, coords: &[String], value: String) {
        if let Some(scope) = self.memo.last_mut() {
            scope.insert((id, coords.to_vec()), value);
        }
    }

    fn element_uncached(&mut self, id: InstrId, coords: &[String]) -> String {
        if let Some(row) = self.rows.get(&id) {
            let (name, inner) = (row.name.clone(), row.inner.clone());
            let order: Vec<usize> = (0..inner.len()).collect();
            let at = self.linearize(&coords[self.outer..], &inner, &order);
            return self.bind("f32", &format!("{name}[{at}]"));
        }
        let body = self.body;
        let instr = body.instr(id);
        let shape = instr.array_shape();
        let element = shape.element;
        let operand = |i: usize| instr.operands[i];
        match &instr.op {
            Op::Parameter(k) => {
                let offset = self.offset(coords, &shape.dims, &strides(shape));
                self.load(*k, element, &offset)
            }
            Op::Constant(literal) => self.constant(id, literal, coords),
            Op::Iota { dimension } => ops::from_index(self, element, &coords[*dimension]),
            Op::Unary(_)
            | Op::CompareTotalOrder(_)
            | Op::Convert
            | Op::BitcastConvert
            | Op::Binary(_)
            | Op::Compare(_)
            | Op::Select
            | Op::Clamp
            | Op::ReducePrecision { .. } => {
                let operands: Vec<String> = instr
                    .operands
                    .iter()
                    .map(|&o| self.scalar_or_element(o, coords))
                    .collect();
                self.elementwise(id, &operands)
            }
            Op::Broadcast { .. }
            | Op::Transpose { .. }
            | Op::Reshape
            | Op::Bitcast
            | Op::Slice { .. }
            | Op::Reverse { .. }
            | Op::Pad { .. }
            | Op::DynamicSlice { .. }
            | Op::DynamicUpdateSlice
            | Op::Gather(_) => match elemental::source(self, body, id, coords) {
                Some(Source::Read(k, inner)) => self.element_at(operand(k), &inner),
                Some(Source::Choose {
                    cond,
                    then,
                    otherwise,
                }) => {
                    let result = self.fresh("c");
                    self.line(&format!("var {result}: {};", reg_type(element)));
                    // Only the chosen element is read.
                    self.open(&format!("if ({cond})"));
                    let v = self.element_at(operand(then.0), &then.1);
                    self.line(&format!("{result} = {v};"));
                    self.otherwise();
                    let v = self.element_at(operand(otherwise.0), &otherwise.1);
                    self.line(&format!("{result} = {v};"));
                    self.close();
                    result
                }
                None => unreachable!("a view or an index op"),
            },
            Op::Concatenate { dimension } => self.concatenate(id, *dimension, coords),
            Op::Dot(_) => self.dot(id, coords),
            Op::Reduce { .. } => self.reduce(id, coords),
            Op::ReduceWindow { .. } => self.reduce_window(id, coords),
            Op::SelectAndScatter { .. } => self.select_and_scatter(id, coords),
            Op::GetTupleElement { index } => self.tuple_element(operand(0), *index, coords),
            Op::ReduceTuple { .. } => unreachable!("read through its get-tuple-elements"),
            Op::Tuple | Op::Fusion { .. } | Op::While { .. } | Op::Conditional { .. } => {
                unreachable!("fused bodies compute arrays only")
            }
            Op::Scatter { .. } | Op::Sort { .. } | Op::TopK { .. } => {
                unreachable!("Kernel::new refuses the ops the emitters do not lower")
            }
        }
    }

    /// Elementwise op `id` on its operands' elements, bound to a new value.
    pub fn elementwise(&mut self, id: InstrId, operands: &[String]) -> String {
        let instr = self.body.instr(id);
        let element = instr.array_shape().element;
        let from = self.shape(instr.operands[0]).element;
        self.scalar_op(&instr.op, element, from, operands)
    }

    /// An elementwise op (or a region's `compare` in total order) of type
    /// `element` on its operands' elements, the first of type `from`, bound to
    /// a new value.
    pub fn scalar_op(
        &mut self,
        op: &Op,
        element: ElementType,
        from: ElementType,
        operands: &[String],
    ) -> String {
        let expr = match (op, operands) {
            (Op::Unary(op), [x]) => ops::unary(self, *op, element, x),
            (Op::Convert, [x]) => ops::convert(self, from, element, x),
            (Op::BitcastConvert, [x]) => ops::bitcast_convert(self, from, element, x),
            (Op::Binary(op), [x, y]) => ops::binary(self, *op, element, x, y),
            (Op::Compare(direction), [x, y]) => ops::compare(*direction, from, x, y),
            (Op::CompareTotalOrder(direction), [x, y]) => {
                ops::compare_total_order(*direction, from, x, y)
            }
            (Op::Select, [p, x, y]) => format!("select({y}, {x}, {p})"),
            (Op::Clamp, [lo, x, hi]) => ops::clamp(self, element, lo, x, hi),
            (
                Op::ReducePrecision {
                    exponent_bits,
                    mantissa_bits,
                },
                [x],
            ) => ops::reduce_precision(self, element, *exponent_bits, *mantissa_bits, x),
            _ => unreachable!("{} is not a scalar op with its operands", op.opcode()),
        };
        self.bind(reg_type(element), &expr)
    }

    /// Region `id`'s results on `args`, one value per parameter; one value
    /// per result (`hlo::region::apply`, op by op).
    pub fn region(&mut self, id: ComputationId, args: &[String]) -> Vec<String> {
        let comp = &self.regions[&id];
        let mut values: Vec<String> = Vec::with_capacity(comp.instructions.len());
        for id in comp.ids() {
            let instr = comp.instr(id);
            let element = |i: InstrId| comp.instr(i).array_shape().element;
            let value = match &instr.op {
                Op::Parameter(n) => args[*n].clone(),
                Op::Constant(literal) => ops::literal(literal, 0),
                // Of scalars: the same value.
                Op::Reshape | Op::Broadcast { .. } => values[instr.operands[0].index()].clone(),
                // Only the root is a tuple: its elements are the results.
                Op::Tuple => {
                    return instr
                        .operands
                        .iter()
                        .map(|o| values[o.index()].clone())
                        .collect();
                }
                op => {
                    let operands: Vec<String> = instr
                        .operands
                        .iter()
                        .map(|o| values[o.index()].clone())
                        .collect();
                    self.scalar_op(op, element(id), element(instr.operands[0]), &operands)
                }
            };
            values.push(value);
        }
        vec![values[comp.root.index()].clone()]
    }

    /// A scalar operand (select's predicate, clamp's bounds may be) or the
    /// operand's element at `coords`.
    pub fn scalar_or_element(&mut self, id: InstrId, coords: &[String]) -> String {
        if self.shape(id).rank() == 0 {
            self.element_at(id, &[])
        } else {
            self.element_at(id, coords)
        }
    }

    /// A constant's element: a literal, or an element of a module-scope array
    /// (floats as their bits: naga cannot evaluate `bitcast` in an initializer).
    fn constant(&mut self, id: InstrId, literal: &Literal, coords: &[String]) -> String {
        if literal.len() == 1 {
            return ops::literal(literal, 0);
        }
        let shape = self.shape(id);
        // A zero-size constant has no element (and WGSL no empty array): the
        // code that would read one (a dot over an empty contraction) never
        // runs, so any value of its type stands in.
        if literal.is_empty() {
            return format!("{}()", reg_type(shape.element));
        }
        let name = format!("k{}", id.index());
        let float = class(shape.element) == Class::Float;
        let (stored, items): (&str, Vec<String>) = match float {
            true => (
                "u32",
                literal
                    .scalars()
                    .map(|x| format!("{:#x}u", types::to_word(x.element, x.bits)))
                    .collect(),
            ),
            false => (
                reg_type(shape.element),
                (0..literal.len())
                    .map(|i| ops::literal(literal, i))
                    .collect(),
            ),
        };
        if self.constants.insert(id) {
            let n = literal.len();
            let _ = writeln!(
                self.globals,
                "var<private> {name}: array<{stored}, {n}> = array<{stored}, {n}>({});",
                items.join(", ")
            );
        }
        let order: Vec<usize> = (0..shape.rank()).collect();
        let at = self.linearize(coords, &shape.dims, &order);
        let ty = reg_type(shape.element);
        if float {
            self.bind(ty, &format!("bitcast<f32>({name}[{at}])"))
        } else {
            self.bind(ty, &format!("{name}[{at}]"))
        }
    }

    /// Concatenate: a branch per operand, each reading only inside its range.
    fn concatenate(&mut self, id: InstrId, dimension: usize, coords: &[String]) -> String {
        let instr = self.body.instr(id);
        let ty = reg_type(instr.array_shape().element);
        let result = self.fresh("c");
        self.line(&format!("var {result}: {ty};"));
        let c = coords[dimension].clone();
        let mut start = 0;
        let count = instr.operands.len();
        // Nested: `if (c < end0) { .. } else { if (c < end1) { .. } else { .. } }`.
        for (k, &o) in instr.operands.iter().enumerate() {
            let len = self.shape(o).dims[dimension];
            let last = k + 1 == count;
            if !last {
                self.open(&format!("if ({c} < {})", u(start + len)));
            }
            let mut inner = coords.to_vec();
            if start > 0 {
                inner[dimension] = self.bind("u32", &format!("{c} - {}", u(start)));
            }
            let v = self.element_at(o, &inner);
            self.line(&format!("{result} = {v};"));
            if !last {
                self.otherwise();
            }
            start += len;
        }
        for _ in 1..count {
            self.close();
        }
        result
    }

    /// A dot's element: a loop over the contracting dimensions.
    fn dot(&mut self, id: InstrId, coords: &[String]) -> String {
        let instr = self.body.instr(id);
        let Op::Dot(d) = &instr.op else {
            unreachable!("called on dots")
        };
        let (lhs, rhs) = (instr.operands[0], instr.operands[1]);
        let (ls, rs) = (self.shape(lhs), self.shape(rhs));
        let element = instr.array_shape().element;
        let ty = reg_type(element);
        let map = DotMap::new(d, ls.rank(), rs.rank());
        let sizes: Vec<usize> = d.lhs_contracting.iter().map(|&c| ls.dims[c]).collect();
        let acc = self.fresh("acc");
        self.line(&format!("var {acc}: {ty} = {};", ops::zero(element)));
        let k = self.fresh("k");
        self.open_loop(&k, &u(0), sizes.iter().product(), &u(1));
        let order: Vec<usize> = (0..sizes.len()).collect();
        let ks = self.delinearize(&k, &sizes, &order);
        let lc = map.operand(Side::Lhs, coords, &ks);
        let rc = map.operand(Side::Rhs, coords, &ks);
        let x = self.element_at(lhs, &lc);
        let y = self.element_at(rhs, &rc);
        let step = match element {
            ElementType::Pred => format!("{acc} = {acc} || ({x} && {y});"),
            _ => format!("{acc} = {acc} + {x} * {y};"),
        };
        self.line(&step);
        self.close();
        // Narrow integers wrap, and f16 and bf16 round, once at the end, as
        // the interpreter's product does.
        let fitted = types::fit(self, element, &acc);
        if fitted == acc {
            return acc;
        }
        self.bind(ty, &fitted)
    }

    /// Opens a loop, `name` from `begin` by `step`, over the operand elements
    /// reduction `id` combines into its element at `kept`, in the operand's
    /// memory order; returns their coordinates. The caller closes the loop.
    pub fn open_reduction(
        &mut self,
        id: InstrId,
        kept: &[String],
        name: &str,
        begin: &str,
        step: usize,
    ) -> Vec<String> {
        let instr = self.body.instr(id);
        let Op::Reduce { dimensions, .. } = &instr.op else {
            unreachable!("called on reductions")
        };
        let from = self.shape(instr.operands[0]);
        let order = elemental::reduced_in_memory_order(from, dimensions);
        let sizes: Vec<usize> = order.iter().map(|&d| from.dims[d]).collect();
        self.open_loop(name, begin, sizes.iter().product(), &u(step));
        let reduced = self.delinearize(name, &sizes, &elemental::row_major(sizes.len()));
        elemental::reduce_operand(from.rank(), &order, kept, &reduced)
    }

    /// A reduction's element: a loop over the reduced dimensions.
    fn reduce(&mut self, id: InstrId, coords: &[String]) -> String {
        let instr = self.body.instr(id);
        let Op::Reduce { reducer, .. } = &instr.op else {
            unreachable!("called on reductions")
        };
        let (operand, init) = (instr.operands[0], instr.operands[1]);
        let element = instr.array_shape().element;
        let start = self.element_at(init, &[]);
        let acc = self.fresh("acc");
        self.line(&format!("var {acc}: {} = {start};", reg_type(element)));
        let r = self.fresh("r");
        let inner = self.open_reduction(id, coords, &r, &u(0), 1);
        let v = self.element_at(operand, &inner);
        let combined = ops::combine(self, *reducer, element, &acc, &v);
        self.line(&format!("{acc} = {combined};"));
        self.close();
        acc
    }
}

/// Index arithmetic as `u32` WGSL expressions, each bound to a `let`.
impl IndexArith for Emitter<'_> {
    type Index = String;
    type Cond = String;

    fn constant(&mut self, n: usize) -> String {
        u(n)
    }

    fn affine(&mut self, a: &String, scale: i64, offset: i64) -> String {
        let magnitude = scale.unsigned_abs() as usize;
        let scaled = match magnitude {
            1 => a.clone(),
            m => format!("{a} * {}", u(m)),
        };
        let offset_u = u(offset.unsigned_abs() as usize);
        match (scale < 0, offset) {
            (false, 0) if magnitude == 1 => a.clone(),
            (false, 0) => self.bind("u32", &scaled),
            (false, o) if o < 0 => self.bind("u32", &format!("{scaled} - {offset_u}")),
            (false, _) => self.bind("u32", &format!("{scaled} + {offset_u}")),
            // A valid index: `offset` is at least `a * |scale|`.
            (true, _) => self.bind("u32", &format!("{offset_u} - {scaled}")),
        }
    }

    fn mul_add(&mut self, a: &String, n: usize, b: &String) -> String {
        self.bind("u32", &format!("({a}) * {} + {b}", u(n)))
    }

    fn div(&mut self, a: &String, n: usize) -> String {
        self.bind("u32", &format!("{a} / {}", u(n)))
    }

    fn rem(&mut self, a: &String, n: usize) -> String {
        self.bind("u32", &format!("{a} % {}", u(n)))
    }

    fn add(&mut self, a: &String, b: &String) -> String {
        self.bind("u32", &format!("{a} + {b}"))
    }

    fn sub(&mut self, a: &String, b: &String) -> String {
        self.bind("u32", &format!("{a} - {b}"))
    }

    fn below(&mut self, a: &String, n: usize) -> String {
        self.bind("bool", &format!("{a} < {}", u(n)))
    }

    fn divisible(&mut self, a: &String, n: usize) -> String {
        self.bind("bool", &format!("{a} % {} == 0u", u(n)))
    }

    fn and(&mut self, x: String, y: String) -> String {
        self.bind("bool", &format!("{x} && {y}"))
    }

    fn start_index(&mut self, array: InstrId, coords: &[String], max: usize) -> String {
        let element = self.shape(array).element;
        let x = self.element_at(array, coords);
        let clamped = match class(element) {
            Class::Signed => format!("u32(clamp({x}, 0i, {max}i))"),
            _ => format!("min({x}, {})", u(max)),
        };
        self.bind("u32", &clamped)
    }

    fn index_value(&mut self, array: InstrId, coords: &[String]) -> String {
        let x = self.element_at(array, coords);
        // An `i32`'s bits: a negative index is above every unsigned bound.
        self.bind("u32", &format!("u32({x})"))
    }
}
