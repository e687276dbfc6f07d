//! The GPU engine: a fused module's kernels as WGSL compute shaders run through
//! wgpu. Buffers follow the CPU engine's plan (inputs and results in their own
//! buffers, intermediates in one arena reused by liveness), all created once per
//! executable; a run uploads the inputs, records every dispatch into one command
//! encoder, submits once and reads the results back.

mod device;

use std::borrow::Cow;
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use omelet_compiler::hlo::{ArrayShape, Module, print_module};
use omelet_kernels::gpu::{self as codegen, GpuKernel, Target, types};

use omelet_compiler::pipeline::{Stage, compile};

use crate::array::{Array, RuntimeError};
use crate::flow::{Compiler, Engine, Flow};
use crate::plan::{self, Plan, Slot, Storage};
pub use device::{Gpu, adapters, describe, describe_adapter, open};

/// On the GPU every element takes a 32-bit word (`kernels::gpu::types`); every
/// binding holds at least one word, and arena buffers start where any adapter
/// can bind them.
const STORAGE: Storage = Storage {
    bytes: device_bytes,
    align: 256,
    scatter_in_place: false,
};

fn device_bytes(shape: &ArrayShape) -> usize {
    (shape.element_count() * 4).max(4)
}

/// One dispatch, bound and ready.
struct Dispatch {
    pipeline: Arc<wgpu::ComputePipeline>,
    bind_group: wgpu::BindGroup,
    groups: u32,
}

/// The device buffers behind a plan's slots.
struct Buffers {
    inputs: Vec<wgpu::Buffer>,
    constants: Vec<wgpu::Buffer>,
    results: Vec<wgpu::Buffer>,
    arena: wgpu::Buffer,
}

impl Buffers {
    /// The buffer holding `slot`, and where in it the slot starts.
    fn slot(&self, slot: Slot) -> (&wgpu::Buffer, u64) {
        match slot {
            Slot::Input(i) => (&self.inputs[i], 0),
            Slot::Constant(i) => (&self.constants[i], 0),
            Slot::Result(i) => (&self.results[i], 0),
            Slot::Arena { offset } => (&self.arena, offset as u64),
        }
    }
}

/// A compiled program, ready to run any number of times.
pub struct Executable {
    program: Program,
    params: Vec<ArrayShape>,
}

enum Program {
    Straight(Box<Straight>),
    /// Loops and branches between straight-line segments ([`crate::flow`]):
    /// each segment's results are read back, and its inputs written again.
    Flow(Flow<Straight>, Segments),
}

/// The GPU engine of a program's segments: each optimized, fused and compiled.
struct Segments(Arc<Gpu>);

impl Compiler for Segments {
    type Code = Straight;

    fn compile(&mut self, segment: Module) -> Result<Straight, RuntimeError> {
        Straight::new(&compile(segment, Stage::Fused).module, self.0.clone())
    }
}

impl Engine for Segments {
    fn run(&self, code: &Straight, inputs: &[&Array]) -> Result<Vec<Array>, RuntimeError> {
        Ok(code.execute(inputs, false)?.0)
    }
}

impl Executable {
    /// Compiles a fused module for `gpu`.
    pub fn new(module: &Module, gpu: Arc<Gpu>) -> Result<Executable, RuntimeError> {
        let params = plan::parameters(module, "gpu")?;
        let program = match module.has_control_flow() {
            true => {
                let mut segments = Segments(gpu);
                Program::Flow(Flow::new(module, &mut segments)?, segments)
            }
            false => Program::Straight(Box::new(Straight::new(module, gpu)?)),
        };
        Ok(Executable { program, params })
    }

    pub fn run(&self, inputs: &[Array]) -> Result<Vec<Array>, RuntimeError> {
        Ok(self.run_profiled_if(inputs, false)?.0)
    }

    /// Runs once with a timestamp around every dispatch; `None` for the profile
    /// when the adapter has no timestamp queries, or the program has loops or
    /// branches.
    pub fn run_profiled(
        &self,
        inputs: &[Array],
    ) -> Result<(Vec<Array>, Option<Profile>), RuntimeError> {
        self.run_profiled_if(inputs, true)
    }

    fn run_profiled_if(
        &self,
        inputs: &[Array],
        profile: bool,
    ) -> Result<(Vec<Array>, Option<Profile>), RuntimeError> {
        let arrays: Vec<&Array> = inputs.iter().collect();
        match &self.program {
            Program::Straight(code) => code.execute(&arrays, profile),
            Program::Flow(flow, segments) => {
                plan::check_inputs(&arrays, &self.params)?;
                Ok((flow.run(segments, inputs)?, None))
            }
        }
    }
}

