//! The `omelet` command (CLI.md): `run` a program (HLO text or a `.om` script),
//! print its `hlo`, `bench` it on each backend.
//! Exit status: 0 success, 2 user error, 3 backend unavailable, 1 internal error.

// The one unsafe call is restoring SIGPIPE's default, below.
#![deny(unsafe_code)]

mod bench;
mod diagnostics;
mod inputs;
mod program;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use omelet_compiler::hlo::Module;
use omelet_compiler::hlo::print_module;
use std::sync::Arc;

use omelet_compiler::{cost, dump, pipeline};
use omelet_runtime::{Array, RuntimeError, RuntimeErrorKind, cpu, gpu, interp, memory, npy};

use inputs::InputArgs;

#[derive(Parser)]
#[command(
    name = "omelet",
    version,
    about = "Compile, run and inspect array programs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile and run a program once.
    Run {
        #[arg(required_unless_present = "list_devices")]
        program: Option<PathBuf>,
        #[command(flatten)]
        inputs: InputArgs,
        #[arg(long, value_enum, default_value = "cpu")]
        backend: Backend,
        #[command(flatten)]
        device: DeviceArgs,
        /// List the GPU adapters wgpu finds (for `--device`), then exit.
        #[arg(long)]
        list_devices: bool,
        /// Write each result as DIR/out0.npy, DIR/out1.npy, ...
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the program's module at a stage of compilation.
    Hlo {
        program: PathBuf,
        #[command(flatten)]
        inputs: InputArgs,
        #[arg(long, value_enum, default_value = "traced")]
        stage: Stage,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Add the rewrite and fusion report: rules fired, e-graph size, each
        /// kernel's ops, layout decisions and estimates, refused fusions.
        #[arg(long)]
        explain: bool,
    },
    /// Time programs on backends: compile time, then the median, min and max of
    /// N runs after a warm-up, with GB/s and GFLOP/s from the kernel estimates.
    Bench {
        #[arg(required = true)]
        programs: Vec<PathBuf>,
        #[command(flatten)]
        inputs: InputArgs,
        #[arg(long, value_enum, value_delimiter = ',', default_value = "interp")]
        backends: Vec<Backend>,
        #[command(flatten)]
        device: DeviceArgs,
        /// Timed runs per program and backend, at least 1.
        #[arg(long, default_value_t = 10, value_parser = at_least_one)]
        iters: usize,
        /// Print one JSON document instead of a table.
        #[arg(long)]
        json: bool,
        /// Also write a bar chart of the median times.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
}

/// Which GPU adapter `--backend gpu` uses.
#[derive(clap::Args, Clone, Default)]
pub struct DeviceArgs {
    /// The adapter: its index in `--list-devices`, or part of its name. Without
    /// it, the OMELET_GPU variable's choice, else the highest-performance one.
    #[arg(long, value_name = "INDEX|NAME")]
    device: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// The reference interpreter (ndarray, unfused): the oracle.
    Interp,
    /// Fused kernels JIT-compiled by Cranelift.
    Cpu,
    /// Fused kernels as WGSL compute shaders, run through wgpu.
    Gpu,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Interp => "interp",
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }
}

/// A program compiled for one backend, ready to run any number of times.
enum Prepared {
    Interp(Module),
    Cpu {
        executable: Arc<cpu::Executable>,
        kernels: usize,
    },
    Gpu {
        executable: Arc<gpu::Executable>,
        kernels: usize,
    },
}

impl Prepared {
    /// Compiles `module` (as traced) for `backend`.
    fn new(backend: Backend, module: &Module, device: &DeviceArgs) -> Result<Prepared, CliError> {
        match backend {
            Backend::Interp => {
                memory::check(
                    memory::interp_bytes(module),
                    "every array the interpreter computes",
                )
                .map_err(|e| CliError::from_runtime("the program cannot run", e))?;
                Ok(Prepared::Interp(module.clone()))
            }
            Backend::Cpu => {
                let fused = pipeline::compile(module.clone(), pipeline::Stage::Fused).module;
                memory::check(
                    memory::cpu_bytes(&fused),
                    "inputs, results, constants and intermediates",
                )
                .map_err(|e| CliError::from_runtime("the program cannot run", e))?;
                let executable = cpu::compile_cached(&fused).map_err(|e| {
                    CliError::from_runtime("the cpu backend cannot take this program", e)
                })?;
                Ok(Prepared::Cpu {
                    executable,
                    kernels: cost::kernels(&fused).len(),
                })
            }
            Backend::Gpu => {
                let device = gpu::open(device.device.as_deref())
                    .map_err(|e| CliError::from_runtime("backend gpu is unavailable", e))?;
                let fused = pipeline::compile(module.clone(), pipeline::Stage::Fused).module;
                let executable = gpu::compile_cached(&fused, device).map_err(|e| {
                    CliError::from_runtime("the gpu backend cannot take this program", e)
                })?;
                Ok(Prepared::Gpu {
                    executable,
                    kernels: cost::kernels(&fused).len(),
                })
            }
        }
    }

