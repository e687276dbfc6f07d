"""Control flow: lax.fori_loop (power iteration), lax.while_loop (Newton's sqrt, Collatz steps), lax.cond."""
import jax
import jax.numpy as jnp
from jax import lax


def program():
    a = jax.random.normal(jax.random.PRNGKey(1), (6, 6))
    a = a @ a.T
    v = jnp.ones(6)
    n = jnp.array([6, 7, 27, 97], jnp.int32)

    def loops(a, v, n):
        def power(i, v):
            w = a @ v
            return w / jnp.linalg.norm(w)

        v = lax.fori_loop(0, 20, power, v)
        eigenvalue = v @ a @ v

        def newton(state):
            x, i = state
            return 0.5 * (x + eigenvalue / x), i + 1

        root, steps = lax.while_loop(lambda s: (jnp.abs(s[0] ** 2 - eigenvalue) > 1e-3) & (s[1] < 50),
                                     newton, (eigenvalue, 0))

        def collatz(n):
            def body(s):
                m, c = s
                return jnp.where(m % 2 == 0, m // 2, 3 * m + 1), c + 1

            return lax.while_loop(lambda s: s[0] != 1, body, (n, 0))[1]

        sign = lax.cond(eigenvalue > 0, lambda: jnp.float32(1), lambda: jnp.float32(-1))
        return v, eigenvalue, root, steps, jax.vmap(collatz)(n), sign

    return loops, (a, v, n)
