# JAX programs for control flow (`while`, `conditional`): loops of zero, one and
# many iterations, data-dependent conditions, nested and reversed scans, and
# branches that give tuples, with XLA:CPU's results as the expected outputs.
#
# Regenerate (from the repository root; a file of its own, so that the inputs
# of cases.py stay as they are):
#     python3 tests/jax_fixtures.py tests/jax/control_cases.py tests/jax
#
# `case`, `randn`, `uniform`, `randint`, `jax`, `jnp`, `np` are injected by
# jax_fixtures.py. Trip counts and selectors are inputs wherever the case is
# about them: JAX folds what it can see.

from jax import lax

I32 = np.int32


def scalar(v, dtype=I32):
    return np.array(v, dtype)


# fori_loop with a trip count from the data: 0, 1 and 7 iterations of the same
# body (a while whose state carries the counter).
@case("control_fori_counts", randn(5), scalar(0), scalar(1), scalar(7))
def f(v, zero, one, seven):
    body = lambda i, x: jnp.tanh(x * 1.5 + i.astype(jnp.float32))
    return (lax.fori_loop(0, zero, body, v), lax.fori_loop(0, one, body, v),
            lax.fori_loop(0, seven, body, v))


# A condition on the values: Newton's square root until it is close, and a
# Collatz count on integers.
@case("control_while_data", uniform(4, lo=1.0, hi=50.0), np.array([6, 7, 27, 1], I32))
def f(a, n):
    def newton(s):
        x, steps = s
        return 0.5 * (x + a / x), steps + 1
    root, steps = lax.while_loop(lambda s: jnp.max(jnp.abs(s[0] ** 2 - a)) > 1e-3,
                                 newton, (a, 0))

    def collatz(k):
        def body(s):
            k, c = s
            return jnp.where(k % 2 == 0, k // 2, 3 * k + 1), c + 1
        return lax.while_loop(lambda s: s[0] != 1, body, (k, 0))[1]
    return root, steps, jax.vmap(collatz)(n)


# scan: an RNN cell over time, a reversed cumulative product, and a scan in a
# scan (the outer over rows, the inner over columns).
@case("control_scan_nested", randn(6, 3), randn(3, 3, scale=0.5), randn(4, 5))
def f(xs, w, grid):
    def cell(h, x):
        h = jnp.tanh(h @ w + x)
        return h, h.sum()
    h, sums = lax.scan(cell, jnp.zeros(3, jnp.float32), xs)
    _, rev = lax.scan(lambda c, x: (c * x, c * x), jnp.float32(1.0), grid[0], reverse=True)

    def row(carry, r):
        inner, cols = lax.scan(lambda c, x: (c + x, c * x), carry, r)
        return inner, cols
    total, table = lax.scan(row, jnp.float32(0.0), grid)
    return h, sums, rev, total, table


# cond and switch: branches of tuples, chosen by data; switch clamps its index.
@case("control_cond_switch", randn(4), randn(4), scalar(1), scalar(-3), scalar(9))
def f(x, y, p, low, high):
    a, b = lax.cond(jnp.sum(x) > 0, lambda u, v: (u * v, u - v),
                    lambda u, v: (u + v, jnp.exp(v)), x, y)
    branches = [lambda u: u * 2.0, lambda u: jnp.sin(u), lambda u: u - 1.0]
    return (a, b, lax.switch(p, branches, x), lax.switch(low, branches, x),
            lax.switch(high, branches, x))
