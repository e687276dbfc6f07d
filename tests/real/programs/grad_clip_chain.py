"""optax.chain(clip_by_global_norm, scale_by_adam, add_decayed_weights, scale_by_schedule): one update, with the global norm."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


def program():
    model = nn.Dense(8)
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 8)) * 10
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.chain(
        optax.clip_by_global_norm(0.5),
        optax.scale_by_adam(),
        optax.add_decayed_weights(1e-4),
        optax.scale_by_schedule(optax.exponential_decay(1e-2, 10, 0.5)),
        optax.scale(-1.0),
    )
    opt_state = tx.init(params)

    def step(params, opt_state, x):
        loss, grads = jax.value_and_grad(lambda p: jnp.sum(model.apply(p, x) ** 2))(params)
        norm = optax.global_norm(grads)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, norm

    return step, (params, opt_state, x)
