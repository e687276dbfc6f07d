//! The HLO graph: Omelet's one intermediate representation.
//!
//! This module depends on nothing but the standard library and `rustc-hash`:
//! parsers, egg, Cranelift and wgpu stay out of it.

mod builder;
mod element;
pub mod index_ops;
mod literal;
mod module;
mod op;
pub mod print;
pub mod reduce_precision;
pub mod region;
mod region_shapes;
mod shape;
pub mod shape_rules;
mod verify;

pub use builder::ComputationBuilder;
pub use element::{Element, IntegerPower, Number, Scalar, integer_power};
pub use index_ops::{GatherDims, PadDim};
pub use literal::{Literal, float_text};
pub use module::{Computation, ComputationId, InstrId, Instruction, Module, RegionCopier};
pub use op::{
    BinaryOp, Cost, Direction, Domain, DotDims, FusionKind, Op, ReduceOp, ScatterDims, SliceDim,
    UnaryOp, WindowDim,
};
pub use print::print_module;
pub(crate) use shape::join;
pub use shape::{ArrayShape, ElementType, Kind, Shape};
pub use verify::{VerifyError, check_fusion, verify};
