"""The ResNet block of resnet_block_bn in eval mode: BatchNorm with running averages, one input image batch."""
import jax
import jax.numpy as jnp
import flax.linen as nn


class ResBlock(nn.Module):
    @nn.compact
    def __call__(self, x):
        y = nn.Conv(8, (3, 3), use_bias=False)(x)
        y = nn.relu(nn.BatchNorm(use_running_average=True)(y))
        y = nn.Conv(8, (3, 3), use_bias=False)(y)
        y = nn.BatchNorm(use_running_average=True)(y)
        return nn.relu(y + nn.Conv(8, (1, 1))(x))


def program():
    model = ResBlock()
    x = jax.random.normal(jax.random.PRNGKey(1), (4, 6, 6, 3))
    variables = model.init(jax.random.PRNGKey(0), x)
    # Running statistics that are not the initial zeros and ones.
    variables = jax.tree_util.tree_map_with_path(
        lambda path, v: v + 0.1 * jax.random.uniform(jax.random.PRNGKey(len(str(path))), v.shape)
        if "batch_stats" in str(path) else v, variables)
    return (lambda variables, x: model.apply(variables, x)), (variables, x)
