//! Every program with an independent answer, checked against it:
//! - fixtures: `tests/jax/*/` (JAX programs), `tests/xla/*/` (hand-written HLO with
//!   XLA's outputs), `tests/om/*/` (`.om` scripts with their JAX twins' outputs);
//! - examples: `examples/*.om`, traced for fixed shapes and random inputs.
//!
//! Trials, per fixture:
//! - `interp::NAME`: the interpreter reproduces the expected outputs within the
//!   fixture's tolerance (scripts are traced first, for their inputs' shapes);
//! - `print::NAME` (HLO fixtures): the printed module matches `printed.hlo`;
//! - `roundtrip::NAME`: printing, parsing and printing again changes nothing;
//! - `xla::NAME`: XLA's own parser accepts the printed module and runs it to the
//!   expected outputs;
//! - `optimized::NAME`, `fused::NAME`: the module after rewriting, and after fusion
//!   (fusions run as calls), reproduces the expected outputs on the interpreter, and
//!   the fused module survives printing and parsing;
//! - `xla-fused::NAME`: XLA parses the printed fused module and runs it to the
//!   expected outputs;
//! - `cpu::NAME`: the CPU backend (Cranelift) runs the fused module to the
//!   expected outputs;
//! - `wgsl::NAME`: naga parses and validates every shader the GPU backend
//!   generates for the fused module (no GPU needed);
//! - `gpu::NAME`: the GPU backend (WGSL through wgpu), on the adapter
//!   `OMELET_GPU` picks (Mesa's software Vulkan in CI). Without an adapter these
//!   are ignored, with the reason printed; where `OMELET_REQUIRE_TOOLS` is set
//!   (`.ci/run`) that is a failure. Where the
//!   adapter has subgroup operations, `gpu-nosubgroups::NAME` runs the shaders
//!   written for adapters without them.
//!
//! A fixture whose program a backend cannot run yet lists the backend's refusal
//! in `unsupported.txt`, one `BACKEND: message` line per backend (`cpu`, `wgsl`,
//! `gpu`): that trial passes when the backend refuses with exactly that message,
//! and fails when it refuses otherwise or starts to run the program (remove the
//! line; `BLESS=1` rewrites the file from what the backends say).
//!
//! and per example: `traced::NAME` (the traced HLO matches its golden file in
//! `tests/golden/examples/`) and `xla::NAME` (XLA runs the traced module to the
//! interpreter's outputs). `BLESS=1` rewrites golden files. The `xla::` trials need
//! Python with jax (`tests/xla_check.py` runs XLA); where it is missing they are
//! ignored with a printed reason, except where `OMELET_REQUIRE_TOOLS` is set
//! (`.ci/run`), where they run and fail.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};
use ndarray::{ArrayD, Dimension, IxDyn};
use omelet_compiler::hlo::{ElementType, Module, print_module};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_compiler::trace::{KnownShapes, Tracer, main_parameters};
use omelet_runtime::{Array, cpu, gpu, interp, npy};

use support::{
    check_golden, compare, fixture_dirs, fixture_name, gpu_device, gpu_device_without_subgroups,
    ignore_gpu_trials, ignore_without, numbered_npy, python_jax, root, tolerances,
};

/// Symbolic dimensions the examples are traced with.
const EXAMPLE_DIMS: &[(&str, usize)] = &[("B", 2), ("T", 16), ("N", 8)];

