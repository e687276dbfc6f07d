#!/usr/bin/env python3
"""Time the peers of the benchmark suite on this CPU: JAX (jax.jit on XLA:CPU) and NumPy.

Usage:  python3 benches/suite/peers.py [--iters N] [--only NAME,...] [--no-stream] > peers.json
For each case of benches/suite/cases.py (same shapes, standard-normal f32 inputs from
jax_fixtures' fixed seed) it times jax.jit(f) on device arrays with .block_until_ready(),
and a float32 NumPy twin written out below: median/min/max of N runs (default 20) after a
warm-up. It also measures NumPy SGEMM GFLOP/s at 1024^3 and builds and runs
benches/stream/stream.c (gcc -O3 -march=native -fopenmp, into target/peers/) as the
memory-bandwidth ceiling. Both XLA and OpenBLAS use every core unless XLA_FLAGS,
OPENBLAS_NUM_THREADS or OMP_NUM_THREADS say otherwise (recorded under "env").
"other_load" (overall and per result) is the cores' worth of CPU that other processes used
meanwhile: above ~0.1 the timings are disturbed. Prints one JSON document;
benches/suite/report.py turns it into a table.
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, time
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(root, "tests"))
import jax_fixtures as jf  # noqa: E402  (loads cases the way xla_counts.py does)
np, jax, jnp = jf.np, jf.jax, jf.jnp
f32 = np.float32

# NumPy twins of cases.py, float32 throughout (Python scalars stay f32 under NEP 50).
def _sigmoid(x): return f32(1) / (f32(1) + np.exp(-x))
def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
def _gelu_tanh(x):
    return f32(0.5) * x * (f32(1) + np.tanh(f32(np.sqrt(2 / np.pi)) * (x + f32(0.044715) * x * x * x)))
def _layernorm(x, g, b):
    m = x.mean(axis=-1, keepdims=True)
    v = np.square(x - m).mean(axis=-1, keepdims=True)
    return (x - m) * (f32(1) / np.sqrt(v + f32(1e-5))) * g + b
NUMPY = {
    "ew_chain": lambda x: np.tanh(2 * x + 1) * _sigmoid(x) + x * x,
    "softmax": _softmax,
    "layernorm": _layernorm,
    "mlp": lambda x, w1, b1, w2, b2: _gelu_tanh(x @ (w1 * f32(0.03)) + b1) @ (w2 * f32(0.03)) + b2 + x,
    "attention": lambda q, k, v: _softmax(q @ np.swapaxes(k, 1, 2) / 8) @ v,
    "gemm": lambda a, b: a @ b,
    "gemm_nt": lambda a, b: a @ b.T,
    "col_reduce": lambda x: (x.sum(axis=0), x.max(axis=0)),
    "transpose_add": lambda x, y: (x.T + y).T * 2,
    "linreg_grad": lambda x, w, y: x.T @ ((x @ w - y) * f32(2 / 2048)),
}

def busy_s():
    """CPU seconds spent by all processes (from /proc/stat) and by this one (with children)."""
    v = [int(x) for x in open("/proc/stat").readline().split()[1:8]]
    t = os.times()
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK"), t.user + t.system + t.children_user + t.children_system

def other_load(since, wall):
    """Cores' worth of CPU used by other processes since `since` (a busy_s()) over `wall` seconds,
    less two clock ticks of rounding."""
    (a1, m1), (a0, m0) = busy_s(), since
    return round(max(0.0, (a1 - a0) - (m1 - m0) - 2 / os.sysconf("SC_CLK_TCK")) / max(wall, 1e-9), 2)

def timeit(call, iters, warmup=3):
    for _ in range(warmup):
        call()
    ts, b0, w0 = [], busy_s(), time.perf_counter()
    for _ in range(iters):
        t0 = time.perf_counter(); call(); ts.append(time.perf_counter() - t0)
    return dict(median_s=statistics.median(ts), min_s=min(ts), max_s=max(ts), iters=iters,
                other_load=other_load(b0, time.perf_counter() - w0))

def leaves(r):
    """A result's or the arguments' arrays in the order of the HLO's flattened
    parameters and results (a pytree's leaves: model parameters are dicts)."""
    return jax.tree_util.tree_leaves(r)

def stream():
    cc = shutil.which("gcc")
    if not cc:
        return {"error": "gcc not found; STREAM not measured"}
    exe = os.path.join(root, "target", "peers", "stream")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    src = os.path.join(root, "benches", "stream", "stream.c")
    try:
        subprocess.run([cc, "-O3", "-march=native", "-fopenmp", src, "-o", exe], check=True,
                       capture_output=True, text=True)
        out = subprocess.run([exe], check=True, capture_output=True, text=True, timeout=120)
        return json.loads(out.stdout)
    except (subprocess.SubprocessError, ValueError) as e:
        return {"error": f"STREAM failed: {e} {getattr(e, 'stderr', '') or ''}".strip()}

def measure(cases_file, numpy_twins, argv=None, description=__doc__, check=None, gemm=(),
            min_bytes=None):
    """Time each case of `cases_file` on XLA and on its twin in `numpy_twins` (where it
    has one) and print the JSON document; the cases named in `gemm` are marked
    "bound": "gemm" for report.py (GFLOP/s against SGEMM rather than GB/s). `check(omelet, name, args, xla_out, rtol, atol)`, if
    given, returns more facts about a case for doc["programs"][name] (with --omelet).
    `min_bytes(name, args, xla_out)`, if given, is a case's minimum traffic where
    it is less than its inputs plus its outputs (None where it is not)."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--no-stream", action="store_true")
    if check:
        ap.add_argument("--omelet", metavar="BINARY", help="check each case's output against Omelet's")
    o = ap.parse_args(argv)
    t_start = time.perf_counter()
    cases = jf.load_cases(cases_file)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.processor())
    doc = dict(cpu=cpu, cores=os.cpu_count(), jax_version=jax.__version__, numpy_version=np.__version__,
               jax_devices=[str(d) for d in jax.devices("cpu")],
               env={k: os.environ[k] for k in ("XLA_FLAGS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                               "MKL_NUM_THREADS") if k in os.environ},
               results=[], programs={})
    b0, t0 = busy_s(), time.perf_counter()
    time.sleep(0.5)
    if other_load(b0, time.perf_counter() - t0) > 0.1:
        print("warning: other processes are using the CPU: timings will be disturbed", file=sys.stderr)
    run0, w0 = busy_s(), time.perf_counter()
    only = set(o.only.split(",")) if o.only else None
    jax.block_until_ready(jax.jit(lambda v: v + 1)(np.float32(0)))  # keep XLA start-up out of compile_s
    for name, (f, args, rtol, atol) in cases.items():
        if only and name not in only:
            continue
        # A case marked `__x64__` (as in jax_fixtures) keeps its 64-bit inputs 64-bit.
        with jax.enable_x64(getattr(f, "__x64__", False)):
            line, xla_out = measure_case(doc, o, name, f, args, numpy_twins.get(name), gemm)
            fewer = min_bytes and min_bytes(name, args, xla_out)
            if fewer:
                doc["programs"][name]["min_bytes"] = int(fewer)
            if check and o.omelet:
                facts = check(o.omelet, name, args, xla_out, rtol, atol)
                doc["programs"][name].update(facts)
                line += f", omelet {facts}"
        print(line, file=sys.stderr)
    a, b = jf.randn(1024, 1024), jf.randn(1024, 1024)
    r = timeit(lambda: a @ b, max(o.iters, 20), warmup=3)
    doc["numpy_sgemm_gflops"] = 2 * 1024 ** 3 / r["median_s"] / 1e9
    doc["numpy_sgemm_gflops_best"] = 2 * 1024 ** 3 / r["min_s"] / 1e9
    print(f"numpy sgemm 1024^3: {doc['numpy_sgemm_gflops']:.1f} GFLOP/s", file=sys.stderr)
    if not o.no_stream:
        doc["stream"] = stream()
        print(f"stream: {doc['stream']}", file=sys.stderr)
    doc["total_s"] = time.perf_counter() - t_start
    doc["other_load"] = other_load(run0, time.perf_counter() - w0)  # cores used by other processes during the run
    json.dump(doc, sys.stdout, indent=1)
    print()

def same(a, b, rtol, atol):
    """Whether two results agree: in dtype and shape, and to the bit where the
    tolerances are zero (NaNs equal), else within them."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if rtol == 0 and atol == 0:
        return a.tobytes() == b.tobytes()
    return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True))