/// A program without loops or branches: its kernels, their pipelines and
/// buffers.
struct Straight {
    gpu: Arc<Gpu>,
    kernels: Vec<GpuKernel>,
    dispatches: Vec<Dispatch>,
    plan: Plan,
    params: Vec<ArrayShape>,
    results: Vec<ArrayShape>,
    buffers: Buffers,
    /// The results, copied here to be mapped, at `readback_offsets`.
    readback: wgpu::Buffer,
    readback_offsets: Vec<u64>,
    /// Timestamp queries, two per dispatch, when the adapter has them.
    timer: Option<Timer>,
    /// One run at a time: runs share the buffers.
    running: Mutex<()>,
}

struct Timer {
    queries: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    readback: wgpu::Buffer,
}

/// What a profiled run measured on the GPU.
#[derive(Clone, Debug)]
pub struct Profile {
    /// Each dispatch's time between its pass's start and end timestamps, with
    /// its kernel's name.
    pub kernels: Vec<(String, Duration)>,
}

impl Profile {
    pub fn total(&self) -> Duration {
        self.kernels.iter().map(|(_, t)| *t).sum()
    }
}

impl Straight {
    fn new(module: &Module, gpu: Arc<Gpu>) -> Result<Straight, RuntimeError> {
        let entry = module.entry();
        let target = Target {
            workgroup_storage: gpu.limits.max_compute_workgroup_storage_size as usize,
            subgroups: gpu.subgroups,
        };
        // Every op on every type of at most 32 bits; the 64-bit types are
        // refused, naming the instruction.
        plan::check_supported(module, "gpu", types::supported)?;
        let described = plan::kernels(module)?;
        let kernels: Vec<GpuKernel> = described
            .iter()
            .map(|k| codegen::compile(k, &target).map_err(RuntimeError::unsupported))
            .collect::<Result<_, _>>()?;
        let plan = plan::plan(module, &STORAGE);
        let params = plan::parameters(module, "gpu")?;
        let results = module.result_shapes().to_vec();
        let binding_limit = gpu.limits.max_storage_buffer_binding_size;
        let buffer = |label: &str, size: u64, usage: wgpu::BufferUsages| {
            if size > gpu.limits.max_buffer_size || size > binding_limit {
                return Err(RuntimeError::unsupported(format!(
                    "{label} needs a buffer of {size} bytes; {} binds at most {} bytes",
                    gpu.info.name,
                    binding_limit.min(gpu.limits.max_buffer_size)
                )));
            }
            Ok(gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(4),
                usage,
                mapped_at_creation: false,
            }))
        };
        let storage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST;
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let inputs = params
            .iter()
            .enumerate()
            .map(|(i, s)| buffer(&format!("input {i}"), device_bytes(s) as u64, storage))
            .collect::<Result<Vec<_>, _>>()?;
        let constants = plan
            .constant_values(entry)
            .map(|(array, shape)| {
                let b = buffer("constant", device_bytes(shape) as u64, storage)?;
                gpu.queue.write_buffer(&b, 0, &to_device(&array, shape));
                Ok(b)
            })
            .collect::<Result<Vec<_>, RuntimeError>>()?;
        let outputs = results
            .iter()
            .enumerate()
            .map(|(i, s)| buffer(&format!("result {i}"), device_bytes(s) as u64, storage))
            .collect::<Result<Vec<_>, _>>()?;
        let buffers = Buffers {
            inputs,
            constants,
            results: outputs,
            arena: buffer("arena", plan.arena_bytes as u64, storage)?,
        };
        let mut readback_offsets = Vec::new();
        let mut readback_bytes = 0u64;
        for r in &results {
            readback_offsets.push(readback_bytes);
            readback_bytes += device_bytes(r) as u64;
        }
        let readback = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: readback_bytes.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let max_bindings = gpu.limits.max_storage_buffers_per_shader_stage as usize;
        let mut dispatches = Vec::new();
        for (launch, kernel) in plan.launches.iter().zip(&kernels) {
            let slots: Vec<Slot> = launch
                .inputs
                .iter()
                .chain(&launch.outputs)
                .copied()
                .collect();
            if slots.len() > max_bindings {
                return Err(RuntimeError::unsupported(format!(
                    "kernel {} binds {} arrays; {} allows {max_bindings} per shader",
                    kernel.name,
                    slots.len(),
                    gpu.info.name
                )));
            }
            let described = &described[launch.kernel];
            let shapes: Vec<u64> = described
                .input_shapes()
                .into_iter()
                .chain(described.output_shapes())
                .map(|s| device_bytes(s) as u64)
                .collect();
            let entries: Vec<wgpu::BindGroupEntry> = slots
                .iter()
                .zip(&shapes)
                .enumerate()
                .map(|(i, (&slot, &bytes))| {
                    let (buffer, offset) = buffers.slot(slot);
                    wgpu::BindGroupEntry {
                        binding: i as u32,
                        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                            buffer,
                            offset,
                            size: NonZeroU64::new(bytes),
                        }),
                    }
                })
                .collect();
            let layout = gpu.layout(slots.len());
            let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&kernel.name),
                layout: &layout,
                entries: &entries,
            });
            for shader in &kernel.shaders {
                dispatches.push(Dispatch {
                    pipeline: gpu.pipeline(&shader.name, &shader.wgsl, slots.len())?,
                    bind_group: bind_group.clone(),
                    groups: shader.groups,
                });
            }
        }
        let timer = gpu.timestamps.then(|| {
            let count = (2 * dispatches.len()).max(2) as u32;
            Timer {
                queries: gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("kernel times"),
                    ty: wgpu::QueryType::Timestamp,
                    count,
                }),
                resolved: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("resolved times"),
                    size: u64::from(count) * 8,
                    usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }),
                readback: gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("times"),
                    size: u64::from(count) * 8,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
            }
        });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(RuntimeError::internal(format!(
                "cannot set the program up on {}: {error}",
                gpu.info.name
            )));
        }
        Ok(Straight {
            gpu,
            kernels,
            dispatches,
            plan,
            params,
            results,
            buffers,
            readback,
            readback_offsets,
            timer,
            running: Mutex::new(()),
        })
    }

    /// Runs once; with `profile`, a timestamp around every dispatch (`None`
    /// for the profile when the adapter has no timestamp queries).
    fn execute(
        &self,
        inputs: &[&Array],
        profile: bool,
    ) -> Result<(Vec<Array>, Option<Profile>), RuntimeError> {
        plan::check_inputs(inputs, &self.params)?;
        let _running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let gpu = &self.gpu;
        for ((input, shape), buffer) in inputs.iter().zip(&self.params).zip(&self.buffers.inputs) {
            gpu.queue.write_buffer(buffer, 0, &to_device(input, shape));
        }
        let timer = self.timer.as_ref().filter(|_| profile);
        let mut encoder = gpu
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
        for (i, d) in self.dispatches.iter().enumerate() {
            let timestamp_writes = timer.map(|t| wgpu::ComputePassTimestampWrites {
                query_set: &t.queries,
                beginning_of_pass_write_index: Some(2 * i as u32),
                end_of_pass_write_index: Some(2 * i as u32 + 1),
            });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: None,
                timestamp_writes,
            });
            pass.set_pipeline(&d.pipeline);
            pass.set_bind_group(0, &d.bind_group, &[]);
            pass.dispatch_workgroups(d.groups, 1, 1);
        }
        for (r, shape) in self.results.iter().enumerate() {
            let (buffer, offset) = self.buffers.slot(self.plan.results[r]);
            encoder.copy_buffer_to_buffer(
                buffer,
                offset,
                &self.readback,
                self.readback_offsets[r],
                device_bytes(shape) as u64,
            );
        }
        let queries = 2 * self.dispatches.len() as u32;
        if let Some(t) = timer.filter(|_| queries > 0) {
            encoder.resolve_query_set(&t.queries, 0..queries, &t.resolved, 0);
            encoder.copy_buffer_to_buffer(&t.resolved, 0, &t.readback, 0, u64::from(queries) * 8);
        }
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        gpu.queue.submit([encoder.finish()]);
        let results = read(gpu, &self.readback, |bytes| {
            self.results
                .iter()
                .zip(&self.readback_offsets)
                .map(|(shape, &offset)| {
                    let offset = offset as usize;
                    from_device(&bytes[offset..offset + device_bytes(shape)], shape)
                })
                .collect()
        })?;
        let profile = match timer.filter(|_| queries > 0) {
            Some(t) => {
                let stamps: Vec<u64> = read(gpu, &t.readback, |bytes| {
                    bytes
                        .chunks_exact(8)
                        .map(|w| u64::from_le_bytes(w.try_into().expect("eight bytes")))
                        .collect()
                })?;
                let period = f64::from(gpu.queue.get_timestamp_period());
                let names = self.kernels.iter().flat_map(|k| &k.shaders);
                let kernels = names
                    .enumerate()
                    .map(|(i, s)| {
                        let ns = stamps[2 * i + 1].saturating_sub(stamps[2 * i]) as f64 * period;
                        (s.name.clone(), Duration::from_nanos(ns as u64))
                    })
                    .collect();
                Some(Profile { kernels })
            }
            None => None,
        };
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(RuntimeError::internal(format!(
                "the GPU run failed: {error}"
            )));
        }
        Ok((results, profile))
    }
}

