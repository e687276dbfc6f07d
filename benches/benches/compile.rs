//! Compile speed: parsing and tracing each example script, parsing and importing
//! the largest JAX HLO fixture, optimizing and fusing each suite program (the
//! budget is 20 ms per program), and optimizing and fusing unrolled loops of
//! 2,000 and 8,000 steps (which should take about linear time in the steps).
//! Run with `cargo bench -p omelet-benches --bench compile`.

use criterion::{Criterion, criterion_group, criterion_main};
use omelet_compiler::import::parse_module;
use omelet_compiler::pipeline::{Stage, compile};
use omelet_compiler::trace::{KnownShapes, trace_source};

fn front_end(c: &mut Criterion) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let known = KnownShapes {
        dims: [("B", 64), ("T", 128), ("N", 64)]
            .map(|(n, d)| (n.to_string(), d))
            .into_iter()
            .collect(),
        ..KnownShapes::default()
    };
    let mut group = c.benchmark_group("parse_and_trace");
    for name in ["mlp", "attention", "layernorm", "mlp_backward"] {
        let source = std::fs::read_to_string(format!("{root}/examples/{name}.om")).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| trace_source(&source, name, &known).unwrap())
        });
    }
    group.finish();
    let hlo =
        std::fs::read_to_string(format!("{root}/tests/jax/grad_layernorm/module.hlo")).unwrap();
    c.bench_function("parse_and_import/grad_layernorm", |b| {
        b.iter(|| parse_module(&hlo).unwrap())
    });
    let mut group = c.benchmark_group("optimize_and_fuse");
    for entry in std::fs::read_dir(format!("{root}/benches/suite")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "om") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        let traced = trace_source(&source, &name, &KnownShapes::default()).unwrap();
        group.bench_function(&name, |b| b.iter(|| compile(traced.clone(), Stage::Fused)));
    }
    group.finish();
    let mut group = c.benchmark_group("optimize_and_fuse_unrolled");
    group.sample_size(10);
    for steps in [2000, 8000] {
        for (name, source) in unrolled(steps) {
            let traced = trace_source(&source, name, &KnownShapes::default()).unwrap();
            group.bench_function(format!("{name}_{steps}"), |b| {
                b.iter(|| compile(traced.clone(), Stage::Fused))
            });
        }
    }
    group.finish();
}

/// Loops unrolled `steps` times: an elementwise chain, a chain through a
/// matmul, a chain through a row reduction, and three chains side by side.
fn unrolled(steps: usize) -> [(&'static str, String); 4] {
    [
        (
            "chain",
            format!(
                "fn main(x: f32[64]) {{ let h = x; for i in 0..{steps} {{ let h = tanh(h) + x * 0.5; }} h }}"
            ),
        ),
        (
            "matmul",
            format!(
                "fn main(x: f32[16, 64], w: f32[64, 64]) {{ let h = x; for i in 0..{steps} {{ let h = tanh(h @ w) + x; }} h }}"
            ),
        ),
        (
            "reduce",
            format!(
                "fn main(x: f32[16, 64]) {{ let h = x; for i in 0..{steps} {{ let h = tanh(h - sum(h, axis=1, keepdims=true) * 0.01) + x; }} h }}"
            ),
        ),
        (
            "chains",
            format!(
                "fn main(x: f32[64], y: f32[64], z: f32[64]) {{ let a = x; let b = y; let c = z; for i in 0..{steps} {{ let a = tanh(a) + x * 0.5; let b = sin(b) * y; let c = exp(c - a) + z; }} (a, b, c) }}"
            ),
        ),
    ]
}

criterion_group!(benches, front_end);
criterion_main!(benches);
