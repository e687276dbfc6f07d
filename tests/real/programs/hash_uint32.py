"""Integer and bit twiddling on uint32: murmur3's finalizer, xorshift, FNV-1a over bytes, population_count, clz, rotations."""
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def fmix32(h):
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def xorshift32(x):
    x = x ^ (x << 13)
    x = x ^ (x >> 17)
    return x ^ (x << 5)


def fnv1a(data):  # data: uint8[n, k]
    h = jnp.full(data.shape[:1], 0x811C9DC5, jnp.uint32)
    for i in range(data.shape[1]):
        h = (h ^ data[:, i].astype(jnp.uint32)) * jnp.uint32(0x01000193)
    return h


def program():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2**32, (16,), dtype=np.uint64).astype(np.uint32)
    data = rng.integers(0, 256, (4, 6), dtype=np.uint8)
    signed = rng.integers(-2**31, 2**31, (8,), dtype=np.int64).astype(np.int32)

    def bits(x, data, signed):
        rotl = (x << 7) | (x >> 25)
        return (
            fmix32(x),
            xorshift32(x),
            fnv1a(data),
            lax.population_count(x),
            lax.clz(x),
            rotl,
            signed >> 3,                                   # arithmetic shift
            lax.shift_right_logical(signed, jnp.int32(3)),
            signed // 7, signed % 7,
            jnp.bitwise_not(data) & jnp.uint8(0x0F),
            (x % jnp.uint32(1000)).astype(jnp.float32) / 1000.0,
        )

    return bits, (x, data, signed)
