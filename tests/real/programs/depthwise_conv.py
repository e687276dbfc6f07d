"""A MobileNet-style block: depthwise nn.Conv (feature_group_count), pointwise conv, GroupNorm, 1-D dilated conv; with gradients."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class Block(nn.Module):
    @nn.compact
    def __call__(self, x, seq):
        y = nn.Conv(8, (3, 3), feature_group_count=8, padding="SAME")(x)
        y = nn.Conv(16, (1, 1))(nn.relu6(y))
        y = nn.GroupNorm(num_groups=4)(y)
        z = nn.Conv(4, (3,), kernel_dilation=(2,), padding="CAUSAL")(seq)
        return jnp.mean(y) + jnp.mean(z), (y, z)


def program():
    model = Block()
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 6, 6, 8))
    seq = jax.random.normal(jax.random.PRNGKey(2), (2, 10, 3))
    params = model.init(jax.random.PRNGKey(0), x, seq)

    def f(params, x, seq):
        (loss, (y, z)), grads = jax.value_and_grad(lambda p: model.apply(p, x, seq), has_aux=True)(params)
        return loss, y, z, grads

    return f, (params, x, seq)
