//! `omelet bench`: compile each program once per backend, run it after a warm-up,
//! and report the median, min and max time with the throughput the kernel
//! estimates imply (CLI.md).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use omelet_compiler::cost;
use serde::Serialize;

use crate::inputs::InputArgs;
use crate::{Backend, CliError, DeviceArgs, Prepared, program};

#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub program: String,
    pub backend: &'static str,
    pub compile_s: f64,
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    /// GPU only: the median over runs of the kernels' summed time between their
    /// timestamps, without transfers or submission (`None` where the adapter
    /// has no timestamp queries). The times above are end to end.
    pub kernel_s: Option<f64>,
    pub iters: usize,
    pub gb_per_s: f64,
    pub gflop_per_s: f64,
    pub kernels: usize,
    /// This backend's speed over the slowest backend's on the same program.
    pub speedup: f64,
}

pub fn run(
    programs: &[PathBuf],
    inputs: &InputArgs,
    backends: &[Backend],
    device: &DeviceArgs,
    iters: usize,
) -> Result<Vec<BenchResult>, CliError> {
    let iters = iters.max(1);
    let progress = std::io::stderr().is_terminal();
    let mut results = Vec::new();
    for (p, path) in programs.iter().enumerate() {
        let first = results.len();
        for &backend in backends {
            if progress {
                eprint!(
                    "\r[{}/{}] {} on {}          ",
                    p + 1,
                    programs.len(),
                    path.display(),
                    backend.name()
                );
            }
            results.push(measure(path, inputs, backend, device, iters)?);
        }
        let slowest = results[first..]
            .iter()
            .map(|r| r.median_s)
            .fold(0.0, f64::max);
        for r in &mut results[first..] {
            r.speedup = slowest / r.median_s;
        }
    }
    if progress {
        eprintln!();
    }
    Ok(results)
}

fn measure(
    path: &Path,
    inputs: &InputArgs,
    backend: Backend,
    device: &DeviceArgs,
    iters: usize,
) -> Result<BenchResult, CliError> {
    // Compile time is parsing (or tracing) to runnable code; making random inputs
    // is not part of it. The first compile of a process is measured, uncached.
    let start = Instant::now();
    let module = program::load(path, inputs, false)?.module;
    let prepared = Prepared::new(backend, &module, device)?;
    let compile_s = start.elapsed().as_secs_f64();
    let loaded = program::load(path, inputs, true)?;
    prepared.run(&loaded.inputs)?; // warm-up
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        prepared.run(&loaded.inputs)?;
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median_s = times[times.len() / 2];
    let kernel_s = prepared.kernel_time(&loaded.inputs, iters)?;
    // Throughput counts what the program must move and compute, whatever the
    // backend does: its inputs and results once (SUITE.md), and the flops of
    // its ops.
    let bytes = cost::minimum_bytes(&loaded.module);
    let flops: u64 = cost::kernels(&loaded.module).iter().map(|k| k.flops).sum();
    Ok(BenchResult {
        program: path.display().to_string(),
        backend: backend.name(),
        compile_s,
        median_s,
        min_s: times[0],
        max_s: times[times.len() - 1],
        kernel_s,
        iters,
        gb_per_s: bytes as f64 / median_s / 1e9,
        gflop_per_s: flops as f64 / median_s / 1e9,
        kernels: prepared.kernels(),
        speedup: 1.0,
    })
}

/// A table, one row per program and backend.
pub fn table(results: &[BenchResult]) -> String {
    let mut out = format!(
        "{:<32} {:<8} {:>10} {:>11} {:>11} {:>11} {:>11} {:>9} {:>9} {:>8} {:>8}\n",
        "program",
        "backend",
        "compile ms",
        "median ms",
        "min ms",
        "max ms",
        "kernel ms",
        "GB/s",
        "GFLOP/s",
        "kernels",
        "speedup"
    );
    for r in results {
        out += &format!(
            "{:<32} {:<8} {:>10.3} {:>11.3} {:>11.3} {:>11.3} {:>11} {:>9.2} {:>9.2} {:>8} {:>7.2}x\n",
            r.program,
            r.backend,
            r.compile_s * 1e3,
            r.median_s * 1e3,
            r.min_s * 1e3,
            r.max_s * 1e3,
            r.kernel_s
                .map_or("-".to_string(), |s| format!("{:.3}", s * 1e3)),
            r.gb_per_s,
            r.gflop_per_s,
            r.kernels,
            r.speedup
        );
    }
    out
}

/// A horizontal bar chart of median times, one bar per program and backend.
pub fn plot(results: &[BenchResult]) -> String {
    let (row, label_w, bar_w) = (22.0, 340.0, 420.0);
    let longest = results
        .iter()
        .map(|r| r.median_s)
        .fold(f64::MIN_POSITIVE, f64::max);
    let height = 40.0 + row * results.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" font-family=\"monospace\" font-size=\"12\">\n<text x=\"8\" y=\"18\">median time per run (ms)</text>\n",
        label_w + bar_w + 120.0
    );
    for (i, r) in results.iter().enumerate() {
        let y = 30.0 + row * i as f64;
        let w = bar_w * r.median_s / longest;
        let color = match r.backend {
            "interp" => "#8c8c8c",
            "cpu" => "#3b7dd8",
            _ => "#d8703b",
        };
        let label = format!("{} ({})", r.program, r.backend)
            .replace('&', "&amp;")
            .replace('<', "&lt;");
        svg += &format!(
            "<text x=\"8\" y=\"{:.1}\">{label}</text>\n<rect x=\"{label_w}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{color}\"/>\n<text x=\"{:.1}\" y=\"{:.1}\">{:.3}</text>\n",
            y + 14.0,
            row - 6.0,
            label_w + w + 6.0,
            y + 14.0,
            r.median_s * 1e3
        );
    }
    svg + "</svg>\n"
}