    fn run(&self, inputs: &[Array]) -> Result<Vec<Array>, CliError> {
        let failed = |e| CliError::from_runtime("the program cannot run", e);
        match self {
            Prepared::Interp(module) => interp::run(module, inputs).map_err(failed),
            Prepared::Cpu { executable, .. } => executable.run(inputs).map_err(failed),
            Prepared::Gpu { executable, .. } => executable.run(inputs).map_err(failed),
        }
    }

    /// GPU only: the median over `iters` profiled runs of the kernels' time on
    /// the device, from timestamp queries.
    fn kernel_time(&self, inputs: &[Array], iters: usize) -> Result<Option<f64>, CliError> {
        let Prepared::Gpu { executable, .. } = self else {
            return Ok(None);
        };
        let mut times = Vec::with_capacity(iters);
        for _ in 0..iters {
            let (_, profile) = executable
                .run_profiled(inputs)
                .map_err(|e| CliError::from_runtime("the program cannot run", e))?;
            match profile {
                Some(p) => times.push(p.total().as_secs_f64()),
                None => return Ok(None),
            }
        }
        times.sort_by(f64::total_cmp);
        Ok(times.get(times.len() / 2).copied())
    }

    /// Kernels one run launches.
    fn kernels(&self) -> usize {
        match self {
            Prepared::Interp(module) => cost::kernels(module).len(),
            Prepared::Cpu { kernels, .. } | Prepared::Gpu { kernels, .. } => *kernels,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Stage {
    /// As read or traced, before any optimization.
    Traced,
    /// After equality saturation: algebra and layout rewrites.
    Optimized,
    /// Kernels formed: each a `fusion` instruction.
    Fused,
}

impl From<Stage> for pipeline::Stage {
    fn from(stage: Stage) -> pipeline::Stage {
        match stage {
            Stage::Traced => pipeline::Stage::Traced,
            Stage::Optimized => pipeline::Stage::Optimized,
            Stage::Fused => pipeline::Stage::Fused,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Dot,
    Json,
    /// The Cranelift IR of each kernel of the fused module (the CPU backend's code).
    Clif,
    /// The WGSL of each kernel of the fused module (the GPU backend's code).
    Wgsl,
}

/// How a command failed, which decides the exit status.
pub enum CliError {
    /// Bad program, input or flag; the message is ready to print.
    User(String),
    /// A bug: the compiler or a backend failed on a valid program.
    Internal(String),
    /// The requested backend cannot run here.
    Unavailable(String),
}

impl CliError {
    /// A backend's error, by whose fault it is: the inputs' or the program's
    /// (exit 2, with the error kind the language uses), the machine's (exit 3),
    /// or a bug (exit 1). `doing` says what failed, for all but input errors.
    /// The exit status (CLI.md): 2 the user's error, 3 unavailable, 1 a bug.
    fn status(&self) -> u8 {
        match self {
            CliError::User(_) => 2,
            CliError::Unavailable(_) => 3,
            CliError::Internal(_) => 1,
        }
    }

    fn from_runtime(doing: &str, e: RuntimeError) -> CliError {
        match e.kind {
            RuntimeErrorKind::Input => CliError::User(format!("error[E-INPUT]: {e}")),
            RuntimeErrorKind::Unsupported => {
                CliError::User(format!("error[E-UNSUPPORTED]: {doing}: {e}"))
            }
            RuntimeErrorKind::Unavailable => CliError::Unavailable(format!("error: {doing}: {e}")),
            RuntimeErrorKind::Internal => CliError::Internal(format!("error: {doing}: {e}")),
        }
    }
}

fn main() -> ExitCode {
    // A closed pipe (`omelet hlo ... | head`) ends the process quietly, as it
    // does any Unix filter, instead of making `print!` panic.
    #[cfg(unix)]
    #[allow(unsafe_code)]
    // Safety: restoring a signal's default disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let (CliError::User(message)
            | CliError::Unavailable(message)
            | CliError::Internal(message)) = &e;
            eprint!("{message}");
            if !message.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(e.status())
        }
    }
}

fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run {
            program,
            inputs,
            backend,
            device,
            list_devices,
            out,
        } => {
            let Some(program) = program.filter(|_| !list_devices) else {
                return list_adapters();
            };
            if let Some(dir) = out.as_ref().filter(|d| d.exists() && !d.is_dir()) {
                return Err(CliError::User(format!(
                    "error: --out {}: it is a file; --out names a directory for out0.npy, out1.npy, ...",
                    dir.display()
                )));
            }
            let loaded = program::load(&program, &inputs, true)?;
            let results = Prepared::new(backend, &loaded.module, &device)?.run(&loaded.inputs)?;
            match out {
                Some(dir) => {
                    std::fs::create_dir_all(&dir).map_err(|e| {
                        CliError::User(format!("error: cannot create {}: {e}", dir.display()))
                    })?;
                    for (i, result) in results.iter().enumerate() {
                        npy::write(&dir.join(format!("out{i}.npy")), result)
                            .map_err(|e| CliError::User(format!("error: {e}")))?;
                    }
                }
                None => {
                    for (i, result) in results.iter().enumerate() {
                        println!("out{i}: {result}");
                    }
                }
            }
            Ok(())
        }
        Command::Hlo {
            program,
            inputs,
            stage,
            format,
            explain,
        } => {
            let module = program::load(&program, &inputs, false)?.module;
            let compiled = pipeline::compile(module, stage.into());
            let module = &compiled.module;
            let report = explain.then(|| omelet_compiler::explain::explain(&compiled));
            match format {
                Format::Text => print!("{}", print_module(module)),
                Format::Clif => {
                    let fused = pipeline::compile(module.clone(), pipeline::Stage::Fused).module;
                    let executable = cpu::Executable::new(&fused).map_err(|e| {
                        CliError::from_runtime("the cpu backend cannot take this program", e)
                    })?;
                    for (name, clif) in executable.clif() {
                        match clif {
                            "" => println!("; kernel {name}: the packed GEMM, no generated code\n"),
                            _ => println!("; kernel {name}\n{clif}"),
                        }
                    }
                }
                Format::Wgsl => {
                    let fused = pipeline::compile(module.clone(), pipeline::Stage::Fused).module;
                    let shaders = gpu::wgsl(&fused).map_err(|e| {
                        CliError::from_runtime("the gpu backend cannot take this program", e)
                    })?;
                    for (name, wgsl) in shaders {
                        println!("// kernel {name}\n{wgsl}");
                    }
                }
                Format::Dot => print!("{}", dump::dot(module)),
                Format::Json => {
                    let mut json = dump::json(module);
                    if let Some(report) = &report {
                        json["explain"] = report.as_str().into();
                    }
                    println!("{json:#}");
                }
            }
            match (format, report) {
                (Format::Text, Some(report)) => print!("\n{report}"),
                // Graphviz takes C comments.
                (Format::Dot, Some(report)) => print!("/*\n{report}*/\n"),
                _ => {}
            }
            Ok(())
        }
        Command::Bench {
            programs,
            inputs,
            backends,
            device,
            iters,
            json,
            plot,
        } => {
            let results = bench::run(&programs, &inputs, &backends, &device, iters)?;
            if json {
                println!("{:#}", serde_json::json!({ "results": results }));
            } else {
                print!("{}", bench::table(&results));
            }
            if let Some(path) = plot {
                std::fs::write(&path, bench::plot(&results)).map_err(|e| {
                    CliError::User(format!("error: cannot write {}: {e}", path.display()))
                })?;
            }
            Ok(())
        }
    }
}

