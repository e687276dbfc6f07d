//! The CPU engine: a fused module's kernels JIT-compiled by Cranelift, run over
//! one planned arena, large kernels split across the cores of one thread pool.

mod denormals;
mod gemm;
mod sort;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ndarray::{ArrayD, IxDyn};
use omelet_compiler::hlo::{ArrayShape, ElementType, Module, print_module};
use omelet_kernels::cpu::{self as codegen, CpuKernels, LANES};
use omelet_kernels::gemm::{MatMut, MatRef, no_epilogue, sgemm};
use omelet_kernels::kernel::{Kernel, MatrixView, Schedule};
use rayon::prelude::*;

use omelet_compiler::pipeline::{Stage, compile};

use crate::array::{Array, RuntimeError};
use crate::flow::{Compiler, Engine, Flow};
use crate::plan::{self, Plan, Slot, Storage};
use denormals::FlushToZero;
use gemm::launch_gemm;

/// Below this many bytes read and written, a kernel runs on one thread:
/// splitting costs more than it saves.
const PARALLEL_BYTES: usize = 256 << 10;

/// Arrays take their natural size; arena buffers start on a cache line.
pub(crate) const STORAGE: Storage = Storage {
    bytes: ArrayShape::byte_size,
    align: 64,
    scatter_in_place: true,
};

/// A compiled program, ready to run any number of times.
pub struct Executable {
    program: Program,
    params: Vec<ArrayShape>,
}

enum Program {
    Straight(Box<Straight>),
    /// Loops and branches between straight-line segments ([`crate::flow`]).
    Flow(Flow<Straight>),
}

/// The CPU engine of a program's segments: each optimized, fused and compiled.
struct Segments;

impl Compiler for Segments {
    type Code = Straight;

    fn compile(&mut self, segment: Module) -> Result<Straight, RuntimeError> {
        Straight::new(&compile(segment, Stage::Fused).module)
    }
}

impl Engine for Segments {
    fn run(&self, code: &Straight, inputs: &[&Array]) -> Result<Vec<Array>, RuntimeError> {
        code.run(inputs)
    }
}

impl Executable {
    /// Compiles a fused module (`pipeline::compile(.., Stage::Fused)`).
    pub fn new(module: &Module) -> Result<Executable, RuntimeError> {
        let params = plan::parameters(module, "cpu")?;
        let program = match module.has_control_flow() {
            true => Program::Flow(Flow::new(module, &mut Segments)?),
            false => Program::Straight(Box::new(Straight::new(module)?)),
        };
        Ok(Executable { program, params })
    }

    /// The Cranelift IR of each kernel, for dumps.
    pub fn clif(&self) -> Vec<(&str, &str)> {
        match &self.program {
            Program::Straight(code) => code.clif(),
            Program::Flow(flow) => flow
                .segments()
                .into_iter()
                .flat_map(Straight::clif)
                .collect(),
        }
    }

    pub fn run(&self, inputs: &[Array]) -> Result<Vec<Array>, RuntimeError> {
        let arrays: Vec<&Array> = inputs.iter().collect();
        match &self.program {
            Program::Straight(code) => code.run(&arrays),
            Program::Flow(flow) => {
                plan::check_inputs(&arrays, &self.params)?;
                flow.run(&Segments, inputs)
            }
        }
    }
}

/// A program without loops or branches: its kernels and their buffers.
struct Straight {
    code: CpuKernels,
    kernels: Vec<Kernel>,
    plan: Plan,
    params: Vec<ArrayShape>,
    results: Vec<ArrayShape>,
    /// Each constant's bytes in 8-byte words: aligned for any element type, an
    /// empty one too (an empty `Vec<u8>` points at address 1, which a GEMM of
    /// zero-size constants read as a misaligned `f32` slice).
    constants: Vec<Vec<u64>>,
    /// The arena, kept between runs so a run allocates only its results.
    arena: Mutex<Vec<u64>>,
    /// Per kernel, the bounds of its thread parts along its parallel dimension.
    parts: Vec<Vec<usize>>,
    /// Each thread part's scratch (rows of row kernels, GEMM blocks), sized for
    /// the largest kernel and kept between runs.
    scratch: Vec<Mutex<Vec<u64>>>,
}

