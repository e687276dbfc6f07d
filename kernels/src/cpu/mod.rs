//! The CPU code generator: each kernel becomes one function JIT-compiled by
//! Cranelift for this machine's ISA (SSE4.1, FMA and what else
//! `cranelift-native` detects).

mod emit;
mod lower;

use std::fmt;

use cranelift_codegen::ir::{AbiParam, UserFuncName, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use omelet_compiler::hlo::{InstrId, Literal, Op};

use emit::Emitter;
pub use emit::LANES;
use lower::Helper;
use rustc_hash::FxHashMap;

use crate::kernel::{Kernel, Schedule, SortOrder};

/// A compiled kernel's entry: `(args, begin, end, scratch)` (see `emit`).
pub type KernelFn = unsafe extern "C" fn(*const *mut u8, i64, i64, *mut u8);

/// Compiled kernels and the JIT memory that holds their code.
pub struct CpuKernels {
    module: Option<JITModule>,
    pub kernels: Vec<CompiledKernel>,
}

pub struct CompiledKernel {
    pub name: String,
    /// `None` for a GEMM without epilogue: the driver alone computes it; a
    /// sort's comparator (`emit/sort.rs`), `None` for a topk.
    pub entry: Option<KernelFn>,
    /// The Cranelift IR, for dumps and golden tests.
    pub clif: String,
    /// Array constants the code reads by address.
    _constants: Vec<(InstrId, Box<[u8]>)>,
}

impl fmt::Debug for CompiledKernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledKernel")
            .field("name", &self.name)
            .finish()
    }
}

// The code and constants are immutable once compiled; kernels are called from
// several threads at once, on disjoint parts of their outputs.
unsafe impl Send for CpuKernels {}
unsafe impl Sync for CpuKernels {}

impl Drop for CpuKernels {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // Safety: the kernels' entries die with `self`; nothing calls them now.
            unsafe { module.free_memory() };
        }
    }
}

/// Compiles `kernels` into one JIT module.
pub fn compile(kernels: &[Kernel]) -> Result<CpuKernels, String> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").map_err(|e| e.to_string())?;
    flags.set("is_pic", "false").map_err(|e| e.to_string())?;
    flags
        .set("use_colocated_libcalls", "false")
        .map_err(|e| e.to_string())?;
    let isa = cranelift_native::builder()
        .map_err(|e| format!("this CPU is not supported by Cranelift: {e}"))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())?;
    let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
    for h in Helper::all() {
        builder.symbol(h.symbol(), h.address());
    }
    let mut module = JITModule::new(builder);
    let mut ctx = module.make_context();
    let mut fctx = FunctionBuilderContext::new();
    let mut ids = Vec::new();
    let mut compiled = Vec::new();
    // A GEMM kernel's code is its epilogue; the packed driver does the product.
    let code: Vec<Option<&Kernel>> = kernels
        .iter()
        .map(|k| match &k.schedule {
            Schedule::Gemm(g) => g.epilogue.as_deref(),
            Schedule::Products(_) => None,
            Schedule::Sort(sort) if matches!(sort.order, SortOrder::TopK { .. }) => None,
            _ => Some(k),
        })
        .collect();
    // The helpers are declared once for the module, then referenced per kernel.
    let helper_ids = Helper::all()
        .into_iter()
        .map(|h| {
            let mut sig = module.make_signature();
            let ty = h.operand_type();
            sig.params
                .extend(std::iter::repeat_n(AbiParam::new(ty), h.arity()));
            sig.returns.push(AbiParam::new(ty));
            let f = module
                .declare_function(&h.symbol(), Linkage::Import, &sig)
                .map_err(|e| e.to_string())?;
            Ok((h, (f.as_u32(), sig)))
        })
        .collect::<Result<FxHashMap<_, _>, String>>()?;
    for (n, kernel) in code.iter().enumerate() {
        let Some(kernel) = kernel else {
            ids.push(None);
            compiled.push((&kernels[n], String::new(), Vec::new()));
            continue;
        };
        let mut sig = module.make_signature();
        for ty in [types::I64, types::I64, types::I64, types::I64] {
            sig.params.push(AbiParam::new(ty));
        }
        let id = module
            .declare_function(&format!("k{n}_{}", kernel.name), Linkage::Local, &sig)
            .map_err(|e| e.to_string())?;
        ctx.func.signature = sig;
        ctx.func.name = UserFuncName::user(0, id.as_u32());
        let helpers = lower::Helpers::new(&helper_ids);
        let constants = embedded_constants(kernel);
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        Emitter::new(b, kernel, helpers, &constants, module.target_config()).emit();
        let clif = ctx.func.display().to_string();
        module
            .define_function(id, &mut ctx)
            .map_err(|e| format!("kernel {}: {e:?}", kernel.name))?;
        module.clear_context(&mut ctx);
        ids.push(Some(id));
        compiled.push((kernel, clif, constants));
    }
    module.finalize_definitions().map_err(|e| e.to_string())?;
    let kernels = ids
        .into_iter()
        .zip(compiled)
        .map(|(id, (kernel, clif, constants))| {
            // Safety: the function was built with exactly this signature.
            let entry = id.map(|id| unsafe {
                std::mem::transmute::<*const u8, KernelFn>(module.get_finalized_function(id))
            });
            CompiledKernel {
                name: kernel.name.clone(),
                entry,
                clif,
                _constants: constants,
            }
        })
        .collect();
    Ok(CpuKernels {
        module: Some(module),
        kernels,
    })
}

/// The bytes of each array constant (any but one element, which the code holds
/// as an immediate) in the body, in the memory form the code reads: row-major,
/// `pred` as one byte. A zero-size constant has no bytes, and the code that
/// would read it (a dot over an empty contraction) never runs.
fn embedded_constants(kernel: &Kernel) -> Vec<(InstrId, Box<[u8]>)> {
    kernel
        .body
        .ids()
        .filter_map(|id| match &kernel.body.instr(id).op {
            Op::Constant(literal) if literal.len() != 1 => Some((id, literal_bytes(literal))),
            _ => None,
        })
        .collect()
}

fn literal_bytes(literal: &Literal) -> Box<[u8]> {
    let size = literal.element_type().byte_size();
    literal
        .scalars()
        .flat_map(|s| s.bits.to_le_bytes().into_iter().take(size))
        .collect()
}
