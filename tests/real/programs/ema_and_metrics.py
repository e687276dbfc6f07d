"""Training bookkeeping: optax.ema of params (debiased), optax.adagrad update, tree-wide norms, an is-finite check, step counting."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


def program():
    model = nn.Dense(4)
    x = jax.random.normal(jax.random.PRNGKey(1), (8, 6))
    params = model.init(jax.random.PRNGKey(0), x)
    tx = optax.adagrad(0.1)
    ema = optax.ema(0.9)
    opt_state, ema_state = tx.init(params), ema.init(params)

    def step(params, opt_state, ema_state, x):
        loss, grads = jax.value_and_grad(lambda p: jnp.mean(jnp.abs(model.apply(p, x))))(params)
        updates, opt_state = tx.update(grads, opt_state)
        params = optax.apply_updates(params, updates)
        averaged, ema_state = ema.update(params, ema_state)
        finite = jnp.all(jnp.isfinite(jnp.asarray(jax.tree_util.tree_leaves(
            jax.tree_util.tree_map(jnp.sum, grads)))))
        return params, opt_state, ema_state, averaged, loss, optax.global_norm(params), finite

    return step, (params, opt_state, ema_state, x)
