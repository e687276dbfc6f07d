"""Logistic regression: sigmoid binary cross entropy, gradient descent step, accuracy."""
import jax
import jax.numpy as jnp
import numpy as np
import optax


def program():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6)).astype(np.float32)
    y = (rng.uniform(size=8) > 0.5).astype(np.float32)
    params = {"w": np.zeros(6, np.float32) + 0.1, "b": np.float32(0.0)}

    def step(params, x, y):
        def loss_fn(p):
            logits = x @ p["w"] + p["b"]
            return optax.sigmoid_binary_cross_entropy(logits, y).mean(), logits

        (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        params = jax.tree_util.tree_map(lambda p, g: p - 0.5 * g, params, grads)
        accuracy = jnp.mean((logits > 0) == (y > 0.5))
        return params, loss, accuracy

    return step, (params, x, y)