/// The WGSL of each shader of a fused module, as generated for an adapter with
/// WebGPU's default limits and no subgroups (for dumps, which need no device).
pub fn wgsl(module: &Module) -> Result<Vec<(String, String)>, RuntimeError> {
    // What the engine refuses, the shader generator does not take either.
    plan::check_supported(module, "gpu", types::supported)?;
    if module.has_control_flow() {
        let flow = Flow::new(module, &mut Shaders)?;
        return Ok(flow.segments().into_iter().flatten().cloned().collect());
    }
    let mut shaders = Vec::new();
    for kernel in plan::kernels(module)? {
        let compiled =
            codegen::compile(&kernel, &Target::default()).map_err(RuntimeError::unsupported)?;
        shaders.extend(compiled.shaders.into_iter().map(|s| (s.name, s.wgsl)));
    }
    Ok(shaders)
}

/// The shaders of a program's segments, each optimized and fused as the
/// engine compiles it.
struct Shaders;

impl Compiler for Shaders {
    type Code = Vec<(String, String)>;

    fn compile(&mut self, segment: Module) -> Result<Self::Code, RuntimeError> {
        wgsl(&compile(segment, Stage::Fused).module)
    }
}

/// Maps `buffer`, waits for the GPU, and converts its bytes in place.
fn read<T>(
    gpu: &Gpu,
    buffer: &wgpu::Buffer,
    convert: impl FnOnce(&[u8]) -> T,
) -> Result<T, RuntimeError> {
    let (tx, rx) = std::sync::mpsc::channel();
    buffer.map_async(wgpu::MapMode::Read, .., move |r| {
        let _ = tx.send(r);
    });
    gpu.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| RuntimeError::internal(format!("the GPU did not finish: {e}")))?;
    rx.recv()
        .map_err(|_| RuntimeError::internal("the GPU dropped a readback"))?
        .map_err(|e| RuntimeError::internal(format!("cannot read the GPU's results: {e}")))?;
    let value =
        convert(&buffer.get_mapped_range(..).map_err(|e| {
            RuntimeError::internal(format!("cannot read the GPU's results: {e:?}"))
        })?);
    buffer.unmap();
    Ok(value)
}

