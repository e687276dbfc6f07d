//! The reference interpreter against plain ndarray on the same work, so its
//! overhead shows as a ratio: a 1024x1024x1024 dot and a softmax over 1024x1024.
//! Run with `cargo bench -p omelet-benches`.

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, ArrayD, Axis, IxDyn};
use omelet_compiler::import::parse_module;
use omelet_runtime::{Array, interp};

const DOT: &str = "HloModule dot
ENTRY main {
  a = f32[1024,1024]{1,0} parameter(0)
  b = f32[1024,1024]{1,0} parameter(1)
  ROOT c = f32[1024,1024]{1,0} dot(a, b), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}
";

fn input(seed: usize) -> ArrayD<f32> {
    ArrayD::from_shape_fn(IxDyn(&[1024, 1024]), |i| {
        ((i[0] * 31 + i[1] * 17 + seed) % 97) as f32 / 97.0
    })
}

fn dot(c: &mut Criterion) {
    let module = parse_module(DOT).unwrap();
    let (a, b) = (input(1), input(2));
    let inputs = [Array::F32(a.clone()), Array::F32(b.clone())];
    let mut group = c.benchmark_group("dot_1024");
    group.sample_size(10);
    group.bench_function("interp", |bench| {
        bench.iter(|| interp::run(&module, &inputs).unwrap())
    });
    let a2: Array2<f32> = a.into_dimensionality().unwrap();
    let b2: Array2<f32> = b.into_dimensionality().unwrap();
    group.bench_function("ndarray", |bench| bench.iter(|| a2.dot(&b2)));
    group.finish();
}

fn softmax(c: &mut Criterion) {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/softmax_1024.hlo")).unwrap();
    let module = parse_module(&text).unwrap();
    let x = input(3);
    let inputs = [Array::F32(x.clone())];
    let mut group = c.benchmark_group("softmax_1024");
    group.sample_size(10);
    group.bench_function("interp", |bench| {
        bench.iter(|| interp::run(&module, &inputs).unwrap())
    });
    group.bench_function("ndarray", |bench| {
        bench.iter(|| {
            let max = x.map_axis(Axis(1), |row| row.fold(f32::NEG_INFINITY, |m, &v| m.max(v)));
            let e = (&x - &max.insert_axis(Axis(1))).mapv(f32::exp);
            let sum = e.sum_axis(Axis(1));
            e / &sum.insert_axis(Axis(1))
        })
    });
    group.finish();
}

criterion_group!(benches, dot, softmax);
criterion_main!(benches);
