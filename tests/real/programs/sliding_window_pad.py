"""Data movement: jnp.pad (reflect, constant), flips, lax.dynamic_slice in a fori_loop, dynamic_update_slice, roll, moving average."""
import jax
import jax.numpy as jnp
from jax import lax


def program():
    x = jax.random.normal(jax.random.PRNGKey(1), (3, 10))
    start = jnp.int32(4)

    def moving(x, start):
        padded = jnp.pad(x, ((0, 0), (2, 2)), mode="reflect")
        window = lax.dynamic_slice(x, (0, start), (3, 4))
        clamped = lax.dynamic_slice(x, (0, start + 5), (3, 4))  # start index clamped by XLA
        updated = lax.dynamic_update_slice(x, jnp.zeros((3, 2)), (1, start))

        def body(i, acc):
            return acc + lax.dynamic_slice_in_dim(padded, i, 10, axis=1)

        average = lax.fori_loop(0, 5, body, jnp.zeros_like(x)) / 5
        return (padded, window, clamped, updated, average, jnp.flip(x, axis=1), jnp.roll(x, 3, axis=1),
                jnp.pad(x, ((1, 0), (0, 3)), constant_values=-1.0))

    return moving, (x, start)
