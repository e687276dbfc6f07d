# Issue 15's benchmark programs as JAX users write them, in the CASES format of
# tests/jax_fixtures.py (`case`, `randn`, `randint`, `jax`, `jnp`, `np` are injected):
# a 1000-step `fori_loop` of a small update, and an LSTM layer (flax's
# OptimizedLSTMCell under nn.RNN, which is `lax.scan`: hidden 512, batch 64,
# 256 steps) forward and backward, as a training step computes it.
#
# The .hlo files beside this one are the HLO text JAX emits for these cases
# (`jax.jit(f).lower(*args).as_text(dialect="hlo")`); regenerate them with
#     python3 benches/loops/cases.py
# benches/loops/peers.py times XLA:CPU and Omelet on the same inputs.
import flax.linen as nn

if __name__ == "__main__":
    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
    import jax_fixtures
    sys.exit(jax_fixtures.write_hlo(__file__))

@case("fori_update", randn(256))
def fori_update(x):
    step = lambda i, x: x * 0.99 + 0.01 * jnp.tanh(x + i.astype(x.dtype) * 1e-3)
    return jax.lax.fori_loop(0, 1000, step, x)

HIDDEN, BATCH, STEPS = 512, 64, 256
LSTM = nn.RNN(nn.OptimizedLSTMCell(HIDDEN))
SEQUENCE = randn(BATCH, STEPS, HIDDEN)
PARAMS = LSTM.init(jax.random.PRNGKey(0), SEQUENCE)["params"]

@case("lstm_grad", PARAMS, SEQUENCE)
def lstm_grad(params, xs):
    def loss(params):
        ys = LSTM.apply({"params": params}, xs)
        return jnp.mean(ys * ys)
    return jax.value_and_grad(loss)(params)
