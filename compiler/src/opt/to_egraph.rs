//! HLO module → e-graph: one e-node per instruction of the entry, with `call`s,
//! `fusion`s and tuples looked through and `bitcast` spelled with logical ops.

use egg::Id;

use super::analysis::HloGraph;
use super::node::{Node, NodeOp};
use crate::hlo::{ArrayShape, Computation, InstrId, Module, Op, Shape};

/// The program as the e-graph sees it: its outputs, and what extraction needs to
/// give the rebuilt module the same interface.
pub struct Program {
    /// Each output's class and the shape (layout included) the caller expects.
    pub outputs: Vec<(Id, ArrayShape)>,
    /// Whether the entry returns a tuple (even of one array).
    pub tuple_root: bool,
    /// The entry's parameters: name and shape, in parameter order.
    pub parameters: Vec<(String, ArrayShape)>,
    /// The instruction names (and opcodes) classes had in the input, so that dumps
    /// stay readable.
    pub names: Vec<(Id, String, &'static str)>,
}

#[derive(Clone)]
enum Value {
    Array(Id),
    Tuple(Vec<Id>),
}

impl Value {
    fn array(&self) -> Id {
        match self {
            Value::Array(id) => *id,
            Value::Tuple(_) => unreachable!("the verifier admits no tuple operand here"),
        }
    }
}

pub fn to_egraph(module: &Module, egraph: &mut HloGraph) -> Program {
    let entry = module.entry();
    let mut names = Vec::new();
    let root = convert(module, entry, None, egraph, &mut names);
    let shapes = entry.root_instr().shape.arrays();
    let (ids, tuple_root) = match root {
        Value::Array(id) => (vec![id], false),
        Value::Tuple(ids) => (ids, true),
    };
    let parameters = entry
        .parameters
        .iter()
        .map(|&p| {
            let instr = entry.instr(p);
            (instr.name.clone(), instr.array_shape().clone())
        })
        .collect();
    Program {
        outputs: ids.into_iter().zip(shapes.iter().cloned()).collect(),
        tuple_root,
        parameters,
        names,
    }
}

/// Converts the live instructions of `comp`; `args` are the operands of the fusion
/// or call being looked through, `None` for the entry.
fn convert(
    module: &Module,
    comp: &Computation,
    args: Option<&[Value]>,
    egraph: &mut HloGraph,
    names: &mut Vec<(Id, String, &'static str)>,
) -> Value {
    let live = comp.live();
    let mut values: Vec<Option<Value>> = vec![None; comp.instructions.len()];
    for id in comp.ids().filter(|id| live[id.index()]) {
        let instr = comp.instr(id);
        let operand = |i: usize| values[instr.operands[i].index()].clone().unwrap();
        let arrays = |values: &[Option<Value>]| -> Vec<Id> {
            instr
                .operands
                .iter()
                .map(|o: &InstrId| values[o.index()].as_ref().unwrap().array())
                .collect()
        };
        let mut add = |op: NodeOp, children: Vec<Id>| egraph.add(Node::new(op, children));
        let value = match &instr.op {
            Op::Parameter(n) => match args {
                Some(args) => args[*n].clone(),
                None => Value::Array(add(
                    NodeOp::Parameter {
                        index: *n,
                        shape: instr.array_shape().clone(),
                    },
                    vec![],
                )),
            },
            Op::Tuple => Value::Tuple(arrays(&values)),
            Op::GetTupleElement { index } => match operand(0) {
                Value::Tuple(ids) => Value::Array(ids[*index]),
                Value::Array(_) => unreachable!("the verifier checks get-tuple-element"),
            },
            Op::Fusion { computation, .. } => {
                let operands: Vec<Value> = instr
                    .operands
                    .iter()
                    .map(|o| values[o.index()].clone().unwrap())
                    .collect();
                let callee = module.computation(*computation);
                convert(module, callee, Some(&operands), egraph, names)
            }
            Op::Bitcast => {
                let from = comp.instr(instr.operands[0]).array_shape();
                Value::Array(bitcast(
                    egraph,
                    operand(0).array(),
                    from,
                    instr.array_shape(),
                ))
            }
            op if NodeOp::of_output(op, 0).is_some() => {
                let children = arrays(&values);
                let mut output = |i: usize| {
                    let node_op = NodeOp::of_output(op, i).expect("a several-result op");
                    add(node_op, children.clone())
                };
                match &instr.shape {
                    Shape::Array(_) => Value::Array(output(0)),
                    Shape::Tuple(arrays) => Value::Tuple((0..arrays.len()).map(output).collect()),
                }
            }
            op => {
                let shape = instr.array_shape();
                let node_op = node_op(op, shape);
                Value::Array(add(node_op, arrays(&values)))
            }
        };
        if let (Value::Array(class), None) = (&value, args) {
            names.push((*class, instr.name.clone(), instr.op.opcode()));
        }
        values[id.index()] = Some(value);
    }
    values[comp.root.index()].take().unwrap()
}

/// The e-graph's form of an op whose result is `shape`.
fn node_op(op: &Op, shape: &ArrayShape) -> NodeOp {
    match op {
        Op::Constant(literal) => NodeOp::Constant {
            value: literal.clone(),
            dims: shape.dims.clone(),
        },
        Op::Iota { dimension } => NodeOp::Iota {
            dimension: *dimension,
            shape: ArrayShape::new(shape.element, shape.dims.clone()),
        },
        Op::Unary(u) => NodeOp::Unary(*u),
        Op::Convert => NodeOp::Convert(shape.element),
        Op::BitcastConvert => NodeOp::BitcastConvert(shape.element),
        Op::Binary(b) => NodeOp::Binary(*b),
        Op::Compare(d) => NodeOp::Compare(*d),
        Op::Select => NodeOp::Select,
        Op::Clamp => NodeOp::Clamp,
        Op::Broadcast { dimensions } => NodeOp::Broadcast {
            dimensions: dimensions.clone(),
            dims: shape.dims.clone(),
        },
        Op::Reshape => NodeOp::Reshape {
            dims: shape.dims.clone(),
        },
        Op::Transpose { permutation } => NodeOp::Transpose {
            permutation: permutation.clone(),
        },
        Op::Slice { dims } => NodeOp::Slice { dims: dims.clone() },
        Op::Concatenate { dimension } => NodeOp::Concatenate {
            dimension: *dimension,
        },
        Op::Dot(d) => NodeOp::Dot(d.clone()),
        Op::Reduce {
            dimensions,
            reducer,
        } => NodeOp::Reduce {
            dimensions: dimensions.clone(),
            reducer: *reducer,
        },
        Op::Pad { config } => NodeOp::Pad {
            config: config.clone(),
        },
        Op::Reverse { dimensions } => NodeOp::Reverse {
            dimensions: dimensions.clone(),
        },
        Op::DynamicSlice { sizes } => NodeOp::DynamicSlice {
            sizes: sizes.clone(),
        },
        Op::DynamicUpdateSlice => NodeOp::DynamicUpdateSlice,
        Op::Gather(dims) => NodeOp::Gather(dims.clone()),
        Op::ReducePrecision {
            exponent_bits,
            mantissa_bits,
        } => NodeOp::ReducePrecision {
            exponent_bits: *exponent_bits,
            mantissa_bits: *mantissa_bits,
        },
        Op::CompareTotalOrder(d) => NodeOp::CompareTotalOrder(*d),
        Op::Scatter {
            dims,
            update,
            indices_are_sorted,
            unique_indices,
        } => NodeOp::Scatter {
            dims: dims.clone(),
            update: *update,
            indices_are_sorted: *indices_are_sorted,
            unique_indices: *unique_indices,
        },
        Op::ReduceWindow { window, to_apply } => NodeOp::ReduceWindow {
            window: window.clone(),
            to_apply: *to_apply,
        },
        Op::SelectAndScatter {
            window,
            select,
            scatter,
        } => NodeOp::SelectAndScatter {
            window: window.clone(),
            select: *select,
            scatter: *scatter,
        },
        Op::ReduceTuple { .. } | Op::Sort { .. } | Op::TopK { .. } => {
            unreachable!("several-result ops are the caller's")
        }
        Op::Parameter(_)
        | Op::Tuple
        | Op::GetTupleElement { .. }
        | Op::Fusion { .. }
        | Op::Bitcast => unreachable!("handled by the caller"),
        Op::While { .. } | Op::Conditional { .. } => {
            unreachable!("`optimize` leaves modules with control flow as they are")
        }
    }
}

/// `bitcast` reinterprets bytes in physical order; logically that is a transpose
/// into the operand's physical order, a reshape to the result's physical dims, and
/// a transpose back to the result's logical order.
fn bitcast(egraph: &mut HloGraph, operand: Id, from: &ArrayShape, to: &ArrayShape) -> Id {
    let major_to_minor =
        |s: &ArrayShape| -> Vec<usize> { s.minor_to_major.iter().rev().copied().collect() };
    let from_order = major_to_minor(from);
    let to_order = major_to_minor(to);
    let physical = transpose(egraph, operand, from_order);
    let physical_dims: Vec<usize> = to_order.iter().map(|&d| to.dims[d]).collect();
    let reshaped = reshape(egraph, physical, physical_dims);
    transpose(egraph, reshaped, inverse(&to_order))
}

fn transpose(egraph: &mut HloGraph, x: Id, permutation: Vec<usize>) -> Id {
    if permutation.iter().copied().eq(0..permutation.len()) {
        return x;
    }
    egraph.add(Node::new(NodeOp::Transpose { permutation }, vec![x]))
}

fn reshape(egraph: &mut HloGraph, x: Id, dims: Vec<usize>) -> Id {
    if egraph[x].data.shape.dims == dims {
        return x;
    }
    egraph.add(Node::new(NodeOp::Reshape { dims }, vec![x]))
}

/// The permutation `q` with `q[p[i]] = i`.
pub fn inverse(p: &[usize]) -> Vec<usize> {
    let mut q = vec![0; p.len()];
    for (i, &d) in p.iter().enumerate() {
        q[d] = i;
    }
    q
}
