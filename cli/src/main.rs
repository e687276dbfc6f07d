//! The `omelet` command (CLI.md): `run` a program (HLO text or a `.om` script),
//! print its `hlo`, `bench` it on each backend.
//! Exit status: 0 success, 2 user error, 3 backend unavailable, 1 internal error.

mod bench;
mod diagnostics;
mod inputs;
mod program;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use omelet_compiler::hlo::Module;
use omelet_compiler::hlo::print_module;
use omelet_compiler::{dump, pipeline};
use omelet_runtime::{Array, interp, npy};

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
        program: PathBuf,
        #[command(flatten)]
        inputs: InputArgs,
        #[arg(long, value_enum, default_value = "interp")]
        backend: Backend,
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
        #[arg(long, default_value_t = 10)]
        iters: usize,
        /// Print one JSON document instead of a table.
        #[arg(long)]
        json: bool,
        /// Also write a bar chart of the median times.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    Interp,
    Cpu,
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

/// Runs a module on a backend.
fn execute(backend: Backend, module: &Module, inputs: &[Array]) -> Result<Vec<Array>, CliError> {
    match backend {
        Backend::Interp => {
            interp::run(module, inputs).map_err(|e| CliError::User(format!("error[E-INPUT]: {e}")))
        }
        Backend::Cpu | Backend::Gpu => Err(CliError::Unavailable(format!(
            "error: backend {} is not available in this build (only interp is)",
            backend.name()
        ))),
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
}

/// How a command failed, which decides the exit status.
pub enum CliError {
    /// Bad program, input or flag; the message is ready to print.
    User(String),
    /// The requested backend cannot run here.
    Unavailable(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::User(message)) => {
            eprint!("{message}");
            if !message.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(2)
        }
        Err(CliError::Unavailable(message)) => {
            eprintln!("{message}");
            ExitCode::from(3)
        }
    }
}

fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Run {
            program,
            inputs,
            backend,
            out,
        } => {
            let loaded = program::load(&program, &inputs, true)?;
            let results = execute(backend, &loaded.module, &loaded.inputs)?;
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
            iters,
            json,
            plot,
        } => {
            let results = bench::run(&programs, &inputs, &backends, iters)?;
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