def measure_case(doc, o, name, f, args, numpy_twin, gemm):
    """Time one case on XLA and NumPy into `doc`; the progress line and XLA's results."""
    dev = [jax.device_put(a, jax.devices("cpu")[0]) for a in args]
    t0 = time.perf_counter()
    compiled = jax.jit(f).lower(*dev).compile()
    compile_s = time.perf_counter() - t0
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    xla_out = [np.asarray(r) for r in leaves(compiled(*dev))]
    outs_bytes = sum(r.nbytes for r in xla_out)
    doc["programs"][name] = dict(min_bytes=int(sum(a.nbytes for a in leaves(args)) + outs_bytes),
                                 flops=float((cost or {}).get("flops", 0.0)))
    if name in gemm:
        doc["programs"][name]["bound"] = "gemm"
    r = timeit(lambda: jax.block_until_ready(compiled(*dev)), o.iters)
    doc["results"].append(dict(program=name, peer="xla", compile_s=compile_s, **r))
    line = f"{name}: xla {r['median_s']*1e3:.2f} ms"
    if numpy_twin is None:
        return line, xla_out
    np_out = leaves(numpy_twin(*args))
    ok = len(np_out) == len(xla_out) and all(same(n, x, 1e-3, 1e-3) for n, x in zip(np_out, xla_out))
    r = timeit(lambda: numpy_twin(*args), o.iters)
    doc["results"].append(dict(program=name, peer="numpy", matches_xla=bool(ok), **r))
    return line + f", numpy {r['median_s']*1e3:.2f} ms" + ("" if ok else " (NumPy twin DISAGREES with XLA)"), xla_out

