"""JAX's PRNG as the program: split, fold_in, normal, uniform and bernoulli draws from a key input."""
import jax
import jax.numpy as jnp


def program():
    def sample(key):
        k = jax.random.split(key, 4)
        return (
            k,
            jax.random.fold_in(key, 42),
            jax.random.normal(k[0], (4, 3)),
            jax.random.uniform(k[1], (5,), minval=-1.0, maxval=2.0),
            jax.random.bernoulli(k[2], 0.3, (8,)),
            jax.random.truncated_normal(k[3], -1.0, 1.0, (3,)),
        )

    return sample, (jax.random.PRNGKey(0),)
