//! The GPU code generator: each kernel becomes one or more WGSL compute shaders
//! (one per GEMM of a `Products` kernel, one otherwise), generated as text from
//! the backend-neutral [`Kernel`] and run by the runtime through wgpu.
//!
//! Every shader binds all of its kernel's arguments, inputs then outputs, as
//! `@group(0) @binding(i)` storage arrays of one 32-bit word per element
//! ([`types`]: WGSL has no byte type, and neighbouring threads must not write
//! the same word). Shapes are baked in as constants, so a shader needs
//! no uniforms. Dispatches are one-dimensional with at most [`MAX_GROUPS`]
//! workgroups, and every schedule is a grid-stride loop: any size runs, whatever
//! the per-dimension limit.

mod emit;
mod gemm;
mod helpers;
mod lanes;
mod ops;
mod scatter;
mod schedule;
mod sort;
mod tiles;
pub mod types;
mod window;

use omelet_compiler::hlo::ElementType;

use crate::kernel::{Kernel, Schedule};
use gemm::Product;

/// Threads per workgroup in every schedule but the GEMM's (16 × 16 as well).
pub const WORKGROUP: u32 = 256;

/// The most workgroups a dispatch asks for: WebGPU's guaranteed per-dimension
/// limit. Larger iteration spaces loop (grid-stride).
pub const MAX_GROUPS: u32 = 65535;

/// What the adapter offers that the generator adapts to.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Bytes of `var<workgroup>` memory a shader may declare.
    pub workgroup_storage: usize,
    /// Whether subgroup operations (`subgroupAdd`, ...) are available.
    pub subgroups: bool,
}

impl Default for Target {
    /// WebGPU's defaults, which every adapter meets.
    fn default() -> Target {
        Target {
            workgroup_storage: 16 << 10,
            subgroups: false,
        }
    }
}

/// One compute shader and how many workgroups to dispatch.
#[derive(Clone, Debug)]
pub struct Shader {
    pub name: String,
    pub wgsl: String,
    pub groups: u32,
}

/// A kernel's shaders, dispatched in order over the same bindings.
#[derive(Clone, Debug)]
pub struct GpuKernel {
    pub name: String,
    pub shaders: Vec<Shader>,
    /// Each argument's element type, inputs then outputs.
    pub args: Vec<ElementType>,
}

/// Generates a kernel's shaders, or says why this target cannot run it.
pub fn compile(kernel: &Kernel, target: &Target) -> Result<GpuKernel, String> {
    let args: Vec<ElementType> = kernel
        .input_shapes()
        .into_iter()
        .chain(kernel.output_shapes())
        .map(|s| s.element)
        .collect();
    let shaders = match &kernel.schedule {
        Schedule::Gemm(g) => {
            let dot = gemm::single_dot(kernel).expect("a GEMM kernel has one dot");
            vec![gemm::shader(kernel, &Product::of_views(g), dot, 0, &args)]
        }
        Schedule::Products(products) => products
            .iter()
            .enumerate()
            .map(|(o, g)| gemm::shader(kernel, &Product::of_views(g), kernel.outputs[o], o, &args))
            .collect(),
        // Any other kernel that is one product: tiles whose operands are
        // computed as they are filled.
        _ if let Some((dot, product)) = Product::computed(kernel) => {
            vec![gemm::shader(kernel, &product, dot, 0, &args)]
        }
        Schedule::Loop => vec![schedule::elements(kernel, &args)],
        Schedule::Columns => vec![schedule::columns(kernel, &args)],
        Schedule::Rows {
            outer, consumer, ..
        } => {
            let consumer_lhs = consumer.as_ref().map(|c| c.lhs);
            vec![schedule::rows(kernel, outer, consumer_lhs, &args, target)]
        }
        Schedule::Scatter { owned } => vec![scatter::scatter(kernel, owned, &args)],
        Schedule::Sort(s) => vec![sort::shader(kernel, s, &args, target)?],
    };
    Ok(GpuKernel {
        name: kernel.name.clone(),
        shaders,
        args,
    })
}

/// Workgroups for `threads` threads in groups of `per_group`.
fn groups_for(threads: usize, per_group: u32) -> u32 {
    threads
        .div_ceil(per_group as usize)
        .clamp(1, MAX_GROUPS as usize) as u32
}
