//! The reference interpreter: every HLO op on ndarray, written for obvious
//! correctness. It is the oracle for every backend, so it follows XLA's semantics
//! to the corner cases (NaN-propagating maximum, integer division by zero,
//! saturating float-to-int conversion) and sums in pairs to stay close to exact.

pub(crate) mod data;
mod dot;
mod elementwise;
mod flat;
mod index;
pub(crate) use index::update_slice;
mod reduce;
mod regions;
mod scatter;
mod window;

use omelet_compiler::hlo::{Computation, InstrId, Module, Op, Shape};

use crate::array::{Array, RuntimeError};

/// A value during interpretation: an array, or a tuple of arrays.
#[derive(Clone, Debug)]
enum Value {
    Array(Array),
    Tuple(Vec<Array>),
}

impl Value {
    fn array(&self) -> &Array {
        match self {
            Value::Array(a) => a,
            Value::Tuple(_) => unreachable!("the verifier admits no tuple operand here"),
        }
    }
}

/// How many times one `while` may run its body before the interpreter gives up
/// on it: a loop whose condition never fails is an error, not a hang.
pub const MAX_LOOP_ITERATIONS: u64 = 1 << 24;

/// Runs the module's entry computation on `inputs` (one per parameter) and returns
/// its results, a tuple root flattened.
pub fn run(module: &Module, inputs: &[Array]) -> Result<Vec<Array>, RuntimeError> {
    run_bounded(module, inputs, MAX_LOOP_ITERATIONS)
}

/// [`run`], with each loop allowed at most `max_loop_iterations` iterations.
pub fn run_bounded(
    module: &Module,
    inputs: &[Array],
    max_loop_iterations: u64,
) -> Result<Vec<Array>, RuntimeError> {
    let params = module.parameter_shapes();
    if inputs.len() != params.len() {
        return Err(RuntimeError::input(format!(
            "the program takes {} inputs, {} were given",
            params.len(),
            inputs.len()
        )));
    }
    for (i, (input, param)) in inputs.iter().zip(&params).enumerate() {
        let fits = param
            .as_array()
            .is_some_and(|p| p.same_logical(&input.shape()));
        if !fits {
            return Err(RuntimeError::input(format!(
                "input {i} is {} but the parameter is {param}",
                input.shape()
            )));
        }
    }
    let args = inputs.iter().cloned().map(Value::Array).collect();
    let interpreter = Interpreter {
        module,
        max_loop_iterations,
    };
    Ok(match interpreter.evaluate(module.entry(), args)? {
        Value::Array(a) => vec![a],
        Value::Tuple(arrays) => arrays,
    })
}

struct Interpreter<'m> {
    module: &'m Module,
    max_loop_iterations: u64,
}

impl Interpreter<'_> {
    fn evaluate(&self, comp: &Computation, mut args: Vec<Value>) -> Result<Value, RuntimeError> {
        let module = self.module;
        let live = comp.live();
        let mut values: Vec<Option<Value>> = vec![None; comp.instructions.len()];
        for id in comp.ids().filter(|id| live[id.index()]) {
            let instr = comp.instr(id);
            let operand = |i: usize| {
                values[instr.operands[i].index()]
                    .as_ref()
                    .expect("operands come first")
            };
            let value = match &instr.op {
                Op::Parameter(n) => std::mem::replace(&mut args[*n], Value::Tuple(Vec::new())),
                Op::Tuple => Value::Tuple(
                    (0..instr.operands.len())
                        .map(|i| operand(i).array().clone())
                        .collect(),
                ),
                Op::GetTupleElement { index } => match operand(0) {
                    Value::Tuple(arrays) => Value::Array(arrays[*index].clone()),
                    Value::Array(_) => {
                        unreachable!("the verifier checks get-tuple-element's operand")
                    }
                },
                Op::Fusion { computation, .. } => {
                    let args = (0..instr.operands.len())
                        .map(|i| operand(i).clone())
                        .collect();
                    self.evaluate(module.computation(*computation), args)?
                }
                // As XLA runs a loop: a condition that never fails runs forever.
                Op::While { condition, body } => {
                    let (condition, body) =
                        (module.computation(*condition), module.computation(*body));
                    let mut state = operand(0).clone();
                    let mut iterations = 0;
                    while scalar(&self.evaluate(condition, vec![state.clone()])?) != 0 {
                        if iterations == self.max_loop_iterations {
                            return Err(RuntimeError::input(format!(
                                "the loop {} ran {iterations} iterations without its condition {} failing: the interpreter stops there",
                                instr.name, condition.name
                            )));
                        }
                        state = self.evaluate(body, vec![state])?;
                        iterations += 1;
                    }
                    state
                }
                Op::Conditional { branches } => {
                    let selector = operand(0);
                    let chosen = match selector.array() {
                        // `true` runs the first branch.
                        Array::Pred(_) => 1 - scalar(selector) as usize,
                        _ => usize::try_from(scalar(selector))
                            .ok()
                            .filter(|&i| i < branches.len())
                            .unwrap_or(branches.len() - 1),
                    };
                    let branch = module.computation(branches[chosen]);
                    self.evaluate(branch, vec![operand(chosen + 1).clone()])?
                }
                Op::Sort {
                    dimension,
                    comparator,
                    ..
                } => {
                    let operands: Vec<&Array> = (0..instr.operands.len())
                        .map(|i| operand(i).array())
                        .collect();
                    let mut sorted =
                        regions::sort(&operands, *dimension, module.computation(*comparator));
                    match instr.shape {
                        Shape::Array(_) => Value::Array(sorted.remove(0)),
                        Shape::Tuple(_) => Value::Tuple(sorted),
                    }
                }
                Op::Scatter { dims, update, .. } => Value::Array(scatter::scatter(
                    operand(0).array(),
                    operand(1).array(),
                    operand(2).array(),
                    dims,
                    module.computation(*update),
                )),
                Op::TopK { k, largest } => {
                    Value::Tuple(regions::top_k(operand(0).array(), *k, *largest))
                }
                Op::ReduceWindow { window, to_apply } => Value::Array(window::reduce_window(
                    operand(0).array(),
                    operand(1).array(),
                    window,
                    module.computation(*to_apply),
                    &instr.array_shape().dims,
                )),
                Op::ReduceTuple {
                    dimensions,
                    to_apply,
                } => {
                    let operands: Vec<&Array> = (0..instr.operands.len())
                        .map(|i| operand(i).array())
                        .collect();
                    Value::Tuple(regions::reduce_tuple(
                        &operands,
                        dimensions,
                        module.computation(*to_apply),
                    ))
                }
                _ => {
                    let operands: Vec<&Array> = (0..instr.operands.len())
                        .map(|i| operand(i).array())
                        .collect();
                    Value::Array(evaluate_array_op(comp, id, &operands))
                }
            };
            values[id.index()] = Some(value);
        }
        Ok(values[comp.root.index()].take().expect("the root is live"))
    }
}

