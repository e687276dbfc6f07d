"""An LSTM sequence classifier through nn.RNN(nn.OptimizedLSTMCell) (a lax.scan loop): forward and gradients."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class Classifier(nn.Module):
    @nn.compact
    def __call__(self, x):
        h = nn.RNN(nn.OptimizedLSTMCell(16))(x)
        return nn.Dense(3)(h[:, -1])


def program():
    model = Classifier()
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 6, 8))
    y = jax.random.randint(jax.random.PRNGKey(2), (4,), 0, 3)
    params = model.init(jax.random.PRNGKey(0), x)

    def loss_and_grad(params, x, y):
        def loss_fn(p):
            logits = model.apply(p, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        return jax.value_and_grad(loss_fn)(params)

    return loss_and_grad, (params, x, y)
