"""nn.Embed lookups averaged over a bag of token ids, then a Dense classifier: forward and embedding gradient (scatter-add)."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax


class Bag(nn.Module):
    @nn.compact
    def __call__(self, ids):
        e = nn.Embed(num_embeddings=20, features=8)(ids)
        return nn.Dense(2)(e.mean(axis=1))


def program():
    model = Bag()
    ids = jax.random.randint(jax.random.PRNGKey(1), (6, 5), 0, 20)
    labels = jnp.array([0, 1, 1, 0, 1, 0])
    params = model.init(jax.random.PRNGKey(0), ids)

    def step(params, ids, labels):
        def loss_fn(p):
            logits = model.apply(p, ids)
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

        return jax.value_and_grad(loss_fn)(params)

    return step, (params, ids, labels)
