"""A tiny GPT's training step: next-token cross entropy with integer labels, optax.sgd with momentum."""
import jax
import jax.numpy as jnp
import flax.linen as nn
import optax

VOCAB, T, D, HEADS = 32, 8, 16, 2


class Block(nn.Module):
    @nn.compact
    def __call__(self, x):
        mask = nn.make_causal_mask(jnp.ones(x.shape[:2]))
        x = x + nn.SelfAttention(num_heads=HEADS)(nn.LayerNorm()(x), mask=mask)
        h = nn.Dense(4 * D)(nn.LayerNorm()(x))
        return x + nn.Dense(D)(nn.gelu(h))


class GPT(nn.Module):
    @nn.compact
    def __call__(self, tokens):
        x = nn.Embed(VOCAB, D)(tokens) + nn.Embed(T, D)(jnp.arange(tokens.shape[1]))
        x = Block()(x)
        return nn.Dense(VOCAB)(nn.LayerNorm()(x))


def program():
    model = GPT()
    batch = jax.random.randint(jax.random.PRNGKey(1), (4, T + 1), 0, VOCAB)
    params = model.init(jax.random.PRNGKey(0), batch[:, :-1])
    tx = optax.sgd(0.1, momentum=0.9)
    opt_state = tx.init(params)

    def train_step(params, opt_state, batch):
        inputs, targets = batch[:, :-1], batch[:, 1:]

        def loss_fn(p):
            logits = model.apply(p, inputs)
            return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return train_step, (params, opt_state, batch)