impl Straight {
    fn new(module: &Module) -> Result<Straight, RuntimeError> {
        let entry = module.entry();
        let kernels = plan::kernels(module)?;
        let code = codegen::compile(&kernels).map_err(RuntimeError::internal)?;
        let parts = kernels.iter().map(thread_parts).collect();
        let most = kernels.iter().map(|k| k.scratch.bytes).max().unwrap_or(0);
        let scratch = (0..rayon::current_num_threads().max(1))
            .map(|_| Mutex::new(vec![0; most.div_ceil(8)]))
            .collect();
        let plan = plan::plan(module, &STORAGE);
        let constants = plan
            .constant_values(entry)
            .map(|(array, shape)| words(&array.to_bytes(shape)))
            .collect();
        let params = plan::parameters(module, "cpu")?;
        Ok(Straight {
            code,
            kernels,
            arena: Mutex::new(vec![0; plan.arena_bytes.div_ceil(8)]),
            parts,
            scratch,
            plan,
            params,
            results: module.result_shapes().to_vec(),
            constants,
        })
    }

    fn clif(&self) -> Vec<(&str, &str)> {
        self.code
            .kernels
            .iter()
            .map(|k| (k.name.as_str(), k.clif.as_str()))
            .collect()
    }

    fn run(&self, inputs: &[&Array]) -> Result<Vec<Array>, RuntimeError> {
        plan::check_inputs(inputs, &self.params)?;
        let input_bytes: Vec<Cow<[u8]>> = inputs
            .iter()
            .zip(&self.params)
            .map(|(a, shape)| a.bytes(shape))
            .collect();
        let mut results: Vec<ResultBuffer> = self.results.iter().map(ResultBuffer::new).collect();
        let mut arena = self.arena.lock().unwrap_or_else(|e| e.into_inner());
        // The calling thread runs GEMMs and single-part kernels.
        let _flush = FlushToZero::new();
        let arena_base = arena.as_mut_ptr() as *mut u8;
        let result_bases: Vec<*mut u8> = results.iter_mut().map(ResultBuffer::as_mut_ptr).collect();
        let address = |slot: Slot| -> *mut u8 {
            match slot {
                Slot::Input(i) => input_bytes[i].as_ptr() as *mut u8,
                Slot::Constant(i) => self.constants[i].as_ptr() as *mut u8,
                Slot::Result(i) => result_bases[i],
                // Safety: the plan keeps every arena buffer inside `arena_bytes`.
                Slot::Arena { offset } => unsafe { arena_base.add(offset) },
            }
        };
        for launch in &self.plan.launches {
            let args: Vec<usize> = launch
                .inputs
                .iter()
                .chain(&launch.outputs)
                .map(|&s| address(s) as usize)
                .collect();
            self.launch(launch.kernel, &args);
        }
        // Results held elsewhere (an input, a constant, the arena, another result)
        // are copied out before the buffers are handed over.
        let copies: Vec<Option<Array>> = self
            .results
            .iter()
            .enumerate()
            .map(|(r, shape)| match self.plan.results[r] {
                Slot::Result(i) if i == r => None,
                // Safety: the slot holds `shape.byte_size()` bytes.
                other => Some(Array::from_bytes(shape, unsafe {
                    std::slice::from_raw_parts(address(other), shape.byte_size())
                })),
            })
            .collect();
        let arrays = results
            .into_iter()
            .zip(copies)
            .zip(&self.results)
            .map(|((buffer, copy), shape)| copy.unwrap_or_else(|| buffer.into_array(shape)))
            .collect();
        Ok(arrays)
    }

