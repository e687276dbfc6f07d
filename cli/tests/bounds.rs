//! Generated code never reads or writes out of bounds: the CPU backend runs a set
//! of fixtures chosen for their odd sizes, layouts, transposes, slices,
//! concatenations, reductions over every axis, GEMMs with ragged edges and GEMM
//! epilogues of dots whose output is not one `m × n` matrix, the index ops
//! (gathers, dynamic slices and updates with starts to clamp, pads that crop
//! and interleave, reverses), the window ops and variadic reduce (padded and
//! dilated windows, pooling gradients, cumulative sums, argmax), scatters (windows out of bounds, partial
//! windows, batching dimensions), sorts (several operands, a leading dimension,
//! one-byte elements) and topk, under valgrind's
//! memcheck, which reports any access outside an allocation (the JIT's code
//! included), one trial per program. Without valgrind the trials are ignored
//! with a printed reason, except where `OMELET_REQUIRE_TOOLS` is set
//! (`.ci/run`), where they fail.

mod support;

use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

const PROGRAMS: &[&str] = &[
    "tests/jax/concat_axis1/module.hlo",
    "tests/jax/slice_steps/module.hlo",
    "tests/jax/transpose_3d_perms/module.hlo",
    "tests/jax/reshape_transpose_mix/module.hlo",
    "tests/jax/reduce_axis_02/module.hlo",
    "tests/jax/reduce_axis_0/module.hlo",
    "tests/jax/reduce_bool_any_all/module.hlo",
    "tests/jax/bcast_size1_dims/module.hlo",
    "tests/jax/einsum_two_batch/module.hlo",
    "tests/jax/dot_x_wT/module.hlo",
    "tests/jax/dot_matvec/module.hlo",
    "tests/jax/epilogue_mat3_vec/module.hlo",
    "tests/jax/epilogue_batch1_matvec/module.hlo",
    "tests/jax/epilogue_vec_mat3_large/module.hlo",
    "tests/jax/epilogue_parallel_matmul/module.hlo",
    "tests/jax/nn_attention/module.hlo",
    "tests/jax/nn_layernorm_manual/module.hlo",
    "tests/jax/index_gather_forms/module.hlo",
    "tests/jax/index_gather_windows/module.hlo",
    "tests/jax/index_gather_batched/module.hlo",
    "tests/jax/index_dynamic_slice_clamped/module.hlo",
    "tests/jax/index_dynamic_update_slice_edge/module.hlo",
    "tests/jax/index_pad/module.hlo",
    "tests/jax/index_reverse/module.hlo",
    "tests/jax/index_fused_wide/module.hlo",
    "tests/jax/region_max_pool_same/module.hlo",
    "tests/jax/region_max_pool_grad_overlap/module.hlo",
    "tests/jax/region_reduce_window_dilated/module.hlo",
    "tests/jax/region_cumsum_s32_reverse/module.hlo",
    "tests/jax/region_flax_pool_grads/module.hlo",
    "tests/jax/region_argmax_nan_ties/module.hlo",
    "tests/jax/region_scatter_add_dup_oob/module.hlo",
    "tests/jax/region_scatter_set_oob/module.hlo",
    "tests/jax/region_scatter_partial_window/module.hlo",
    "tests/jax/region_scatter_batched_vmap/module.hlo",
    "tests/jax/region_embedding_grad_duplicates/module.hlo",
    "tests/jax/region_sort_nan_rows/module.hlo",
    "tests/jax/region_sort_descending_keys/module.hlo",
    "tests/jax/region_sort_two_keys/module.hlo",
    "tests/jax/region_sort_u8/module.hlo",
    "tests/jax/region_argsort_ties_nan/module.hlo",
    "tests/jax/region_top_k/module.hlo",
    "tests/xla/layouts/module.hlo",
    "tests/xla/data_movement/module.hlo",
    "tests/xla/fusion/module.hlo",
];

fn main() {
    let args = Arguments::from_args();
    let ignored = support::ignore_without("memcheck", &valgrind());
    let trials = PROGRAMS
        .iter()
        .map(|&program| {
            Trial::test(format!("memcheck::{program}"), move || memcheck(program))
                .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn valgrind() -> Result<(), String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        _ => Err("valgrind is not installed (apt-get install valgrind)".into()),
    }
}

/// Runs `program` on the CPU backend under memcheck, which exits 9 on any
/// invalid access.
fn memcheck(program: &str) -> Result<(), Failed> {
    valgrind()?;
    let out = Command::new("valgrind")
        .args(["--error-exitcode=9", "-q"])
        .arg(env!("CARGO_BIN_EXE_omelet"))
        .args(["run", program, "--random", "0", "--backend", "cpu"])
        .current_dir(support::root())
        .output()
        .map_err(|e| format!("valgrind does not start: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}: {}", out.status, String::from_utf8_lossy(&out.stderr)).into())
    }
}
