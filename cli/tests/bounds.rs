//! Generated code never reads or writes out of bounds: the CPU backend runs a set
//! of fixtures chosen for their odd sizes, layouts, transposes, slices,
//! concatenations, reductions over every axis and GEMMs with ragged edges, under
//! valgrind's memcheck, which reports any access outside an allocation (the JIT's
//! code included). Without valgrind the test is skipped with a printed reason,
//! except in CI (`CI` set), where that is a failure.

use std::process::Command;

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
    "tests/jax/nn_attention/module.hlo",
    "tests/jax/nn_layernorm_manual/module.hlo",
    "tests/xla/layouts/module.hlo",
    "tests/xla/data_movement/module.hlo",
    "tests/xla/fusion/module.hlo",
];

#[test]
fn cpu_kernels_stay_in_bounds_under_memcheck() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "valgrind is missing; .ci/run installs it"
        );
        println!("skipped: valgrind is not installed");
        return;
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = PROGRAMS
            .iter()
            .map(|program| {
                scope.spawn(move || {
                    let out = Command::new("valgrind")
                        .args(["--error-exitcode=9", "-q"])
                        .arg(env!("CARGO_BIN_EXE_omelet"))
                        .args(["run", program, "--random", "0", "--backend", "cpu"])
                        .current_dir(root)
                        .output()
                        .expect("valgrind runs");
                    let ok = out.status.success();
                    (!ok).then(|| format!("{program}: {}", String::from_utf8_lossy(&out.stderr)))
                })
            })
            .collect();
        runs.into_iter()
            .filter_map(|r| r.join().expect("no panic"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
