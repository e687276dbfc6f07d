"""Writes the HLO dump corpus under tests/dumps/: the files XLA and JAX write.

Regenerate with

    python3 tests/dumps/make.py            # every program
    python3 tests/dumps/make.py cumsum sort_topk   # some of them

from the repository root (or anywhere: paths are relative to this file). Needs
jax, flax and optax; runs on the CPU only.

For each program below (a small, varied JAX function with fixed inputs) it runs
`jax.jit(f).lower(*args).compile()` in a fresh Python process with
`XLA_FLAGS=--xla_dump_to=<tmp>` and keeps, under `tests/dumps/<program>/`:

- `before_optimizations.txt`: XLA's `*.before_optimizations.txt` for the
  program's own jitted function (the small modules eager JAX ops compile on the
  way, `jit_broadcast_in_dim` and the like, are dropped);
- `cpu_after_optimizations.txt`: XLA:CPU's `*.cpu_after_optimizations.txt`;
- `compiled.txt`, for the programs marked so: `compiled.as_text()`.

The files are exactly as XLA writes them, except that any file larger than
MAX_BYTES is dropped (the corpus is for the parser, and small files keep the
repository small). Output is deterministic for given jax/jaxlib versions:
inputs are fixed, PRNG keys are fixed, file names are the program's, and source
paths in the `FileNames` table are made relative with JAX's
`jax_hlo_source_file_canonicalization_regex`, so they do not name this
machine's directories. `versions.txt` records the versions that wrote them.
"""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BYTES = 100_000

# Each program: name -> (source of a function `program()` returning
# (f, args), whether to keep compiled.as_text(), whether it needs 64-bit types).
PROGRAMS = {}


def program(name, compiled=False, x64=False):
    def register(src):
        PROGRAMS[name] = (src, compiled, x64)
        return src

    return register


program("mlp_adam", compiled=True)(
    """
import optax
def program():
    def init(key):
        k1, k2 = jax.random.split(key)
        return {"w1": jax.random.normal(k1, (8, 16)) * 0.1, "b1": jnp.zeros(16),
                "w2": jax.random.normal(k2, (16, 4)) * 0.1, "b2": jnp.zeros(4)}
    params = init(jax.random.PRNGKey(0))
    opt = optax.adam(1e-3)
    state = opt.init(params)
    def loss(p, x, y):
        h = jax.nn.relu(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    def train_step(p, s, x, y):
        l, g = jax.value_and_grad(loss)(p, x, y)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, l
    x = np.linspace(-1, 1, 32 * 8, dtype=np.float32).reshape(32, 8)
    y = (np.arange(32) % 4).astype(np.int32)
    return train_step, (params, state, x, y)
"""
)

program("cnn_flax", compiled=True)(
    """
import flax.linen as nn
import optax
class CNN(nn.Module):
    @nn.compact
    def __call__(self, x):
        x = nn.Conv(features=4, kernel_size=(3, 3))(x)
        x = nn.relu(x)
        x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
        x = nn.Conv(features=8, kernel_size=(3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))(x)
        x = nn.max_pool(x, window_shape=(2, 2), strides=(2, 2))
        x = x.reshape((x.shape[0], -1))
        return nn.Dense(10)(x)
def program():
    model = CNN()
    x = np.linspace(0, 1, 2 * 16 * 16 * 1, dtype=np.float32).reshape(2, 16, 16, 1)
    y = np.array([3, 7], dtype=np.int32)
    params = model.init(jax.random.PRNGKey(0), x)
    def cnn_step(params, x, y):
        def loss(p):
            logits = model.apply(p, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        l, g = jax.value_and_grad(loss)(params)
        return jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, params, g), l
    return cnn_step, (params, x, y)
"""
)

program("lstm_scan")(
    """
def program():
    H, D, T, B = 8, 4, 6, 2
    rng = np.random.RandomState(0)
    w = rng.randn(D + H, 4 * H).astype(np.float32) * 0.1
    b = np.zeros(4 * H, np.float32)
    xs = rng.randn(T, B, D).astype(np.float32)
    def lstm(w, b, xs):
        def cell(carry, x):
            h, c = carry
            z = jnp.concatenate([x, h], axis=1) @ w + b
            i, f, g, o = jnp.split(z, 4, axis=1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), h
        init = (jnp.zeros((B, H)), jnp.zeros((B, H)))
        (h, c), hs = jax.lax.scan(cell, init, xs)
        return hs.sum(), jax.grad(lambda w: jax.lax.scan(cell, init, xs)[1].sum())(w)
    return lstm, (w, b, xs)
"""
)

