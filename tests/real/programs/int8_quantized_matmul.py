"""Post-training quantization: per-channel int8 weights, uint8 activations with a zero point, an int32-accumulating dot, dequantization."""
import jax
import jax.numpy as jnp
from jax import lax


def program():
    w = jax.random.normal(jax.random.PRNGKey(1), (16, 8))
    x = jax.random.uniform(jax.random.PRNGKey(2), (4, 16), minval=-1.0, maxval=3.0)

    def quantized(w, x):
        w_scale = jnp.max(jnp.abs(w), axis=0) / 127.0
        wq = jnp.clip(jnp.round(w / w_scale), -127, 127).astype(jnp.int8)
        lo, hi = x.min(), x.max()
        x_scale = (hi - lo) / 255.0
        zero = jnp.round(-lo / x_scale).astype(jnp.int32)
        xq = jnp.clip(jnp.round(x / x_scale) + zero, 0, 255).astype(jnp.uint8)
        acc = lax.dot(xq.astype(jnp.int32) - zero, wq.astype(jnp.int32),
                      preferred_element_type=jnp.int32)
        acc16 = lax.dot(xq.astype(jnp.int16), wq.astype(jnp.int16), preferred_element_type=jnp.int32)
        y = acc.astype(jnp.float32) * x_scale * w_scale
        return wq, xq, acc, acc16, y, jnp.max(jnp.abs(y - x @ w))

    return quantized, (w, x)
