"""Mixed precision: an MLP with bfloat16 params and matmuls (dtype/param_dtype=jnp.bfloat16), f32 loss, sgd step in bf16."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax

TOLERANCE = (2e-2, 2e-2)


class MLP(nn.Module):
    @nn.compact
    def __call__(self, x):
        dense = lambda n: nn.Dense(n, dtype=jnp.bfloat16, param_dtype=jnp.bfloat16)
        x = nn.relu(dense(32)(x))
        return dense(4)(x)


def program():
    model = MLP()
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 16)).astype(jnp.bfloat16)
    y = jax.random.randint(jax.random.PRNGKey(2), (8,), 0, 4)
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.sgd(0.1)
    opt_state = tx.init(params)

    def train_step(params, opt_state, x, y):
        def loss_fn(p):
            logits = model.apply(p, x).astype(jnp.float32)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, opt_state, x, y)
