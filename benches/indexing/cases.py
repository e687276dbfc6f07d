# Issue 14's benchmark programs as JAX users write them, in the CASES format of
# tests/jax_fixtures.py (`case`, `randn`, `randint`, `jax`, `jnp`, `np` are injected):
# flax's nn.Embed lookup and its gradient, optax's integer-label cross-entropy and
# its gradient, and flax's max pool (a ResNet stem's, 3x3 stride 2 SAME) and its
# gradient. Each gradient program returns the forward result too (jax.vjp), as a
# training step computes both.
#
# The .hlo files beside this one are the HLO text JAX emits for these cases
# (`jax.jit(f).lower(*args).as_text(dialect="hlo")`); regenerate them with
#     python3 benches/indexing/cases.py
# benches/indexing/peers.py times XLA:CPU on the same inputs.
import flax.linen as nn
import optax

if __name__ == "__main__":
    import os, sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
    import jax_fixtures
    sys.exit(jax_fixtures.write_hlo(__file__))

VOCAB, DIM, TOKENS = 32000, 512, 8192
TABLE, IDS = randn(VOCAB, DIM), randint(0, VOCAB, TOKENS)

def lookup(table, tokens): return jnp.take(table, tokens, axis=0)  # nn.Embed.__call__

@case("embedding_lookup", TABLE, IDS)
def embedding_lookup(table, tokens): return lookup(table, tokens)

@case("embedding_grad", TABLE, IDS, randn(TOKENS, DIM))
def embedding_grad(table, tokens, cotangent):
    rows, pullback = jax.vjp(lambda t: lookup(t, tokens), table)
    return rows, pullback(cotangent)[0]

LOGITS, LABELS = randn(1024, 32000), randint(0, 32000, 1024)

def xent(logits, labels):
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

@case("xent_loss", LOGITS, LABELS)
def xent_loss(logits, labels): return xent(logits, labels)

@case("xent_grad", LOGITS, LABELS)
def xent_grad(logits, labels): return jax.value_and_grad(xent)(logits, labels)

IMAGES = randn(16, 112, 112, 64)

def pool(x): return nn.max_pool(x, (3, 3), (2, 2), "SAME")

@case("max_pool", IMAGES)
def max_pool(x): return pool(x)

@case("max_pool_grad", IMAGES, randn(16, 56, 56, 64))
def max_pool_grad(x, cotangent):
    y, pullback = jax.vjp(pool, x)
    return y, pullback(cotangent)[0]
