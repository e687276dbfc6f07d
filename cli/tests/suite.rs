//! The benchmark suite through the optimizer, in tinygrad's `check_schedule` style:
//! each program's fused module has exactly the expected kernels, never more than
//! XLA:CPU forms for the same JAX program (`benches/suite/xla_counts.py`), no kernel
//! that only copies data through a transpose, estimated traffic within the stated
//! factor of the minimum the program must read and write, and a golden dump in
//! `tests/golden/suite/` (`BLESS=1` rewrites them).

mod support;

use omelet_compiler::cost;
use omelet_compiler::hlo::{Module, Op, print_module};
use omelet_compiler::pipeline::{Stage, compile};
use omelet_compiler::trace::{KnownShapes, trace_source};

use support::{check_golden, root};

/// (program, our kernels, XLA:CPU's kernels, bound on estimated bytes / minimum bytes)
const EXPECTED: &[(&str, usize, usize, f64)] = &[
    ("ew_chain", 1, 1, 1.0),
    ("softmax", 1, 1, 1.0),
    ("layernorm", 1, 1, 1.0),
    // Fusing the second GEMM would re-read w2 (16 MiB) per block of rows: refused.
    ("mlp", 2, 6, 1.5),
    ("attention", 1, 1, 1.0),
    ("gemm", 1, 1, 1.0),
    ("gemm_nt", 1, 1, 1.0),
    ("col_reduce", 1, 2, 1.0),
    ("transpose_add", 1, 1, 1.0),
    // x is read by both GEMMs and the residual makes a round trip.
    ("linreg_grad", 2, 3, 2.2),
];

fn fused(name: &str) -> Module {
    let path = root().join("benches/suite").join(name).with_extension("om");
    let source = std::fs::read_to_string(&path).unwrap();
    let traced = trace_source(&source, name, &KnownShapes::default()).unwrap();
    compile(traced, Stage::Fused).module
}

#[test]
fn suite_kernels_match_the_schedule() {
    let mut failures = Vec::new();
    for &(name, kernels, xla_kernels, bytes_bound) in EXPECTED {
        let module = fused(name);
        let estimates = cost::kernels(&module);
        let bytes: u64 = estimates
            .iter()
            .map(|k| k.bytes_read + k.bytes_written)
            .sum();
        let ratio = bytes as f64 / cost::minimum_bytes(&module) as f64;
        let copies = estimates
            .iter()
            .filter(|k| k.ops.iter().all(|&op| op == "transpose"))
            .count();
        let summary = format!(
            "{name}: {} kernels (expected {kernels}, XLA {xla_kernels}), bytes {ratio:.2}x the minimum (bound {bytes_bound}), {copies} transpose copies",
            estimates.len()
        );
        if estimates.len() != kernels
            || kernels > xla_kernels
            || ratio > bytes_bound + 1e-9
            || copies > 0
        {
            failures.push(summary);
        }
        let golden = root()
            .join("tests/golden/suite")
            .join(name)
            .with_extension("hlo");
        if let Err(e) = check_golden(&golden, &print_module(&module)) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn dots_read_transposed_operands_in_place() {
    for name in ["gemm_nt", "attention", "linreg_grad", "transpose_add"] {
        let module = fused(name);
        for comp in &module.computations {
            for instr in &comp.instructions {
                if let Op::Dot(_) = instr.op {
                    for &o in &instr.operands {
                        let operand = &comp.instr(o).op;
                        assert!(
                            !matches!(operand, Op::Transpose { .. }),
                            "{name}: {} reads a transpose instead of folding it",
                            instr.name
                        );
                    }
                }
            }
        }
    }
}