program("dropout")(
    """
def program():
    def dropout(key, x):
        keep = jax.random.bernoulli(key, 0.9, x.shape)
        noise = jax.random.uniform(jax.random.fold_in(key, 1), x.shape)
        return jnp.where(keep, x / 0.9, 0.0) + noise
    x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8)
    return dropout, (jax.random.PRNGKey(42), x)
"""
)

program("argmax")(
    """
def program():
    def argmax(x):
        return jnp.argmax(x, axis=1), jnp.argmin(x, axis=0), jnp.max(x)
    x = np.cos(np.arange(24, dtype=np.float32)).reshape(4, 6)
    return argmax, (x,)
"""
)

program("embedding")(
    """
def program():
    table = np.linspace(-1, 1, 10 * 4, dtype=np.float32).reshape(10, 4)
    ids = np.array([[1, 3, 3], [9, 0, 2]], dtype=np.int32)
    def embedding(table, ids):
        def loss(t):
            e = t[ids]
            return (e * e).sum()
        return table[ids], jax.grad(loss)(table)
    return embedding, (table, ids)
"""
)

program("bf16_matmul", compiled=True)(
    """
def program():
    a = np.linspace(-1, 1, 16 * 32, dtype=np.float32).reshape(16, 32)
    b = np.linspace(1, -1, 32 * 8, dtype=np.float32).reshape(32, 8)
    def bf16_matmul(a, b):
        a16 = a.astype(jnp.bfloat16)
        b16 = b.astype(jnp.bfloat16)
        c = jnp.dot(a16, b16, preferred_element_type=jnp.float32)
        h = (a16 @ b16).astype(jnp.float16)
        return c, jax.nn.gelu(h), jnp.float16(1e-5) + h.max()
    return bf16_matmul, (a, b)
"""
)

program("while_loop")(
    """
def program():
    def while_loop(x, n):
        def cond(s):
            i, v = s
            return jnp.logical_and(i < n, v.sum() < 1e6)
        def body(s):
            i, v = s
            return i + 1, v * 1.5 + jnp.sin(v)
        i, v = jax.lax.while_loop(cond, body, (0, x))
        j = jax.lax.fori_loop(0, 5, lambda k, a: a + k, 0.0)
        return i, v, j
    return while_loop, (np.ones(4, np.float32), np.int32(7))
"""
)

program("cumsum")(
    """
def program():
    def cumsum(x):
        return jnp.cumsum(x, axis=0), jnp.cumprod(x, axis=1), jax.lax.cummax(x, axis=1)
    x = np.linspace(0.5, 1.5, 5 * 7, dtype=np.float32).reshape(5, 7)
    return cumsum, (x,)
"""
)

program("sort_topk")(
    """
def program():
    def sort_topk(x, k):
        v, i = jax.lax.top_k(x, 3)
        return jnp.sort(x, axis=-1), jnp.argsort(x, axis=0, stable=True), v, i, jnp.sort(k)
    x = np.sin(np.arange(30, dtype=np.float32)).reshape(5, 6)
    k = np.array([5, -2, 9, 0], np.int32)
    return sort_topk, (x, k)
"""
)

program("bitops", x64=True)(
    """
def program():
    def bitops(a, b, c, d):
        x = (a ^ b) << 3
        y = jax.lax.shift_right_logical(a, np.int32(2)) | jax.lax.shift_right_arithmetic(b, np.int32(1))
        z = jax.lax.population_count(a) + jax.lax.clz(b)
        w = (c * np.uint64(0xFFFFFFFFFFFFFFFF)) & np.uint64(0x8000000000000001)
        q = d // np.int64(-3) + d % np.int64(7) + np.int64(-9223372036854775807)
        u8 = (a.astype(jnp.uint8) >> 1) + np.uint8(255)
        s16 = b.astype(jnp.int16) * np.int16(-300)
        f = jax.lax.bitcast_convert_type(a, jnp.float32) + d.astype(jnp.float64)[0]
        return x, y, z, w, q, u8, s16, f, ~a
    a = np.array([1, 7, -8, 1 << 30], np.int32)
    b = np.array([3, -1, 5, 12345], np.int32)
    c = np.array([1, 2, 3, 4], np.uint64)
    d = np.array([-5, 17, 2**40, -(2**50)], np.int64)
    return bitops, (a, b, c, d)
"""
)