    /// Runs kernel `k` on the buffers at `args`, split across threads when large.
    fn launch(&self, k: usize, args: &[usize]) {
        let kernel = &self.kernels[k];
        let compiled = &self.code.kernels[k];
        if let Schedule::Products(products) = &kernel.schedule {
            let inputs = kernel.body.parameters.len();
            for (o, gemm) in products.iter().enumerate() {
                launch_gemm(kernel, gemm, None, &args[..inputs], args[inputs + o]);
            }
            return;
        }
        if let Schedule::Gemm(gemm) = &kernel.schedule {
            let inputs = kernel.body.parameters.len();
            return launch_gemm(kernel, gemm, compiled.entry, &args[..inputs], args[inputs]);
        }
        let entry = compiled.entry;
        let bounds = &self.parts[k];
        let (threads, extent) = (bounds.len() - 1, bounds[bounds.len() - 1]);
        let run = |part: usize| {
            let (begin, end) = (bounds[part], bounds[part + 1]);
            if begin >= end {
                return;
            }
            let _flush = FlushToZero::new();
            let mut scratch = self.scratch[part].lock().unwrap_or_else(|e| e.into_inner());
            // Safety: `args` point to buffers of the sizes the kernel's shapes say
            // (inputs checked against the parameters, the rest planned), and
            // parts write disjoint ranges of the outputs.
            let call = |scratch: &mut [u64], begin: usize, end: usize| unsafe {
                entry.expect("every kernel but a bare GEMM or a topk has code")(
                    args.as_ptr() as *const *mut u8,
                    begin as i64,
                    end as i64,
                    scratch.as_mut_ptr() as *mut u8,
                )
            };
            match &kernel.schedule {
                // One batch at a time: its product by the GEMM, its rows, then
                // its output dot by the GEMM.
                Schedule::Rows {
                    product, consumer, ..
                } if product.is_some() || consumer.is_some() => {
                    let inputs = kernel.input_shapes();
                    let floats = scratch.as_mut_ptr() as *mut f32;
                    // Each index of the first dimension covers `inner` batches.
                    let batches = product
                        .as_ref()
                        .map(|p| p.gemm.batch)
                        .or(consumer.as_ref().map(|c| c.batch))
                        .unwrap_or(extent);
                    let inner = batches / extent.max(1);
                    let layout = &kernel.scratch;
                    for b0 in begin..end {
                        for bi in 0..inner {
                            let Some(p) = product else { break };
                            let g = &p.gemm;
                            let flat = b0 * inner + bi;
                            let a = matrix(&inputs, args, &g.lhs, flat, g.m, g.k);
                            let bm = matrix(&inputs, args, &g.rhs, flat, g.k, g.n);
                            let region = layout.product.expect("a row product has scratch");
                            // Safety: `matrix` checks that the region, inside
                            // scratch, holds this `m × n` matrix.
                            let c = unsafe {
                                std::slice::from_raw_parts_mut(
                                    floats.add(region.matrix(bi, g.m * g.n)),
                                    g.m * g.n,
                                )
                            };
                            sgemm(a, bm, MatMut::new(c, g.m, g.n, g.n), 1, &no_epilogue);
                        }
                        call(&mut scratch, b0, b0 + 1);
                        for bi in 0..inner {
                            let Some(c) = consumer else { break };
                            let flat = b0 * inner + bi;
                            let region = layout.consumer.expect("a row consumer has scratch");
                            // Safety: `matrix` checks that the region, inside
                            // scratch, holds this `m × k` matrix; the output
                            // holds `batch * m * n` f32s.
                            let (lhs, out) = unsafe {
                                (
                                    std::slice::from_raw_parts(
                                        floats.add(region.matrix(bi, c.m * c.k)),
                                        c.m * c.k,
                                    ),
                                    std::slice::from_raw_parts_mut(
                                        (args[inputs.len()] as *mut f32).add(flat * c.m * c.n),
                                        c.m * c.n,
                                    ),
                                )
                            };
                            let rhs = matrix(&inputs, args, &c.rhs, flat, c.k, c.n);
                            let lhs = MatRef::row_major(lhs, c.m, c.k);
                            sgemm(lhs, rhs, MatMut::new(out, c.m, c.n, c.n), 1, &no_epilogue);
                        }
                    }
                }
                Schedule::Sort(sort) => sort::sort_rows(kernel, sort, entry, args, begin, end),
                _ => call(&mut scratch, begin, end),
            }
        };
        if threads == 1 {
            run(0);
        } else {
            (0..threads).into_par_iter().for_each(run);
        }
    }
}

/// The bounds of a kernel's thread parts: `[0, extent)` split evenly over the
/// pool when the kernel moves enough bytes, at multiples of the vector width so
/// that a vector never straddles two parts of an innermost dimension.
fn thread_parts(kernel: &Kernel) -> Vec<usize> {
    let extent = kernel.parallel_extent();
    let shapes = kernel
        .input_shapes()
        .into_iter()
        .chain(kernel.output_shapes());
    let moved: usize = shapes.map(|s| s.byte_size()).sum();
    let threads = if moved >= PARALLEL_BYTES && extent >= 2 {
        rayon::current_num_threads().min(extent)
    } else {
        1
    };
    (0..=threads)
        .map(|t| match t {
            _ if t == threads => extent,
            _ => extent * t / threads / LANES as usize * LANES as usize,
        })
        .collect()
}

/// `bytes` in native-endian 8-byte words, the last one padded with zeros.
fn words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|chunk| {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            u64::from_ne_bytes(word)
        })
        .collect()
}