/// A `pred[]` (as 0 or 1) or `s32[]` value.
fn scalar(value: &Value) -> i64 {
    match value.array() {
        Array::Pred(a) => a.iter().next().map_or(0, |&p| p as i64),
        Array::S32(a) => a.iter().next().map_or(0, |&i| i as i64),
        other => unreachable!("the verifier checks selectors and conditions: {other:?}"),
    }
}

fn evaluate_array_op(comp: &Computation, id: InstrId, operands: &[&Array]) -> Array {
    let instr = comp.instr(id);
    let shape = instr.array_shape();
    match &instr.op {
        Op::Constant(literal) => data::constant(literal, shape),
        Op::Iota { dimension } => data::iota(shape, *dimension),
        Op::Unary(op) => elementwise::unary(*op, operands[0]),
        Op::Convert => elementwise::convert(operands[0], shape.element),
        Op::BitcastConvert => elementwise::bitcast_convert(operands[0], shape.element),
        Op::Binary(op) => elementwise::binary(*op, operands[0], operands[1]),
        Op::Compare(direction) => elementwise::compare(*direction, operands[0], operands[1]),
        Op::Select => elementwise::select(operands[0], operands[1], operands[2]),
        Op::Clamp => elementwise::clamp(operands[0], operands[1], operands[2]),
        Op::Broadcast { dimensions } => data::broadcast(operands[0], dimensions, &shape.dims),
        Op::Reshape => data::reshape(operands[0], &shape.dims),
        Op::Transpose { permutation } => data::transpose(operands[0], permutation),
        Op::Slice { dims } => data::slice(operands[0], dims),
        Op::Concatenate { dimension } => data::concatenate(operands, *dimension),
        Op::Bitcast => data::bitcast(
            operands[0],
            comp.instr(instr.operands[0]).array_shape(),
            shape,
        ),
        Op::Dot(dims) => dot::dot(operands[0], operands[1], dims),
        Op::Reduce {
            dimensions,
            reducer,
        } => reduce::reduce(operands[0], operands[1], dimensions, *reducer),
        Op::Pad { config } => index::pad(operands[0], operands[1], config, &shape.dims),
        Op::Reverse { dimensions } => index::reverse(operands[0], dimensions),
        Op::DynamicSlice { sizes } => index::dynamic_slice(operands[0], &operands[1..], sizes),
        Op::DynamicUpdateSlice => {
            index::dynamic_update_slice(operands[0], operands[1], &operands[2..])
        }
        Op::Gather(dims) => index::gather(operands[0], operands[1], dims, &shape.dims),
        Op::ReducePrecision {
            exponent_bits,
            mantissa_bits,
        } => elementwise::reduce_precision(operands[0], *exponent_bits, *mantissa_bits),
        Op::CompareTotalOrder(direction) => {
            elementwise::compare_total_order(*direction, operands[0], operands[1])
        }
        Op::SelectAndScatter {
            window,
            select,
            scatter,
        } => window::select_and_scatter(
            operands[0],
            operands[1],
            operands[2],
            window,
            *select,
            *scatter,
        ),
        Op::Parameter(_)
        | Op::Tuple
        | Op::GetTupleElement { .. }
        | Op::Fusion { .. }
        | Op::While { .. }
        | Op::Conditional { .. }
        | Op::Sort { .. }
        | Op::TopK { .. }
        | Op::Scatter { .. }
        | Op::ReduceWindow { .. }
        | Op::ReduceTuple { .. } => unreachable!("handled by evaluate"),
    }
}