if __name__ == "__main__":
    measure(os.path.join(here, "cases.py"), NUMPY)

def omelet_checker(bench, backends, iters, results):
    """The `check` hook of `measure` for the cases of benches/BENCH/cases.py, whose HLO
    text is benches/BENCH/NAME.hlo: writes each case's inputs to
    target/BENCH-bench/NAME/, runs the program on the first of `backends` to check its
    results against XLA's, and times it on every backend (appended to `results`)."""
    def check(omelet, name, args, xla_out, rtol, atol):
        folder = os.path.join(root, "target", f"{bench}-bench", name)
        os.makedirs(folder, exist_ok=True)
        binds = []
        for i, a in enumerate(leaves(args)):
            path = os.path.join(folder, f"in{i}.npy")
            np.save(path, np.asarray(a))
            binds += ["--input", f"{i}={path}"]
        program = os.path.join("benches", bench, f"{name}.hlo")
        facts = {}
        out = os.path.join(folder, "out")
        run = subprocess.run([omelet, "run", program, *binds, "--backend", backends[0],
                              "--out", out], capture_output=True, text=True, cwd=root)
        if run.returncode != 0:
            facts["omelet_error"] = run.stderr.strip()[-500:]
        else:
            mine = [np.load(os.path.join(out, f"out{i}.npy")) for i in range(len(xla_out))]
            facts["omelet_matches_xla"] = all(same(m, x, rtol, atol)
                                              for m, x in zip(mine, xla_out))
        timing = subprocess.run([omelet, "bench", program, *binds, "--backends",
                                 ",".join(backends), "--iters", str(iters), "--json"],
                                capture_output=True, text=True, cwd=root)
        if timing.returncode != 0:
            facts["omelet_bench_error"] = timing.stderr.strip()[-500:]
        else:
            timed = json.loads(timing.stdout)["results"]
            results.extend(timed)
            facts["omelet_median_s"] = {r["backend"]: r["median_s"] for r in timed}
        return facts
    return check

def measure_hlo_bench(bench, numpy_twins, description, min_bytes=None):
    """The command line of benches/BENCH/peers.py: `measure` on benches/BENCH/cases.py,
    and with --omelet, Omelet on the same inputs (`omelet_checker`) into --omelet-json."""
    ap = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    ap.add_argument("--backends", default="cpu")
    ap.add_argument("--omelet-iters", type=int, default=5)
    ap.add_argument("--omelet-json", default="omelet.json")
    o, rest = ap.parse_known_args()
    results = []
    check = omelet_checker(bench, o.backends.split(","), o.omelet_iters, results)
    measure(os.path.join(root, "benches", bench, "cases.py"), numpy_twins, argv=rest,
            description=description, check=check, min_bytes=min_bytes)
    if results:
        with open(o.omelet_json, "w") as fh:
            json.dump({"results": results}, fh, indent=1)