fn main() {
    let args = Arguments::from_args();
    let mut programs: Vec<Program> = fixture_dirs().into_iter().map(Program::Fixture).collect();
    programs.extend(examples().into_iter().map(Program::Example));
    let xla = Arc::new(XlaBatch {
        programs: programs.clone(),
        work: OnceLock::new(),
    });
    let mut trials = Vec::new();
    let no_gpu = ignore_gpu_trials();
    let no_jax = ignore_without("xla", &python_jax());
    for program in programs {
        let name = program.name();
        match &program {
            Program::Fixture(dir) => {
                let d = dir.clone();
                trials.push(Trial::test(format!("interp::{name}"), move || {
                    interp_matches(&d)
                }));
                if !dir.join("script.om").exists() {
                    let d = dir.clone();
                    trials.push(Trial::test(format!("print::{name}"), move || {
                        printed_matches_golden(&d)
                    }));
                }
                let d = dir.clone();
                trials.push(Trial::test(format!("roundtrip::{name}"), move || {
                    roundtrip(&load_fixture(&d)?)
                }));
            }
            Program::Example(path) => {
                let p = path.clone();
                trials.push(Trial::test(format!("traced::{name}"), move || {
                    traced_matches_golden(&p)
                }));
            }
        }
        for stage in [Stage::Optimized, Stage::Fused] {
            let p = program.clone();
            trials.push(Trial::test(
                format!("{}::{name}", stage_name(stage)),
                move || stage_matches(&p, stage),
            ));
        }
        let p = program.clone();
        trials.push(Trial::test(format!("cpu::{name}"), move || cpu_matches(&p)));
        let p = program.clone();
        trials.push(Trial::test(format!("wgsl::{name}"), move || {
            wgsl_validates(&p)
        }));
        let p = program.clone();
        trials.push(
            Trial::test(format!("gpu::{name}"), move || {
                gpu_matches(&p, gpu_device()?)
            })
            .with_ignored_flag(no_gpu),
        );
        if let Some(without) = gpu_device_without_subgroups() {
            let p = program.clone();
            trials.push(Trial::test(format!("gpu-nosubgroups::{name}"), move || {
                gpu_matches(&p, without)
            }));
        }
        let x = xla.clone();
        let p = program.clone();
        trials.push(
            Trial::test(format!("xla::{name}"), move || x.check(&p, Stage::Traced))
                .with_ignored_flag(no_jax),
        );
        let xla = xla.clone();
        trials.push(
            Trial::test(format!("xla-fused::{name}"), move || {
                xla.check(&program, Stage::Fused)
            })
            .with_ignored_flag(no_jax),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}

#[derive(Clone)]
enum Program {
    Fixture(PathBuf),
    Example(PathBuf),
}

impl Program {
    fn name(&self) -> String {
        match self {
            Program::Fixture(dir) => fixture_name(dir),
            Program::Example(path) => {
                format!("examples/{}", path.file_stem().unwrap().to_string_lossy())
            }
        }
    }

    fn instance(&self) -> Result<Instance, Failed> {
        match self {
            Program::Fixture(dir) => Ok(Instance {
                module: load_fixture(dir)?,
                inputs: numbered_npy(dir, "in"),
                expected: numbered_npy(dir, "expected"),
                tolerances: tolerances(dir),
            }),
            Program::Example(path) => {
                let module = trace_example(path)?;
                let inputs = example_inputs(&module);
                let expected = interp::run(&module, &inputs).map_err(|e| e.to_string())?;
                Ok(Instance {
                    module,
                    inputs,
                    expected,
                    tolerances: (1e-4, 1e-4),
                })
            }
        }
    }
}

/// A program ready to check: the module, its inputs, and the outputs to expect
/// within (rtol, atol).
struct Instance {
    module: Module,
    inputs: Vec<Array>,
    expected: Vec<Array>,
    tolerances: (f64, f64),
}

fn examples() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.extension().is_some_and(|e| e == "om"))
        .collect();
    paths.sort();
    paths
}

/// A fixture's module: its script traced for its inputs' shapes, or its HLO.
fn load_fixture(dir: &Path) -> Result<Module, Failed> {
    let script = dir.join("script.om");
    if !script.exists() {
        let text = std::fs::read_to_string(dir.join("module.hlo")).map_err(|e| e.to_string())?;
        return Ok(parse_module(&text).map_err(|e| format!("{e:?}"))?);
    }
    let inputs = numbered_npy(dir, "in");
    trace(&script, |params| KnownShapes {
        inputs: params
            .iter()
            .cloned()
            .zip(inputs.iter().map(Array::shape))
            .collect(),
        ..KnownShapes::default()
    })
}

fn trace_example(path: &Path) -> Result<Module, Failed> {
    trace(path, |_| KnownShapes {
        dims: EXAMPLE_DIMS
            .iter()
            .map(|&(n, d)| (n.to_string(), d))
            .collect(),
        ..KnownShapes::default()
    })
}

fn trace(path: &Path, known: impl FnOnce(&[String]) -> KnownShapes) -> Result<Module, Failed> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let program = omelet_grammar::omelet::parse(&source).map_err(|e| format!("{e:?}"))?;
    let params = main_parameters(&program).map_err(|e| format!("{e:?}"))?;
    let name = path
        .parent()
        .and_then(Path::file_name)
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    Ok(Tracer::trace(&program, &name, &known(&params)).map_err(|e| format!("{e:?}"))?)
}

