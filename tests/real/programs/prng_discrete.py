"""JAX's PRNG for discrete draws: randint, permutation (a sort by random keys), categorical, gumbel, raw bits."""
import jax
import jax.numpy as jnp


def program():
    def sample(key):
        k = jax.random.split(key, 5)
        return (
            jax.random.randint(k[0], (6,), 0, 100),
            jax.random.permutation(k[1], 10),
            jax.random.categorical(k[2], jnp.log(jnp.array([0.1, 0.2, 0.7])), shape=(6,)),
            jax.random.gumbel(k[3], (3,)),
            jax.random.bits(k[4], (4,), jnp.uint32),
        )

    return sample, (jax.random.PRNGKey(1),)