/// `--iters N`: a positive count.
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("at least one run is needed to time a program".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("expected a positive integer, got `{s}`")),
    }
}

/// `run --list-devices`: one line per adapter, or the one line saying none.
fn list_adapters() -> Result<(), CliError> {
    let adapters = gpu::adapters();
    if adapters.is_empty() {
        return Err(CliError::Unavailable(
            "error: no GPU adapter found (none that wgpu can use)".to_string(),
        ));
    }
    for (i, adapter) in adapters.iter().enumerate() {
        println!("{i}: {}", gpu::describe_adapter(adapter));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(e: &CliError) -> (u8, &str) {
        let (CliError::User(m) | CliError::Unavailable(m) | CliError::Internal(m)) = e;
        (e.status(), m)
    }

    /// Each kind of runtime error gets its exit status. A buffer past the GPU
    /// adapter's largest binding is the program's limit on this machine, not a
    /// bug: status 2 (it was 1 before the errors were typed).
    #[test]
    fn runtime_errors_map_to_their_exit_status() {
        let doing = "the gpu backend cannot take this program";
        let binding = RuntimeError::unsupported(
            "result 0 needs a buffer of 8589934592 bytes; llvmpipe binds at most 2147483648 bytes",
        );
        assert_eq!(
            shown(&CliError::from_runtime(doing, binding)),
            (
                2,
                "error[E-UNSUPPORTED]: the gpu backend cannot take this program: result 0 \
                 needs a buffer of 8589934592 bytes; llvmpipe binds at most 2147483648 bytes"
            )
        );
        let input = RuntimeError::input("input 0 is f32[2] but the parameter is f32[3]");
        assert_eq!(
            shown(&CliError::from_runtime(doing, input)),
            (
                2,
                "error[E-INPUT]: input 0 is f32[2] but the parameter is f32[3]"
            )
        );
        let unavailable = RuntimeError::unavailable("no GPU adapter found");
        assert_eq!(
            shown(&CliError::from_runtime(
                "backend gpu is unavailable",
                unavailable
            )),
            (3, "error: backend gpu is unavailable: no GPU adapter found")
        );
        let internal = RuntimeError::internal("a shader did not validate");
        assert_eq!(shown(&CliError::from_runtime(doing, internal)).0, 1);
    }
}
