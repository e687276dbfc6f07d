//! Front-end speed: parsing and tracing each example script (shapes as in the
//! fixture tests), and parsing and importing the largest JAX HLO fixture.
//! Run with `cargo bench -p omelet-benches --bench compile`.

use criterion::{Criterion, criterion_group, criterion_main};
use omelet_compiler::import::parse_module;
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
}

criterion_group!(benches, front_end);
criterion_main!(benches);