program("cond_switch")(
    """
def program():
    def cond_switch(p, i, x):
        y = jax.lax.cond(p, lambda v: jnp.exp(v), lambda v: -v, x)
        z = jax.lax.switch(i, [lambda v: v + 1, lambda v: v * 2, lambda v: jnp.abs(v)], x)
        return y, z, jax.lax.dynamic_slice(x, (i,), (2,)), jax.lax.dynamic_update_slice(x, y[:2], (i,))
    return cond_switch, (np.bool_(True), np.int32(1), np.linspace(-1, 1, 6, dtype=np.float32))
"""
)

program("layernorm_f16")(
    """
def program():
    def layernorm_f16(x, g):
        x16 = x.astype(jnp.float16)
        m = x16.mean(-1, keepdims=True)
        v = ((x16 - m) ** 2).mean(-1, keepdims=True)
        y = (x16 - m) * jax.lax.rsqrt(v + jnp.float16(1e-5)) * g.astype(jnp.float16)
        sm = jax.nn.softmax(x, axis=-1)
        pad = jnp.pad(x, ((1, 0), (0, 2)), constant_values=-jnp.inf)
        return y, sm, pad, jnp.flip(x, 0), jnp.isnan(x).any(), jnp.float32(jnp.nan) * x
    x = np.linspace(-2, 2, 4 * 8, dtype=np.float32).reshape(4, 8)
    return layernorm_f16, (x, np.ones(8, np.float32))
"""
)

# Runs in the child: builds the program, compiles it, writes compiled.as_text().
CHILD = """
import os, sys
import numpy as np
import jax
import jax.numpy as jnp
jax.config.update("jax_hlo_source_file_canonicalization_regex", r".*/(site-packages|dist-packages|tests/dumps)/")
{x64}
{src}
f, args = program()
name = f.__name__
compiled = jax.jit(f).lower(*args).compile()
with open(sys.argv[1], "w") as out:
    out.write(compiled.as_text())
print(name)
"""


def make(name, out_root):
    src, keep_compiled, x64 = PROGRAMS[name]
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "dump")
        compiled_path = os.path.join(tmp, "compiled.txt")
        env = dict(os.environ)
        env["XLA_FLAGS"] = f"--xla_dump_to={dump}"
        env["JAX_PLATFORMS"] = "cpu"
        env["PYTHONHASHSEED"] = "0"
        code = CHILD.format(
            src=src,
            x64='jax.config.update("jax_enable_x64", True)' if x64 else "",
        )
        result = subprocess.run(
            [sys.executable, "-c", code, compiled_path],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"{name} failed:\n{result.stderr}")
        fn = result.stdout.strip().splitlines()[-1]
        wanted = {
            "before_optimizations.txt": f".jit_{fn}.before_optimizations.txt",
            "cpu_after_optimizations.txt": f".jit_{fn}.cpu_after_optimizations.txt",
        }
        out_dir = os.path.join(out_root, name)
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(out_dir)
        files = sorted(os.listdir(dump))
        kept = []
        for target, suffix in wanted.items():
            matches = [f for f in files if f.endswith(suffix)]
            if len(matches) != 1:
                raise SystemExit(f"{name}: expected one *{suffix}, found {matches}")
            kept.append((os.path.join(dump, matches[0]), target))
        if keep_compiled:
            kept.append((compiled_path, "compiled.txt"))
        for path, target in kept:
            size = os.path.getsize(path)
            if size > MAX_BYTES:
                print(f"{name}/{target}: {size} bytes, dropped")
                continue
            shutil.copyfile(path, os.path.join(out_dir, target))
            print(f"{name}/{target}: {size} bytes")


def main():
    names = sys.argv[1:] or list(PROGRAMS)
    for name in names:
        make(name, HERE)
    import jax
    import jaxlib

    versions = [f"jax {jax.__version__}", f"jaxlib {jaxlib.__version__}"]
    for mod in ("flax", "optax"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            pass
    with open(os.path.join(HERE, "versions.txt"), "w") as out:
        out.write("\n".join(versions) + "\n")


if __name__ == "__main__":
    main()