/// An array's bytes as the device stores them: its layout's order, each
/// element widened to its 32-bit word (`types::to_word`).
fn to_device<'a>(array: &'a Array, shape: &ArrayShape) -> Cow<'a, [u8]> {
    let bytes = array.bytes(shape);
    let size = shape.element.byte_size();
    if size == 4 {
        return bytes;
    }
    bytes
        .chunks_exact(size)
        .flat_map(|b| {
            let bits = b
                .iter()
                .rev()
                .fold(0u64, |bits, &byte| (bits << 8) | u64::from(byte));
            types::to_word(shape.element, bits).to_le_bytes()
        })
        .collect()
}

/// An array from the device's words, each narrowed to its element type.
fn from_device(bytes: &[u8], shape: &ArrayShape) -> Array {
    let count = shape.element_count();
    let size = shape.element.byte_size();
    if size == 4 {
        return Array::from_bytes(shape, &bytes[..shape.byte_size()]);
    }
    let packed: Vec<u8> = bytes
        .chunks_exact(4)
        .take(count)
        .flat_map(|w| {
            let word = u32::from_le_bytes(w.try_into().expect("four bytes"));
            let bits = types::from_word(shape.element, word);
            bits.to_le_bytes().into_iter().take(size)
        })
        .collect();
    Array::from_bytes(shape, &packed)
}

/// The compiled-program cache: a module compiles once per process and device,
/// keyed by its text.
pub fn compile_cached(module: &Module, gpu: Arc<Gpu>) -> Result<Arc<Executable>, RuntimeError> {
    /// Keyed by the module's text and the adapter's description.
    type Cache = Mutex<HashMap<(String, String), Arc<Executable>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (print_module(module), describe(&gpu.info));
    let cache = CACHE.get_or_init(Default::default);
    if let Some(e) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(e.clone());
    }
    let executable = Arc::new(Executable::new(module, gpu)?);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, executable.clone());
    Ok(executable)
}