/// Deterministic inputs of moderate size for an example's parameters.
fn example_inputs(module: &Module) -> Vec<Array> {
    module
        .parameter_shapes()
        .iter()
        .enumerate()
        .map(|(p, shape)| {
            let a = shape.as_array().expect("array parameters");
            let value = |i: &[usize]| {
                let flat = i.iter().fold(p * 7919, |acc, &x| acc * 31 + x);
                ((flat * 2654435761) % 1000) as f32 / 500.0 - 1.0
            };
            match a.element {
                ElementType::F32 => {
                    Array::F32(ArrayD::from_shape_fn(IxDyn(&a.dims), |i| value(i.slice())))
                }
                ElementType::S32 => Array::S32(ArrayD::from_shape_fn(IxDyn(&a.dims), |i| {
                    (value(i.slice()) * 10.0) as i32
                })),
                ElementType::Pred => Array::Pred(ArrayD::from_shape_fn(IxDyn(&a.dims), |i| {
                    value(i.slice()) > 0.0
                })),
                other => panic!("no {other} inputs in the golden programs"),
            }
        })
        .collect()
}

fn interp_matches(dir: &Path) -> Result<(), Failed> {
    let case = Program::Fixture(dir.to_path_buf()).instance()?;
    let results = interp::run(&case.module, &case.inputs).map_err(|e| e.to_string())?;
    let (rtol, atol) = case.tolerances;
    Ok(compare(&results, &case.expected, rtol, atol)?)
}

fn stage_name(stage: Stage) -> &'static str {
    match stage {
        Stage::Traced => "traced",
        Stage::Optimized => "optimized",
        Stage::Fused => "fused",
    }
}

fn stage_matches(program: &Program, stage: Stage) -> Result<(), Failed> {
    let case = program.instance()?;
    let module = compile(case.module, stage).module;
    let results = interp::run(&module, &case.inputs).map_err(|e| e.to_string())?;
    let (rtol, atol) = case.tolerances;
    compare(&results, &case.expected, rtol, atol)?;
    roundtrip(&module)
}

/// `result`, unless it is a refusal that the fixture records for `backend` in
/// its `unsupported.txt` (`Ok(None)`: refused as expected).
fn unless_unsupported<T>(
    program: &Program,
    backend: &str,
    result: Result<T, String>,
) -> Result<Option<T>, Failed> {
    let Program::Fixture(dir) = program else {
        return Ok(Some(result?));
    };
    // Trials run in parallel, and each backend's trial rewrites its own line of
    // the one file: one at a time.
    static FILE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = FILE.lock().unwrap_or_else(|e| e.into_inner());
    let path = dir.join("unsupported.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let prefix = format!("{backend}: ");
    let recorded = text.lines().find_map(|l| l.strip_prefix(&prefix));
    if std::env::var_os("BLESS").is_some() {
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with(&prefix))
            .map(str::to_string)
            .collect();
        if let Err(message) = &result {
            lines.push(format!("{prefix}{message}"));
        }
        lines.sort();
        if lines.is_empty() {
            let _ = std::fs::remove_file(&path);
        } else {
            std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
        }
        return Ok(result.ok());
    }
    match (result, recorded) {
        (Ok(_), Some(_)) => Err(format!(
            "the {backend} backend now compiles this program: remove its line from {}",
            path.display()
        )
        .into()),
        (Ok(value), None) => Ok(Some(value)),
        (Err(message), Some(expected)) if message == expected => Ok(None),
        (Err(message), Some(expected)) => Err(format!(
            "the {backend} backend refused with\n  {message}\nbut {} expects\n  {expected}",
            path.display()
        )
        .into()),
        (Err(message), None) => Err(message.into()),
    }
}

fn cpu_matches(program: &Program) -> Result<(), Failed> {
    let case = program.instance()?;
    let module = compile(case.module, Stage::Fused).module;
    let compiled = cpu::Executable::new(&module).map_err(|e| e.to_string());
    let Some(executable) = unless_unsupported(program, "cpu", compiled)? else {
        return Ok(());
    };
    let results = executable.run(&case.inputs).map_err(|e| e.to_string())?;
    let (rtol, atol) = case.tolerances;
    Ok(compare(&results, &case.expected, rtol, atol)?)
}