/// Batch `b` of a strided matrix view of one of a kernel's inputs (`shapes`),
/// whose buffers are at `args`.
fn matrix<'a>(
    shapes: &[&ArrayShape],
    args: &[usize],
    v: &MatrixView,
    b: usize,
    rows: usize,
    cols: usize,
) -> MatRef<'a> {
    let base = args[v.input] as *const f32;
    let count = shapes[v.input].element_count();
    let offset = v.offset(b).min(count);
    // Safety: the input holds `count` f32s from `base`; `sgemm` checks every
    // index of the view against the slice.
    let data = unsafe { std::slice::from_raw_parts(base.add(offset), count - offset) };
    MatRef {
        data,
        rows,
        cols,
        row_stride: v.row_stride,
        col_stride: v.col_stride,
    }
}

/// A result's storage: an `f32` or `s32` vector in its final place where the
/// memory order is the layout's (no copy afterwards), raw bytes otherwise. Vectors
/// are allocated, not zeroed: the kernel that produces a result writes every one
/// of its elements (each schedule covers its outputs' whole index space), and a
/// result no kernel produces is copied from elsewhere instead.
enum ResultBuffer {
    F32(Vec<f32>, usize),
    S32(Vec<i32>, usize),
    Bytes(Vec<u64>),
}

impl ResultBuffer {
    fn new(shape: &ArrayShape) -> ResultBuffer {
        let n = shape.element_count();
        match shape.element {
            _ if !shape.has_default_layout() => Self::bytes(shape),
            ElementType::F32 => ResultBuffer::F32(huge_pages(Vec::with_capacity(n)), n),
            ElementType::S32 => ResultBuffer::S32(huge_pages(Vec::with_capacity(n)), n),
            _ => Self::bytes(shape),
        }
    }

    fn bytes(shape: &ArrayShape) -> ResultBuffer {
        ResultBuffer::Bytes(huge_pages(vec![0; shape.byte_size().div_ceil(8)]))
    }

    fn as_mut_ptr(&mut self) -> *mut u8 {
        match self {
            ResultBuffer::F32(v, _) => v.as_mut_ptr() as *mut u8,
            ResultBuffer::S32(v, _) => v.as_mut_ptr() as *mut u8,
            ResultBuffer::Bytes(words) => words.as_mut_ptr() as *mut u8,
        }
    }

    /// The result, once its kernel has written it.
    fn into_array(self, shape: &ArrayShape) -> Array {
        let dims = IxDyn(&shape.dims);
        let fail = "the buffer holds the shape's elements";
        match self {
            ResultBuffer::F32(mut v, n) => {
                // Safety: the kernel wrote all `n` elements (see the type's docs).
                unsafe { v.set_len(n) };
                Array::F32(ArrayD::from_shape_vec(dims, v).expect(fail))
            }
            ResultBuffer::S32(mut v, n) => {
                // Safety: as above.
                unsafe { v.set_len(n) };
                Array::S32(ArrayD::from_shape_vec(dims, v).expect(fail))
            }
            ResultBuffer::Bytes(words) => {
                // Safety: any initialized u64 storage is valid as bytes.
                let bytes = unsafe {
                    std::slice::from_raw_parts(words.as_ptr() as *const u8, words.len() * 8)
                };
                Array::from_bytes(shape, &bytes[..shape.byte_size()])
            }
        }
    }
}

/// Asks Linux to back the 2 MiB-aligned part of a fresh, untouched vector
/// with transparent huge pages (`MADV_HUGEPAGE`, which the common `madvise`
/// setting of THP requires). A large result is allocated by `mmap` on every
/// run, and first touch of 4 KiB pages costs a fault each: 65 MB of zeros
/// took 24.6 ms to write with them, 6.0 ms with huge pages (2-core EPYC).
/// Advice only: where it is refused, nothing changes.
fn huge_pages<T>(v: Vec<T>) -> Vec<T> {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
        let (first, last) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if last > first {
            // Safety: the range lies inside the vector's allocation, and the
            // advice changes no contents, only how pages are backed.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                )
            };
        }
    }
    v
}

/// The compiled-program cache: a module compiles once per process, keyed by its
/// text (which includes every shape).
pub fn compile_cached(module: &Module) -> Result<Arc<Executable>, RuntimeError> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Executable>>>> = OnceLock::new();
    let key = print_module(module);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(e) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(e.clone());
    }
    let executable = Arc::new(Executable::new(module)?);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, executable.clone());
    Ok(executable)
}
