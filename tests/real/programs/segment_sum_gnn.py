"""A graph neural network layer: gather node features along edges, jax.ops.segment_sum / segment_max messages, Dense update."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class GNNLayer(nn.Module):
    @nn.compact
    def __call__(self, nodes, senders, receivers):
        messages = nn.Dense(8)(nodes[senders])
        summed = jax.ops.segment_sum(messages, receivers, num_segments=nodes.shape[0])
        maxed = jax.ops.segment_max(messages, receivers, num_segments=nodes.shape[0])
        degree = jax.ops.segment_sum(jnp.ones_like(receivers), receivers, num_segments=nodes.shape[0])
        maxed = jnp.where(degree[:, None] > 0, maxed, 0.0)
        return nn.relu(nn.Dense(8)(jnp.concatenate([nodes, summed, maxed], axis=-1))), degree


def program():
    model = GNNLayer()
    nodes = jax.random.normal(jax.random.PRNGKey(1), (6, 5))
    senders = jnp.array([0, 1, 2, 3, 4, 5, 0, 2, 4])
    receivers = jnp.array([1, 2, 3, 4, 5, 0, 3, 3, 0])
    params = model.init(jax.random.PRNGKey(0), nodes, senders, receivers)
    return (lambda p, n, s, r: model.apply(p, n, s, r)), (params, nodes, senders, receivers)