fn wgsl_validates(program: &Program) -> Result<(), Failed> {
    let module = compile(program.instance()?.module, Stage::Fused).module;
    let shaders = gpu::wgsl(&module).map_err(|e| e.to_string());
    let Some(shaders) = unless_unsupported(program, "wgsl", shaders)? else {
        return Ok(());
    };
    for (name, wgsl) in shaders {
        let parsed = naga::front::wgsl::parse_str(&wgsl)
            .map_err(|e| format!("kernel {name}: {}\n{wgsl}", e.emit_to_string(&wgsl)))?;
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&parsed)
        .map_err(|e| format!("kernel {name}: {}\n{wgsl}", e.emit_to_string(&wgsl)))?;
    }
    Ok(())
}

fn gpu_matches(program: &Program, device: Arc<gpu::Gpu>) -> Result<(), Failed> {
    let case = program.instance()?;
    let module = compile(case.module, Stage::Fused).module;
    let compiled = gpu::Executable::new(&module, device).map_err(|e| e.to_string());
    let Some(executable) = unless_unsupported(program, "gpu", compiled)? else {
        return Ok(());
    };
    let results = executable.run(&case.inputs).map_err(|e| e.to_string())?;
    let (rtol, atol) = case.tolerances;
    Ok(compare(&results, &case.expected, rtol, atol)?)
}

fn printed_matches_golden(dir: &Path) -> Result<(), Failed> {
    Ok(check_golden(
        &dir.join("printed.hlo"),
        &print_module(&load_fixture(dir)?),
    )?)
}

fn traced_matches_golden(path: &Path) -> Result<(), Failed> {
    let golden = root()
        .join("tests/golden/examples")
        .join(path.file_stem().unwrap())
        .with_extension("hlo");
    Ok(check_golden(&golden, &print_module(&trace_example(path)?))?)
}

fn roundtrip(module: &Module) -> Result<(), Failed> {
    let printed = print_module(module);
    let reparsed =
        parse_module(&printed).map_err(|e| format!("the printed module does not parse: {e:?}"))?;
    if print_module(&reparsed) != printed {
        return Err("print(parse(print(m))) != print(m)".into());
    }
    Ok(())
}

/// Runs every program's printed module through XLA once, in one Python process,
/// the first time any `xla::` trial asks.
struct XlaBatch {
    programs: Vec<Program>,
    work: OnceLock<Result<PathBuf, String>>,
}

impl XlaBatch {
    fn check(&self, program: &Program, stage: Stage) -> Result<(), Failed> {
        let work = self.work.get_or_init(|| self.run()).as_ref()?;
        let out = work.join(stage_name(stage)).join(program.name());
        if let Ok(error) = std::fs::read_to_string(out.join("error.txt")) {
            return Err(format!("XLA rejected or failed on the printed module: {error}").into());
        }
        let case = program.instance()?;
        let (rtol, atol) = case.tolerances;
        let expected = case.expected;
        Ok(compare(&numbered_npy(&out, "out"), &expected, rtol, atol)?)
    }

    fn run(&self) -> Result<PathBuf, String> {
        python_jax()?;
        let work = std::env::temp_dir().join(format!("omelet-xla-{}", std::process::id()));
        let mut jobs = Vec::new();
        for program in &self.programs {
            let Ok(Instance { module, inputs, .. }) = program.instance() else {
                continue; // the program's other trials report why
            };
            let inputs_dir = work.join("inputs").join(program.name());
            std::fs::create_dir_all(&inputs_dir).map_err(|e| e.to_string())?;
            let mut input_paths = Vec::new();
            for (i, input) in inputs.iter().enumerate() {
                let path = inputs_dir.join(format!("in{i}.npy"));
                npy::write(&path, input)?;
                input_paths.push(path);
            }
            let fused = compile(module.clone(), Stage::Fused).module;
            for (stage, module) in [(Stage::Traced, &module), (Stage::Fused, &fused)] {
                let out = work.join(stage_name(stage)).join(program.name());
                std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
                let module_path = out.join("printed.hlo");
                std::fs::write(&module_path, print_module(module)).map_err(|e| e.to_string())?;
                jobs.push(
                    serde_json::json!({"module": module_path, "out": out, "inputs": input_paths}),
                );
            }
        }
        let mut child = Command::new("python3")
            .arg(root().join("tests/xla_check.py"))
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        serde_json::to_writer(child.stdin.take().expect("piped"), &jobs)
            .map_err(|e| e.to_string())?;
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("tests/xla_check.py failed: {status}"));
        }
        Ok(work)
    }
}
