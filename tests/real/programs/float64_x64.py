"""Double precision with jax_enable_x64: f64 least squares by normal equations (Cholesky solve), int64 and uint64 arithmetic."""
import jax
import jax.numpy as jnp
import numpy as np

X64 = True
TOLERANCE = (1e-9, 1e-12)


def program():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((8, 3))
    b = rng.standard_normal(8)
    big = rng.integers(-2**40, 2**40, (5,), dtype=np.int64)
    u = rng.integers(0, 2**63, (5,), dtype=np.uint64)

    def f(a, b, big, u):
        gram = a.T @ a
        chol = jnp.linalg.cholesky(gram)
        y = jax.scipy.linalg.solve_triangular(chol, a.T @ b, lower=True)
        coef = jax.scipy.linalg.solve_triangular(chol.T, y, lower=False)
        return coef, jnp.sum(big * 3 + 1), big // 1000, u ^ (u >> 31), (u * np.uint64(0x9E3779B97F4A7C15)), big.astype(jnp.float64) / 7
    return f, (a, b, big, u)
