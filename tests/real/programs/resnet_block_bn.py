"""A ResNet block with BatchNorm in train mode: a training step that updates the mutable batch_stats."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class ResBlock(nn.Module):
    features: int = 8

    @nn.compact
    def __call__(self, x, train: bool):
        norm = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9)
        y = nn.Conv(self.features, (3, 3), use_bias=False)(x)
        y = nn.relu(norm()(y))
        y = nn.Conv(self.features, (3, 3), use_bias=False)(y)
        y = norm()(y)
        shortcut = nn.Conv(self.features, (1, 1), use_bias=False)(x)
        return nn.relu(y + shortcut)


class Net(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool):
        x = ResBlock()(x, train)
        return nn.Dense(3)(jnp.mean(x, axis=(1, 2)))


def program():
    model = Net()
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 6, 6, 3))
    y = jax.random.randint(jax.random.PRNGKey(2), (4,), 0, 3)
    variables = model.init(jax.random.PRNGKey(0), x, train=False)
    params, batch_stats = variables["params"], variables["batch_stats"]
    tx = optax.sgd(0.05, momentum=0.9, nesterov=True)
    opt_state = tx.init(params)

    def train_step(params, batch_stats, opt_state, x, y):
        def loss_fn(p):
            logits, updates = model.apply({"params": p, "batch_stats": batch_stats}, x,
                                          train=True, mutable=["batch_stats"])
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            return loss, updates["batch_stats"]

        (loss, batch_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), batch_stats, opt_state, loss

    return train_step, (params, batch_stats, opt_state, x, y)
