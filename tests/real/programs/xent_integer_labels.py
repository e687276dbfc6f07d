"""optax.softmax_cross_entropy_with_integer_labels and its gradient with respect to the logits, with a padding mask."""
import jax
import jax.numpy as jnp
import optax


def program():
    logits = jax.random.normal(jax.random.PRNGKey(1), (4, 6, 10)) * 3
    labels = jax.random.randint(jax.random.PRNGKey(2), (4, 6), 0, 10)
    mask = jnp.arange(6)[None, :] < jnp.array([6, 4, 2, 5])[:, None]

    def loss(logits, labels, mask):
        per_token = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        return jnp.sum(per_token * mask) / jnp.sum(mask)

    return jax.value_and_grad(loss), (logits, labels, mask)
