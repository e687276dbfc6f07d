"""A VAE training step: encoder, reparameterization with jax.random.normal, decoder, ELBO, optax.adam."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class VAE(nn.Module):
    latent: int = 4

    @nn.compact
    def __call__(self, x, key):
        h = nn.relu(nn.Dense(16)(x))
        mean, logvar = nn.Dense(self.latent)(h), nn.Dense(self.latent)(h)
        z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, mean.shape)
        logits = nn.Dense(x.shape[-1])(nn.relu(nn.Dense(16)(z)))
        return logits, mean, logvar


def program():
    model = VAE()
    x = (jax.random.uniform(jax.random.PRNGKey(1), (8, 12)) > 0.5).astype(jnp.float32)
    key = jax.random.PRNGKey(3)
    params = model.init(jax.random.PRNGKey(0), x, key)
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    def train_step(params, opt_state, x, key):
        key, sample_key = jax.random.split(key)

        def loss_fn(p):
            logits, mean, logvar = model.apply(p, x, sample_key)
            bce = optax.sigmoid_binary_cross_entropy(logits, x).sum(-1)
            kl = -0.5 * jnp.sum(1 + logvar - mean**2 - jnp.exp(logvar), axis=-1)
            return jnp.mean(bce + kl)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, updates), opt_state, key, loss

    return train_step, (params, opt_state, x, key)
