//! The `omelet` command as a user drives it: flags, input binding, outputs, exit
//! statuses and error messages (CLI.md).

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use support::{compare, numbered_npy, root};

fn omelet(args: &[&str]) -> Output {
    support::omelet_command()
        .args(args)
        .output()
        .expect("omelet runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const MATMUL: &str = "tests/jax/dot_matmul/module.hlo";
const X: &str = "x.1=tests/jax/dot_matmul/in0.npy";
const W: &str = "w.1=tests/jax/dot_matmul/in1.npy";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("omelet-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn run_writes_results_that_match_jax() {
    let dir = scratch("out");
    let out = omelet(&[
        "run",
        MATMUL,
        "--input",
        X,
        "--input",
        W,
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = numbered_npy(&root().join("tests/jax/dot_matmul"), "expected");
    compare(&numbered_npy(&dir, "out"), &expected, 1e-4, 1e-5).unwrap();
}

#[test]
fn inputs_bind_by_position_too() {
    let dir = scratch("positional");
    let out = omelet(&[
        "run",
        MATMUL,
        "--input",
        "1=tests/jax/dot_matmul/in1.npy",
        "--input",
        "0=tests/jax/dot_matmul/in0.npy",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = numbered_npy(&root().join("tests/jax/dot_matmul"), "expected");
    compare(&numbered_npy(&dir, "out"), &expected, 1e-4, 1e-5).unwrap();
}

#[test]
fn run_prints_each_result_without_out() {
    let out = omelet(&[
        "run",
        "tests/jax/multi_out_mixed/module.hlo",
        "--random",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let heads: Vec<&str> = text.lines().filter(|l| l.starts_with("out")).collect();
    assert_eq!(heads.len(), 4, "{text}");
    assert!(heads[0].starts_with("out0: "), "{text}");
}

#[test]
fn random_inputs_are_reproducible() {
    let run = |seed: &str| stdout(&omelet(&["run", MATMUL, "--random", seed]));
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"));
}

#[test]
fn missing_input_names_the_parameter() {
    let out = omelet(&["run", MATMUL, "--input", X]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error[E-INPUT]: missing input w.1 (f32[37,5]): bind it with --input w.1=FILE.npy or use --random SEED\n"
    );
}

#[test]
fn input_of_the_wrong_shape_names_both_shapes() {
    let out = omelet(&[
        "run",
        MATMUL,
        "--input",
        "x.1=tests/jax/dot_matmul/in1.npy",
        "--random",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error[E-INPUT]: input x.1 expects f32[17,37] but was given f32[37,5]\n"
    );
}

#[test]
fn input_of_the_wrong_dtype_is_an_input_error() {
    let out = omelet(&[
        "run",
        MATMUL,
        "--input",
        "x.1=tests/jax/int_arith/in0.npy",
        "--random",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error[E-INPUT]: input x.1 expects f32[17,37] but"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_parameter_lists_the_parameters() {
    let out = omelet(&["run", MATMUL, "--input", "y=tests/jax/dot_matmul/in0.npy"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error[E-INPUT]: --input y: no parameter of that name or position (parameters: x.1, w.1)\n"
    );
}

#[test]
fn unreadable_files_are_user_errors() {
    let out = omelet(&["run", "no/such/file.hlo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error[E-INPUT]: cannot read no/such/file.hlo"),
        "{}",
        stderr(&out)
    );
    let out = omelet(&["run", MATMUL, "--input", "x.1=no/such.npy", "--random", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error[E-INPUT]: cannot read no/such.npy"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_flags_exit_with_status_2() {
    assert_eq!(
        omelet(&["run", MATMUL, "--frobnicate"]).status.code(),
        Some(2)
    );
    assert_eq!(
        omelet(&["run", MATMUL, "--input", "no-equals-sign"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        omelet(&["hlo", MATMUL, "--stage", "sideways"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_gpu_backend_without_its_adapter_says_so_in_one_line_and_exits_3() {
    let run = ["run", MATMUL, "--random", "0", "--backend", "gpu"];
    let by_flag = omelet(&[&run[..], &["--device", "no-such-adapter"]].concat());
    let by_variable = support::omelet_command()
        .args(run)
        .env("OMELET_GPU", "no-such-adapter")
        .output()
        .expect("omelet runs");
    for out in [by_flag, by_variable] {
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains("no-such-adapter"), "{}", stderr(&out));
    }
}

/// One line per adapter, numbered for `--device`; or, with none, one line and
/// status 3.
#[test]
fn list_devices_numbers_the_adapters() {
    let out = omelet(&["run", "--list-devices"]);
    match out.status.code() {
        Some(0) => {
            let listed = stdout(&out);
            assert!(listed.starts_with("0: "), "{listed}");
            for (i, line) in listed.lines().enumerate() {
                assert!(line.starts_with(&format!("{i}: ")), "{listed}");
            }
        }
        Some(3) => assert_eq!(stderr(&out).lines().count(), 1),
        other => panic!("status {other:?}: {}", stderr(&out)),
    }
}

#[test]
fn hlo_json_lists_one_kernel_per_computing_instruction() {
    let out = omelet(&["hlo", "tests/jax/nn_softmax/module.hlo", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kernels = json["kernels"].as_array().unwrap();
    let entry = json["module"]["computations"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    let free = [
        "parameter",
        "constant",
        "tuple",
        "get-tuple-element",
        "bitcast",
    ];
    let computing = entry["instructions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| !free.contains(&i["opcode"].as_str().unwrap()))
        .count();
    assert_eq!(kernels.len(), computing);
    let total: u64 = kernels
        .iter()
        .map(|k| k["bytes_read"].as_u64().unwrap() + k["bytes_written"].as_u64().unwrap())
        .sum();
    assert_eq!(json["total_bytes"].as_u64().unwrap(), total);
    for key in [
        "name",
        "kind",
        "ops",
        "bytes_read",
        "bytes_written",
        "flops",
    ] {
        assert!(kernels[0].get(key).is_some(), "kernel lacks {key}");
    }
}

#[test]
fn dot_estimates_count_two_flops_per_multiply_add() {
    let out = omelet(&["hlo", MATMUL, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dot = &json["kernels"][0];
    assert_eq!(dot["kind"], "kOutput");
    assert_eq!(dot["flops"].as_u64().unwrap(), 2 * 17 * 37 * 5);
    assert_eq!(dot["bytes_read"].as_u64().unwrap(), 4 * (17 * 37 + 37 * 5));
    assert_eq!(dot["bytes_written"].as_u64().unwrap(), 4 * 17 * 5);
}

#[test]
fn hlo_dot_draws_a_cluster_per_kernel() {
    let out = omelet(&["hlo", "tests/jax/nn_softmax/module.hlo", "--format", "dot"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("digraph"));
    let json = omelet(&["hlo", "tests/jax/nn_softmax/module.hlo", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        text.matches("subgraph cluster_").count(),
        json["kernels"].as_array().unwrap().len()
    );
}

#[test]
fn suite_programs_trace_for_their_declared_shapes() {
    let mut count = 0;
    for entry in std::fs::read_dir(root().join("benches/suite")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "om") {
            continue; // the JAX twins and their tools
        }
        let out = omelet(&["hlo", path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            path.display(),
            stderr(&out)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json["kernel_count"].as_u64().unwrap() >= 1);
        count += 1;
    }
    assert_eq!(count, 10, "SUITE.md names ten programs");
}

#[test]
fn bench_reports_every_program_and_backend_as_json() {
    let plot = std::env::temp_dir().join(format!("omelet-bench-{}.svg", std::process::id()));
    let out = omelet(&[
        "bench",
        MATMUL,
        "tests/jax/nn_softmax/module.hlo",
        "--random",
        "0",
        "--iters",
        "3",
        "--json",
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        for key in [
            "program",
            "backend",
            "compile_s",
            "median_s",
            "min_s",
            "max_s",
            "iters",
            "gb_per_s",
            "gflop_per_s",
            "kernels",
        ] {
            assert!(r.get(key).is_some(), "result lacks {key}");
        }
        assert_eq!(r["iters"], 3);
        assert!(r["min_s"].as_f64().unwrap() <= r["median_s"].as_f64().unwrap());
        assert!(r["median_s"].as_f64().unwrap() <= r["max_s"].as_f64().unwrap());
    }
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert_eq!(svg.matches("<rect").count(), 2);
}

#[test]
fn bench_on_an_unavailable_backend_exits_with_status_3() {
    let out = omelet(&[
        "bench",
        MATMUL,
        "--random",
        "0",
        "--backends",
        "interp,gpu",
        "--device",
        "no-such-adapter",
    ]);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_cpu_backend_writes_what_the_interpreter_writes() {
    let dir = std::env::temp_dir().join(format!("omelet-cpu-{}", std::process::id()));
    for backend in ["cpu", "interp"] {
        let out = omelet(&[
            "run",
            "examples/layernorm.om",
            "--shape",
            "N=17",
            "--random",
            "1",
            "--backend",
            backend,
            "--out",
            dir.join(backend).to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let read = |b: &str| omelet_runtime::npy::read(&dir.join(b).join("out0.npy")).unwrap();
    let (cpu, interp) = (read("cpu").to_f64_vec(), read("interp").to_f64_vec());
    assert_eq!(cpu.len(), interp.len());
    for (c, i) in cpu.iter().zip(&interp) {
        assert!((c - i).abs() <= 1e-5 + 1e-5 * i.abs(), "{c} vs {i}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_readme_examples_run() {
    for args in [
        &["run", "examples/mlp.om", "--shape", "B=64", "--random", "0"][..],
        &[
            "run",
            "examples/attention.om",
            "--shape",
            "B=2",
            "--shape",
            "T=16",
            "--random",
            "0",
        ],
        &["run", "examples/mlp.hlo", "--random", "0"],
        &["run", "examples/mlp_grad.hlo", "--random", "0"],
        &["hlo", "examples/attention.hlo", "--format", "dot"],
    ] {
        let out = omelet(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
    }
}

#[test]
fn fused_stage_explains_kernels_rules_and_refusals() {
    let out = omelet(&[
        "hlo",
        "benches/suite/mlp.om",
        "--stage",
        "fused",
        "--explain",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("kind=kOutput, calls=fused_computation.1"),
        "{text}"
    );
    assert!(text.contains("rewrites: saturated"), "{text}");
    assert!(text.contains("dot-scalar-factor"), "{text}");
    assert!(text.contains("kernels: 2,"), "{text}");
    assert!(text.contains("would re-read w2"), "{text}");

    let out = omelet(&[
        "hlo",
        "benches/suite/softmax.om",
        "--stage",
        "fused",
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kernels = json["kernels"].as_array().unwrap();
    assert_eq!(kernels.len(), 1);
    assert_eq!(kernels[0]["kind"], "kInput");
    assert_eq!(json["total_bytes"], 2 * 4096 * 1024 * 4);

    let out = omelet(&[
        "hlo",
        "benches/suite/softmax.om",
        "--stage",
        "fused",
        "--format",
        "dot",
    ]);
    let dot = String::from_utf8(out.stdout).unwrap();
    assert_eq!(dot.matches("subgraph cluster_").count(), 1);
    assert!(
        dot.contains("exponential"),
        "the cluster draws the kernel's ops: {dot}"
    );
}

/// The GPU backend's WGSL for a few kernels (a broadcast loop, a transpose, a
/// row reduction over workgroup memory, a GEMM with its epilogue), golden in
/// `tests/golden/wgsl/` (`BLESS=1` rewrites them).
#[test]
fn wgsl_dumps_match_their_golden_files() {
    for name in ["bcast_row", "transpose_2d", "nn_softmax", "nn_mlp_forward"] {
        let program = format!("tests/jax/{name}/module.hlo");
        let out = omelet(&["hlo", &program, "--format", "wgsl"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let golden = root()
            .join("tests/golden/wgsl")
            .join(format!("{name}.wgsl"));
        support::check_golden(&golden, &String::from_utf8(out.stdout).unwrap()).unwrap();
    }
}

/// The CPU backend's Cranelift IR for a few kernels (a broadcast loop, a tiled
/// transpose, a row reduction, masks and selects), golden in `tests/golden/clif/`
/// (`BLESS=1` rewrites them).
#[test]
fn clif_dumps_match_their_golden_files() {
    for name in ["bcast_row", "transpose_2d", "reduce_axis_2", "where_select"] {
        let program = format!("tests/jax/{name}/module.hlo");
        let out = omelet(&["hlo", &program, "--format", "clif"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let golden = root()
            .join("tests/golden/clif")
            .join(format!("{name}.clif"));
        support::check_golden(&golden, &String::from_utf8(out.stdout).unwrap()).unwrap();
    }
}

/// `omelet hlo ... | head` closes the pipe early: the process ends quietly, as
/// a Unix filter does, and never panics.
#[test]
fn a_closed_stdout_ends_the_process_without_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_omelet"))
        .current_dir(root())
        .args(["hlo", "benches/suite/attention.om", "--format", "clif"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("omelet runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("omelet ends");
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// A `.npy` file of `header` (the dictionary) and `data`, in a scratch folder.
fn npy_file(name: &str, header: &str, data: &[u8]) -> PathBuf {
    let mut dict = header.to_string();
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.extend_from_slice(data);
    let dir = scratch(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.npy"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A header is checked against the file before anything is allocated: a shape
/// of 7.8e13 floats over 64 bytes of data used to abort (status 134).
#[test]
fn an_npy_header_claiming_more_than_its_file_holds_is_an_input_error() {
    let path = npy_file(
        "huge",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 784), }",
        &[0; 64],
    );
    let input = format!("x.1={}", path.display());
    let out = omelet(&["run", MATMUL, "--input", &input, "--random", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error[E-INPUT]: cannot read {}: its header claims shape (100000000000, 784), \
             313600000000000 bytes of data, but the file holds 64\n",
            path.display()
        )
    );
    let overflow = npy_file(
        "overflow",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
        &[],
    );
    let input = format!("x.1={}", overflow.display());
    let out = omelet(&["run", MATMUL, "--input", &input, "--random", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("too large to address"),
        "{}",
        stderr(&out)
    );
    let out = omelet(&["run", MATMUL, "--input", "x.1=/dev/zero", "--random", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a .npy file"), "{}", stderr(&out));
}

/// A program is read from a regular file of at most 64 MiB: `/dev/zero` used to
/// be read until memory ran out, a FIFO without a writer blocked for ever.
#[test]
fn programs_are_read_from_regular_files_of_bounded_size() {
    let dir = scratch("programs");
    std::fs::create_dir_all(&dir).unwrap();
    let expect = |program: &str, message: &str| {
        let out = omelet(&["hlo", program]);
        assert_eq!(out.status.code(), Some(2), "{program}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!("error[E-INPUT]: cannot read {program}: {message}\n")
        );
    };
    let not_regular =
        "not a regular file (a FIFO, a device or a socket); programs are read from files";
    expect("/dev/zero", not_regular);
    let fifo = dir.join("fifo.om");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    expect(fifo.to_str().unwrap(), not_regular);
    expect(dir.to_str().unwrap(), "it is a directory");
    // Sparse: 65 MiB of zeros that take no disk.
    let huge = dir.join("huge.om");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    expect(
        huge.to_str().unwrap(),
        "it is larger than the 64 MiB a program may take",
    );
    let latin1 = dir.join("latin1.om");
    std::fs::write(&latin1, b"fn main(x: f32[2]) { x } # caf\xe9\n").unwrap();
    let out = omelet(&["hlo", latin1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("it is not UTF-8 text"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each flag that binds a name binds it once, dimensions are not negative, a
/// benchmark runs at least once, and `--out` is a directory: each mistake is
/// its own message and status 2.
#[test]
fn flag_mistakes_are_precise_errors() {
    let check = |args: &[&str], message: &str| {
        let out = omelet(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    };
    check(
        &[
            "run",
            MATMUL,
            "--input",
            X,
            "--input",
            "x.1=tests/jax/dot_matmul/in1.npy",
            "--input",
            W,
        ],
        "error[E-INPUT]: --input x.1 is given twice (x.1=tests/jax/dot_matmul/in0.npy and x.1=tests/jax/dot_matmul/in1.npy)",
    );
    check(
        &[
            "run",
            MATMUL,
            "--input",
            X,
            "--input",
            "0=tests/jax/dot_matmul/in0.npy",
            "--input",
            W,
        ],
        "error[E-INPUT]: --input 0: parameter x.1 is already bound by another --input",
    );
    check(
        &[
            "run",
            "examples/mlp.om",
            "--shape",
            "B=64",
            "--shape",
            "B=32",
            "--random",
            "0",
        ],
        "error[E-INPUT]: --shape B is given twice (B=64 and B=32)",
    );
    check(
        &["run", "examples/mlp.om", "--shape", "B=-1", "--random", "0"],
        "the dimension B must not be negative, got -1",
    );
    check(
        &[
            "run",
            "examples/mlp.om",
            "--shape",
            "B=lots",
            "--random",
            "0",
        ],
        "the dimension B must be an integer, got `lots`",
    );
    check(
        &["bench", MATMUL, "--random", "0", "--iters", "0"],
        "at least one run is needed to time a program",
    );
    let file = scratch("out-file");
    std::fs::write(&file, "not a directory").unwrap();
    check(
        &[
            "run",
            MATMUL,
            "--random",
            "0",
            "--out",
            file.to_str().unwrap(),
        ],
        &format!(
            "error: --out {}: it is a file; --out names a directory for out0.npy, out1.npy, ...",
            file.display()
        ),
    );
    let _ = std::fs::remove_file(&file);
    // An empty axis is a shape like any other (NumPy's `zeros((0, 784))`).
    let out = omelet(&["run", "examples/mlp.om", "--shape", "B=0", "--random", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A UTF-8 byte-order mark (as Windows editors write) is skipped, and errors
/// still point at the right line and column.
#[test]
fn a_byte_order_mark_is_skipped() {
    let dir = scratch("bom");
    std::fs::create_dir_all(&dir).unwrap();
    let hlo = std::fs::read_to_string(root().join(MATMUL)).unwrap();
    let with_bom = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, format!("\u{feff}{text}")).unwrap();
        path.to_str().unwrap().to_string()
    };
    for program in [
        with_bom("matmul.hlo", &hlo),
        with_bom("matmul.txt", &hlo),
        with_bom("ok.om", "fn main(x: f32[2]) { x * 2 }\n"),
    ] {
        let out = omelet(&["run", &program, "--random", "0"]);
        assert_eq!(out.status.code(), Some(0), "{program}: {}", stderr(&out));
    }
    let bad = with_bom("bad.om", "fn main(x: f32[2]) { y }\n");
    let out = omelet(&["run", &bad, "--random", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("--> {bad}:1:22\n")),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("1 | fn main(x: f32[2]) { y }\n"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A source line of a megabyte is shown as a window around the error, in a
/// script and in HLO text alike.
#[test]
fn long_source_lines_are_clipped_in_errors() {
    let dir = scratch("long-lines");
    std::fs::create_dir_all(&dir).unwrap();
    let comment = "#".repeat(1 << 20);
    let script = dir.join("long.om");
    std::fs::write(&script, format!("fn main(x: f32[2]) {{ y }} {comment}\n")).unwrap();
    let hlo = dir.join("long.hlo");
    let name = "a".repeat(1 << 20);
    std::fs::write(
        &hlo,
        format!(
            "HloModule m\n\nENTRY e {{\n  p = f32[2]{{0}} parameter(0)\n  ROOT r = f32[2]{{0}} sort(p), metadata={{op_name=\"{name}\"}}\n}}\n"
        ),
    )
    .unwrap();
    for (program, at) in [(&script, ":1:22\n"), (&hlo, ":5:22\n")] {
        let out = omelet(&["hlo", program.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let text = stderr(&out);
        assert!(text.len() < 1000, "{} bytes: {}", text.len(), &text[..1000]);
        assert!(text.contains(at), "{text}");
        assert!(text.contains("..."), "{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `omelet` with the memory available set by `OMELET_MEMORY_LIMIT`.
fn omelet_with_memory(limit: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omelet"))
        .current_dir(root())
        .args(args)
        .env("OMELET_MEMORY_LIMIT", limit)
        .output()
        .expect("omelet runs")
}

/// A program whose buffers cannot fit in memory is refused before anything is
/// allocated: two 8.5 GB results under a 12 GB limit used to abort.
#[test]
fn programs_larger_than_memory_are_refused_up_front() {
    let dir = scratch("memory");
    std::fs::create_dir_all(&dir).unwrap();
    let two = dir.join("two.om");
    std::fs::write(
        &two,
        "fn main(x: f32[3]) { (broadcast_to(x[0], [B]), broadcast_to(x[1], [B])) }\n",
    )
    .unwrap();
    for backend in ["cpu", "interp", "gpu"] {
        let out = omelet_with_memory(
            "12e9",
            &[
                "run",
                two.to_str().unwrap(),
                "--shape",
                "B=2125000000",
                "--random",
                "0",
                "--backend",
                backend,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{backend}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "error[E-UNSUPPORTED]: the program cannot run: it needs about 17.0 GB of memory at \
             once (its inputs and results), more than the 12.0 GB available (OMELET_MEMORY_LIMIT)\n"
        );
    }
    // The interpreter keeps every intermediate; the CPU backend fuses them away.
    let chain = dir.join("chain.om");
    std::fs::write(&chain, "fn main(x: f32[B]) { sum(exp(x * 2 + 1) - x) }\n").unwrap();
    let run = |backend: &str| {
        omelet_with_memory(
            "10000000",
            &[
                "run",
                chain.to_str().unwrap(),
                "--shape",
                "B=1000000",
                "--random",
                "0",
                "--backend",
                backend,
            ],
        )
    };
    let out = run("interp");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("(every array the interpreter computes)"),
        "{}",
        stderr(&out)
    );
    let out = run("cpu");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = omelet_with_memory("lots", &["run", MATMUL, "--random", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("OMELET_MEMORY_LIMIT must be a number of bytes, not `lots`"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A flat sum of 201 terms nests nowhere: it used to fail with "nests more
/// than 200 deep".
#[test]
fn a_long_flat_sum_runs() {
    let dir = scratch("flat-sum");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("sum.om");
    let sum = vec!["x"; 201].join(" + ");
    std::fs::write(&script, format!("fn main(x: f32[2]) {{ {sum} }}\n")).unwrap();
    let out = omelet(&["run", script.to_str().unwrap(), "--random", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A result past the adapter's largest binding is the program's limit on this
/// GPU: status 2 with the sizes (it was 1, "a bug"). Without an adapter, 3.
#[test]
fn a_buffer_past_the_gpus_largest_binding_is_a_user_error() {
    let dir = scratch("gpu-binding");
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join("big.om");
    // 8.6 GB: more than any binding, whose size wgpu counts in 32 bits.
    std::fs::write(
        &big,
        "fn main(x: f32[3]) { broadcast_to(x[0], [2147483647]) }\n",
    )
    .unwrap();
    let out = omelet_with_memory(
        "1e15",
        &[
            "run",
            big.to_str().unwrap(),
            "--random",
            "0",
            "--backend",
            "gpu",
        ],
    );
    match out.status.code() {
        Some(3) => assert!(stderr(&out).contains("unavailable"), "{}", stderr(&out)),
        code => {
            assert_eq!(code, Some(2), "{}", stderr(&out));
            assert!(
                stderr(&out)
                    .contains("error[E-UNSUPPORTED]: the gpu backend cannot take this program")
                    && stderr(&out).contains("binds at most"),
                "{}",
                stderr(&out)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
