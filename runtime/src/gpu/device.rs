//! The GPU device: adapter selection, one device per adapter per process, and
//! its cache of compiled pipelines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::array::RuntimeError;

/// The variable that picks an adapter when no `--device` is given: an index
/// from `omelet run --list-devices`, or part of an adapter's name.
pub const DEVICE_VARIABLE: &str = "OMELET_GPU";

/// An open device and what the code generator needs to know of it.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Whether compute passes can write timestamps (per-kernel GPU time).
    pub timestamps: bool,
    /// Whether shaders may use subgroup operations.
    pub subgroups: bool,
    pipelines: Mutex<HashMap<String, Arc<wgpu::ComputePipeline>>>,
    layouts: Mutex<HashMap<usize, Arc<wgpu::BindGroupLayout>>>,
}

fn instance() -> &'static wgpu::Instance {
    static INSTANCE: OnceLock<wgpu::Instance> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        // No validation layers unless asked for (WGPU_DEBUG and friends).
        desc.flags = wgpu::InstanceFlags::empty().with_env();
        wgpu::Instance::new(desc)
    })
}

/// Every adapter wgpu finds, in its order.
pub fn adapters() -> Vec<wgpu::Adapter> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
}

/// One line describing an adapter.
pub fn describe(info: &wgpu::AdapterInfo) -> String {
    let driver = [info.driver.as_str(), info.driver_info.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "{} ({:?}, {:?}{}{})",
        info.name,
        info.backend,
        info.device_type,
        if driver.is_empty() { "" } else { ", " },
        driver
    )
}

/// One line describing an adapter and the optional features the backend uses
/// that it offers.
pub fn describe_adapter(adapter: &wgpu::Adapter) -> String {
    let features = adapter.features();
    let offers: Vec<&str> = [
        (wgpu::Features::TIMESTAMP_QUERY, "timestamps"),
        (wgpu::Features::SUBGROUP, "subgroups"),
    ]
    .into_iter()
    .filter(|(f, _)| features.contains(*f))
    .map(|(_, name)| name)
    .collect();
    format!("{} [{}]", describe(&adapter.get_info()), offers.join(", "))
}

/// The device on the adapter `pick` names (an index or part of a name; `None`:
/// the variable's choice, else the highest-performance adapter), opened once
/// per process.
pub fn open(pick: Option<&str>) -> Result<Arc<Gpu>, RuntimeError> {
    static OPEN: OnceLock<Mutex<HashMap<Option<String>, Arc<Gpu>>>> = OnceLock::new();
    let from_env = std::env::var(DEVICE_VARIABLE)
        .ok()
        .filter(|s| !s.is_empty());
    let pick = pick.map(str::to_string).or(from_env);
    let open = OPEN.get_or_init(Default::default);
    let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(gpu) = open.get(&pick) {
        return Ok(gpu.clone());
    }
    let adapter = choose(pick.as_deref())?;
    let gpu = Arc::new(Gpu::new(adapter)?);
    open.insert(pick, gpu.clone());
    Ok(gpu)
}

fn choose(pick: Option<&str>) -> Result<wgpu::Adapter, RuntimeError> {
    let Some(pick) = pick else {
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        };
        return pollster::block_on(instance().request_adapter(&options)).map_err(|_| {
            RuntimeError::unavailable("no GPU adapter found (none that wgpu can use)")
        });
    };
    let mut all = adapters();
    if all.is_empty() {
        return Err(RuntimeError::unavailable(
            "no GPU adapter found (none that wgpu can use)",
        ));
    }
    let found = match pick.parse::<usize>() {
        Ok(i) => (i < all.len()).then_some(i),
        Err(_) => {
            let needle = pick.to_lowercase();
            all.iter()
                .position(|a| a.get_info().name.to_lowercase().contains(&needle))
        }
    };
    match found {
        Some(i) => Ok(all.swap_remove(i)),
        None => Err(RuntimeError::unavailable(format!(
            "no GPU adapter matches `{pick}` (see `omelet run --list-devices`)"
        ))),
    }
}

impl Gpu {
    fn new(adapter: wgpu::Adapter) -> Result<Gpu, RuntimeError> {
        let info = adapter.get_info();
        // Everything the adapter allows: the largest bindings and workgroup memory.
        let limits = adapter.limits();
        // The optional features the backend uses, where the adapter has them.
        let features =
            adapter.features() & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP);
        let desc = wgpu::DeviceDescriptor {
            label: Some("omelet"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| RuntimeError::unavailable(format!("cannot open {}: {e}", info.name)))?;
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            timestamps: features.contains(wgpu::Features::TIMESTAMP_QUERY),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            pipelines: Mutex::new(HashMap::new()),
            layouts: Mutex::new(HashMap::new()),
        })
    }

    /// The same device with subgroup operations left unused, so that the
    /// shaders written for adapters without them are tested on one that has
    /// them (own pipeline cache).
    pub fn without_subgroups(&self) -> Arc<Gpu> {
        Arc::new(Gpu {
            device: self.device.clone(),
            queue: self.queue.clone(),
            info: self.info.clone(),
            limits: self.limits.clone(),
            timestamps: self.timestamps,
            subgroups: false,
            pipelines: Mutex::new(HashMap::new()),
            layouts: Mutex::new(HashMap::new()),
        })
    }

    /// The bind group layout of `count` read-write storage buffers, bindings
    /// `0..count`, that every shader of a kernel with `count` arguments uses.
    pub fn layout(&self, count: usize) -> Arc<wgpu::BindGroupLayout> {
        let mut layouts = self.layouts.lock().unwrap_or_else(|e| e.into_inner());
        layouts
            .entry(count)
            .or_insert_with(|| {
                let entries: Vec<wgpu::BindGroupLayoutEntry> = (0..count as u32)
                    .map(|binding| wgpu::BindGroupLayoutEntry {
                        binding,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: wgpu::BindingType::Buffer {
                            ty: wgpu::BufferBindingType::Storage { read_only: false },
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                        count: None,
                    })
                    .collect();
                Arc::new(
                    self.device
                        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                            label: None,
                            entries: &entries,
                        }),
                )
            })
            .clone()
    }

    /// The pipeline of a WGSL shader with `count` bindings, compiled once per
    /// device.
    pub fn pipeline(
        &self,
        name: &str,
        wgsl: &str,
        count: usize,
    ) -> Result<Arc<wgpu::ComputePipeline>, RuntimeError> {
        if let Some(p) = self
            .pipelines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(wgsl)
        {
            return Ok(p.clone());
        }
        let layout = self.layout(count);
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(wgsl.into()),
            });
        let pipeline_layout = self
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: None,
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        if let Some(error) = pollster::block_on(scope.pop()) {
            return Err(RuntimeError::internal(format!(
                "kernel {name} does not compile for {}: {error}",
                self.info.name
            )));
        }
        let pipeline = Arc::new(pipeline);
        self.pipelines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(wgsl.to_string(), pipeline.clone());
        Ok(pipeline)
    }
}
