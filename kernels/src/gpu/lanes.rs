//! Four neighbouring elements per thread, for elementwise kernels whose
//! innermost dimension allows it: each value's four elements are generated
//! together, so that a parameter read at four consecutive, aligned positions
//! becomes one `vec4` load, and the outputs are written as `vec4` stores.
//!
//! Lanes are coordinate lists that differ only in the output's innermost
//! coordinate, written `c`, `(c + 1u)`, `(c + 2u)`, `(c + 3u)` with `c` a
//! multiple of four. Views map each lane's coordinates; a parameter whose innermost (in
//! memory) coordinate is still that pattern is read as one word. Anything else
//! falls back to one element at a time.

use omelet_compiler::hlo::{ArrayShape, ElementType, InstrId, Op};

use super::emit::{Emitter, storage_type, u};
use crate::elemental::{broadcast_operand, transpose_operand};
use crate::kernel::strides;

/// Elements per `vec4` word.
pub const LANES: usize = 4;

/// `LANES` coordinate lists along dimension `dim` of `base` (whose coordinate
/// there is a multiple of `LANES`).
pub fn lanes_along(base: &[String], dim: usize) -> Vec<Vec<String>> {
    (0..LANES)
        .map(|l| {
            let mut coords = base.to_vec();
            if l > 0 {
                coords[dim] = format!("({} + {})", base[dim], u(l));
            }
            coords
        })
        .collect()
}

/// Whether `lanes` read four consecutive, word-aligned elements of an array of
/// `shape`: they step along its innermost dimension in memory, whose size is a
/// multiple of `LANES`.
fn contiguous(lanes: &[Vec<String>], shape: &ArrayShape) -> bool {
    let Some(&d) = shape.minor_to_major.first() else {
        return false;
    };
    shape.dims[d].is_multiple_of(LANES) && lanes_along(&lanes[0], d) == lanes
}

impl Emitter<'_> {
    /// The elements of `id` at each of `lanes`.
    pub fn elements_at(&mut self, id: InstrId, lanes: &[Vec<String>]) -> Vec<String> {
        if lanes.iter().all(|c| *c == lanes[0]) {
            let v = self.element_at(id, &lanes[0]);
            return vec![v; lanes.len()];
        }
        let known: Option<Vec<String>> = lanes.iter().map(|c| self.memoized(id, c)).collect();
        if let Some(values) = known {
            return values;
        }
        let instr = self.body.instr(id);
        let shape = instr.array_shape();
        if self.given.contains_key(&id) || self.rows.contains_key(&id) {
            return lanes.iter().map(|c| self.element_at(id, c)).collect();
        }
        let values = match &instr.op {
            Op::Parameter(k) if self.vector_args.contains(k) && contiguous(lanes, shape) => {
                let offset = self.offset(&lanes[0], &shape.dims, &strides(shape));
                let ty = format!("vec4<{}>", storage_type(shape.element));
                let word = self.bind(&ty, &format!("a{k}[{offset} / {}]", u(LANES)));
                ["x", "y", "z", "w"]
                    .iter()
                    .map(|c| match shape.element {
                        ElementType::Pred => self.bind("bool", &format!("{word}.{c} != 0u")),
                        _ => format!("{word}.{c}"),
                    })
                    .collect()
            }
            Op::Unary(_)
            | Op::Convert
            | Op::BitcastConvert
            | Op::Binary(_)
            | Op::Compare(_)
            | Op::Select
            | Op::Clamp => {
                let operands: Vec<Vec<String>> = instr
                    .operands
                    .iter()
                    .map(|&o| match self.shape(o).rank() {
                        0 => vec![self.element_at(o, &[]); lanes.len()],
                        _ => self.elements_at(o, lanes),
                    })
                    .collect();
                (0..lanes.len())
                    .map(|l| {
                        let at: Vec<String> = operands.iter().map(|o| o[l].clone()).collect();
                        self.elementwise(id, &at)
                    })
                    .collect()
            }
            Op::Broadcast { dimensions } => {
                let inner: Vec<Vec<String>> = lanes
                    .iter()
                    .map(|c| broadcast_operand(dimensions, c))
                    .collect();
                self.elements_at(instr.operands[0], &inner)
            }
            Op::Transpose { permutation } => {
                let inner: Vec<Vec<String>> = lanes
                    .iter()
                    .map(|c| transpose_operand(permutation, c))
                    .collect();
                self.elements_at(instr.operands[0], &inner)
            }
            _ => lanes.iter().map(|c| self.element_at(id, c)).collect(),
        };
        for (c, v) in lanes.iter().zip(&values) {
            self.remember(id, c, v.clone());
        }
        values
    }
}
