"""An upsampling decoder: nn.ConvTranspose with stride 2, jax.image.resize (bilinear), sigmoid output, L2 loss and grads."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class Decoder(nn.Module):
    @nn.compact
    def __call__(self, z):
        x = nn.Dense(3 * 3 * 8)(z).reshape((-1, 3, 3, 8))
        x = nn.relu(nn.ConvTranspose(8, (3, 3), strides=(2, 2))(x))
        x = jax.image.resize(x, (x.shape[0], 8, 8, 8), "bilinear")
        return nn.sigmoid(nn.Conv(1, (3, 3))(x))


def program():
    model = Decoder()
    z = jax.random.normal(jax.random.PRNGKey(1), (2, 4))
    target = jax.random.uniform(jax.random.PRNGKey(2), (2, 8, 8, 1))
    params = model.init(jax.random.PRNGKey(0), z)

    def f(params, z, target):
        return jax.value_and_grad(lambda p: jnp.mean((model.apply(p, z) - target) ** 2))(params)

    return f, (params, z, target)
