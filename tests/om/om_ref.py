"""A small NumPy reference interpreter for the `.om` test scripts (test-only).

It exists to check the test corpus itself: `make.py` runs every `script.om` on its
`in*.npy` with this interpreter and compares with the JAX twin's `expected*.npy`, so a
script and its JAX twin that disagree are caught before the Rust compiler ever sees
them. It follows ../../../shared/spec/LANGUAGE.md plus the interpretations listed in
cases.py's header (JAX-style weak typing, `/` on integers is true division, ...).
It is deliberately strict where the spec is silent (for example, mixing an `i32` array
with an `f32` array is rejected), so the corpus does not lean on unspecified behaviour.
It is not the compiler and not an oracle for error messages.

    python3 tests/om/om_ref.py SCRIPT.om in0.npy in1.npy ...   # prints the results
"""
import math
import re
import sys

import numpy as np

try:
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover
    _erf = np.vectorize(math.erf)


class OmError(Exception):
    pass


# ---------------------------------------------------------------------------
# Lexer
# ---------------------------------------------------------------------------

_TOKEN = re.compile(r"""
  (?P<ws>\s+|\#[^\n]*)
| (?P<num>\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+)
| (?P<name>[A-Za-z_][A-Za-z0-9_]*)
| (?P<op>\*\*|->|\.\.|==|!=|<=|>=|[-+*/@!<>=()\[\]{},:;.])
""", re.X)

KEYWORDS = {"fn", "let", "const", "return", "for", "in", "true", "false"}


def lex(src):
    toks, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise OmError(f"syntax: unexpected character {src[pos]!r} at {pos}")
        pos = m.end()
        if m.lastgroup == "ws":
            continue
        text = m.group()
        if m.lastgroup == "num":
            toks.append(("num", float(text) if re.search(r"[.eE]", text) else int(text)))
        elif m.lastgroup == "name":
            if text in ("inf", "nan"):
                toks.append(("num", float(text)))
            elif text in KEYWORDS:
                toks.append(("kw", text))
            else:
                toks.append(("name", text))
        else:
            toks.append(("op", text))
    toks.append(("eof", None))
    return toks


# ---------------------------------------------------------------------------
# Parser (recursive descent; precedence as in LANGUAGE.md)
# ---------------------------------------------------------------------------

class Parser:
    def __init__(self, src):
        self.t = lex(src)
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k]

    def next(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def at(self, kind, val=None, k=0):
        tk, tv = self.peek(k)
        return tk == kind and (val is None or tv == val)

    def expect(self, kind, val=None):
        if not self.at(kind, val):
            raise OmError(f"syntax: expected {val or kind}, got {self.peek()} at token {self.i}")
        return self.next()[1]

    def accept(self, kind, val=None):
        if self.at(kind, val):
            return self.next()[1]
        return None

    # items
    def program(self):
        fns, consts = {}, []
        while not self.at("eof"):
            if self.accept("kw", "fn"):
                name = self.expect("name")
                self.expect("op", "(")
                params = []
                while not self.at("op", ")"):
                    pname = self.expect("name")
                    ty = self.type_() if self.accept("op", ":") else None
                    params.append((pname, ty))
                    if not self.accept("op", ","):
                        break
                self.expect("op", ")")
                ret = self.type_() if self.accept("op", "->") else None
                body = self.block()
                if name in fns:
                    raise OmError(f"duplicate function {name}")
                fns[name] = (params, ret, body)
            elif self.accept("kw", "const"):
                name = self.expect("name")
                self.expect("op", "=")
                e = self.expr()
                self.expect("op", ";")
                consts.append((name, e))
            else:
                raise OmError(f"syntax: expected an item, got {self.peek()}")
        return fns, consts

    def type_(self):
        dt = self.expect("name")
        if dt not in ("f32", "i32", "bool"):
            raise OmError(f"bad dtype {dt}")
        dims = None
        if self.accept("op", "["):
            dims = []
            while not self.at("op", "]"):
                tk, tv = self.next()
                if tk not in ("num", "name") or (tk == "num" and not isinstance(tv, int)):
                    raise OmError(f"bad dim {tv}")
                dims.append(tv)
                if not self.accept("op", ","):
                    break
            self.expect("op", "]")
        return (dt, dims)

    def block(self):
        self.expect("op", "{")
        stmts, tail = [], None
        while not self.at("op", "}"):
            if self.accept("kw", "let"):
                pat = self.pattern()
                self.expect("op", "=")
                e = self.expr()
                self.expect("op", ";")
                stmts.append(("let", pat, e))
            elif self.accept("kw", "return"):
                e = self.expr()
                self.expect("op", ";")
                stmts.append(("return", e))
            elif self.accept("kw", "for"):
                var = self.expect("name")
                self.expect("kw", "in")
                lo = self.additive()
                self.expect("op", "..")
                hi = self.additive()
                stmts.append(("for", var, lo, hi, self.block()))
            else:
                tail = self.expr()
                if not self.at("op", "}"):
                    raise OmError(f"syntax: expected '}}' after trailing expression, got {self.peek()}")
        self.expect("op", "}")
        return (stmts, tail)

    def pattern(self):
        if self.accept("op", "("):
            pats = [self.pattern()]
            while self.accept("op", ","):
                if self.at("op", ")"):
                    break
                pats.append(self.pattern())
            self.expect("op", ")")
            return ("tuple", pats)
        return ("name", self.expect("name"))

    # expressions
    def expr(self):
        a = self.additive()
        for op in ("==", "!=", "<=", ">=", "<", ">"):
            if self.accept("op", op):
                b = self.additive()
                if any(self.at("op", o) for o in ("==", "!=", "<=", ">=", "<", ">")):
                    raise OmError("syntax: comparisons are non-associative")
                return ("bin", op, a, b)
        return a

    def additive(self):
        a = self.multiplicative()
        while self.at("op", "+") or self.at("op", "-"):
            op = self.next()[1]
            a = ("bin", op, a, self.multiplicative())
        return a

    def multiplicative(self):
        a = self.unary()
        while self.at("op", "*") or self.at("op", "/") or self.at("op", "@"):
            op = self.next()[1]
            a = ("bin", op, a, self.unary())
        return a

    def unary(self):
        if self.at("op", "-") or self.at("op", "!"):
            op = self.next()[1]
            return ("un", op, self.unary())
        return self.power()

    def power(self):
        a = self.postfix()
        if self.accept("op", "**"):
            return ("bin", "**", a, self.unary())
        return a

    def postfix(self):
        a = self.atom()
        while True:
            if self.at("op", "("):
                if a[0] != "name":
                    raise OmError("only named functions can be called")
                self.next()
                args, kwargs = [], []
                while not self.at("op", ")"):
                    if self.at("name") and self.at("op", "=", 1):
                        k = self.next()[1]
                        self.next()
                        kwargs.append((k, self.expr()))
                    else:
                        if kwargs:
                            raise OmError("positional argument after keyword argument")
                        args.append(self.expr())
                    if not self.accept("op", ","):
                        break
                self.expect("op", ")")
                a = ("call", a[1], args, kwargs)
            elif self.at("op", "["):
                self.next()
                items = []
                while not self.at("op", "]"):
                    items.append(self.index_item())
                    if not self.accept("op", ","):
                        break
                self.expect("op", "]")
                a = ("index", a, items)
            elif self.at("op", ".") and self.at("name", "T", 1):
                self.next()
                self.next()
                a = ("T", a)
            else:
                return a

    def index_item(self):
        parts, cur = [], None
        if not self.at("op", ":"):
            cur = self.expr()
            if not self.at("op", ":"):
                return ("idx", cur)
        parts.append(cur)
        while self.accept("op", ":"):
            if self.at("op", ":") or self.at("op", ",") or self.at("op", "]"):
                parts.append(None)
            else:
                parts.append(self.expr())
        if len(parts) > 3:
            raise OmError("syntax: too many ':' in a slice")
        while len(parts) < 3:
            parts.append(None)
        return ("slice", *parts)

    def atom(self):
        tk, tv = self.peek()
        if tk == "num":
            self.next()
            return ("num", tv)
        if tk == "kw" and tv in ("true", "false"):
            self.next()
            return ("num", tv == "true")
        if tk == "name":
            self.next()
            if tv == "None":
                return ("none",)
            return ("name", tv)
        if self.accept("op", "("):
            items = [self.expr()]
            tup = False
            while self.accept("op", ","):
                tup = True
                if self.at("op", ")"):
                    break
                items.append(self.expr())
            self.expect("op", ")")
            return ("tuple", items) if tup else items[0]
        if self.accept("op", "["):
            items = []
            while not self.at("op", "]"):
                items.append(self.expr())
                if not self.accept("op", ","):
                    break
            self.expect("op", "]")
            return ("list", items)
        raise OmError(f"syntax: unexpected {self.peek()}")


# ---------------------------------------------------------------------------
# Values and typing (JAX-style weak typing for compile-time scalars)
# ---------------------------------------------------------------------------

DT = {"f32": np.dtype(np.float32), "i32": np.dtype(np.int32), "bool": np.dtype(np.bool_)}


def is_arr(v):
    return isinstance(v, np.ndarray)


def is_py(v):
    return isinstance(v, (bool, int, float)) and not isinstance(v, np.generic)


def arr(v):
    """Normalise NumPy results: 0-d scalars become 0-d arrays."""
    if isinstance(v, np.generic):
        return np.asarray(v)
    return v


def result_dtype(a, b, op):
    """JAX promotion restricted to what the corpus relies on."""
    if is_arr(a) and is_arr(b):
        if a.dtype != b.dtype:
            raise OmError(f"dtype: {op} on {a.dtype} and {b.dtype} (mixed array dtypes are not relied on)")
        return a.dtype
    x, s = (a, b) if is_arr(a) else (b, a)
    if x.dtype == np.float32:
        return x.dtype
    if isinstance(s, float):
        return DT["f32"]
    if x.dtype == np.int32:
        return x.dtype
    if isinstance(s, bool):
        return x.dtype
    raise OmError(f"dtype: bool array {op} int scalar is not relied on")


def to(v, dt):
    if is_arr(v):
        return v.astype(dt)
    if isinstance(v, float) and dt != np.float32:
        raise OmError("float scalar into non-float array")
    return np.asarray(v, dtype=dt)


def binop(op, a, b):
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        raise OmError(f"{op} on a tuple or list")
    if is_py(a) and is_py(b):
        if op == "@":
            raise OmError("@ on scalars")
        if op == "/":
            return a / b
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "**": lambda: a ** b,
                "==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
                ">": lambda: a > b, ">=": lambda: a >= b,
                "max": lambda: max(a, b), "min": lambda: min(a, b)}[op]()
    dt = result_dtype(a, b, op)
    x, y = to(a, dt), to(b, dt)
    if op == "@":
        if not (is_arr(a) and is_arr(b)) or a.ndim == 0 or b.ndim == 0:
            raise OmError("@ needs arrays of rank >= 1")
        if dt == np.float32:
            return arr(np.matmul(x.astype(np.float64), y.astype(np.float64)).astype(np.float32))
        return arr(np.matmul(x, y).astype(dt))
    if op == "/":
        if dt != np.float32:
            x, y = x.astype(np.float32), y.astype(np.float32)
        return arr(x / y)
    if op == "**":
        if dt == np.bool_:
            raise OmError("** on bool")
        if dt == np.int32 and np.any(y < 0):
            raise OmError("negative integer power")
        return arr(np.power(x, y).astype(dt))
    if dt == np.bool_ and op in ("+", "-", "*"):
        raise OmError(f"{op} on bool")
    f = {"+": np.add, "-": np.subtract, "*": np.multiply, "==": np.equal, "!=": np.not_equal,
         "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
         "max": np.maximum, "min": np.minimum}[op]
    return arr(f(x, y))


def need_arr(x, what):
    if is_py(x):
        return np.asarray(x, dtype=np.float32 if isinstance(x, float) else
                          (np.bool_ if isinstance(x, bool) else np.int32))
    if not is_arr(x):
        raise OmError(f"{what}: expected an array, got {type(x).__name__}")
    return x


def axes(ax, nd):
    if ax is None:
        return None
    if isinstance(ax, list):
        return tuple(a % nd for a in ax)
    if not isinstance(ax, int) or isinstance(ax, bool):
        raise OmError("axis must be an int or a list")
    return ax % nd


# ---------------------------------------------------------------------------
# Builtins
# ---------------------------------------------------------------------------

def _float_unary(fn, name):
    def f(x):
        x = need_arr(x, name)
        if x.dtype != np.float32:
            raise OmError(f"dtype: {name} on {x.dtype} (float math on ints is not relied on)")
        with np.errstate(all="ignore"):
            return arr(fn(x.astype(np.float64)).astype(np.float32))
    return f


def _num_unary(fn, name):
    def f(x):
        x = need_arr(x, name)
        if x.dtype == np.bool_:
            raise OmError(f"dtype: {name} on bool")
        return arr(fn(x).astype(x.dtype))
    return f


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _reduce(fn, name):
    def f(x, axis=None, keepdims=False):
        x = need_arr(x, name)
        ax = axes(axis, x.ndim)
        if name == "mean":
            r = np.mean(x.astype(np.float64), axis=ax, keepdims=keepdims).astype(np.float32)
        elif name == "sum":
            if x.dtype == np.float32:
                r = np.sum(x.astype(np.float64), axis=ax, keepdims=keepdims).astype(np.float32)
            else:
                r = np.sum(x, axis=ax, keepdims=keepdims).astype(np.int32)
        elif name == "prod":
            r = np.prod(x.astype(np.float64), axis=ax, keepdims=keepdims).astype(x.dtype)
        else:
            r = fn(x, axis=ax, keepdims=keepdims)
        return arr(np.asarray(r))
    return f


def _softmax(x, axis=-1):
    x = need_arr(x, "softmax").astype(np.float64)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return arr((e / np.sum(e, axis=axis, keepdims=True)).astype(np.float32))


def _log_softmax(x, axis=-1):
    x = need_arr(x, "log_softmax").astype(np.float64)
    s = x - np.max(x, axis=axis, keepdims=True)
    return arr((s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))).astype(np.float32))


def _logsumexp(x, axis=-1):
    x = need_arr(x, "logsumexp").astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return arr(np.squeeze(r, axis=axis).astype(np.float32))


def _gelu(x, approximate=True):
    x = need_arr(x, "gelu").astype(np.float64)
    if approximate:
        r = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    else:
        r = 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    return arr(r.astype(np.float32))


def _layernorm(x, gamma, beta, eps=1e-5):
    x = need_arr(x, "layernorm").astype(np.float64)
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return arr(((x - m) / np.sqrt(v + eps) * gamma + beta).astype(np.float32))


def _rmsnorm(x, gamma, eps=1e-6):
    x = need_arr(x, "rmsnorm").astype(np.float64)
    return arr((x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * gamma).astype(np.float32))


def _dims(d, what):
    if not isinstance(d, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in d):
        raise OmError(f"{what}: expected a list of integers, got {d!r}")
    return d


def _reshape(x, dims):
    dims = _dims(dims, "reshape")
    if sum(1 for d in dims if d == -1) > 1:
        raise OmError("reshape: more than one -1")
    return arr(np.reshape(need_arr(x, "reshape"), dims))


def _transpose(x, perm=None):
    x = need_arr(x, "transpose")
    if perm is not None:
        perm = _dims(perm, "transpose")
        if sorted(perm) != list(range(x.ndim)):
            raise OmError("transpose: bad permutation")
    return arr(np.transpose(x, perm))


def _broadcast_to(x, dims):
    return arr(np.ascontiguousarray(np.broadcast_to(need_arr(x, "broadcast_to"), _dims(dims, "broadcast_to"))))


def _expand_dims(x, axis):
    return arr(np.expand_dims(need_arr(x, "expand_dims"), axis))


def _squeeze(x, axis):
    x = need_arr(x, "squeeze")
    if x.shape[axis] != 1:
        raise OmError("squeeze: axis is not 1")
    return arr(np.squeeze(x, axis))


def _concat(xs, axis=0):
    if not isinstance(xs, list) or not all(is_arr(v) for v in xs):
        raise OmError("concat: expected a list of arrays")
    if len({v.dtype for v in xs}) != 1:
        raise OmError("concat: mixed dtypes")
    return arr(np.concatenate(xs, axis=axis))


def _full(dims, v):
    dims = _dims(dims, "full")
    if not is_py(v):
        raise OmError("full: value must be a compile-time scalar")
    dt = np.bool_ if isinstance(v, bool) else (np.int32 if isinstance(v, int) else np.float32)
    return np.full(dims, v, dtype=dt)


def _where(c, a, b):
    c = need_arr(c, "where")
    if c.dtype != np.bool_:
        raise OmError("where: condition must be bool")
    if is_py(a) and is_py(b):
        dt = DT["f32"] if isinstance(a, float) or isinstance(b, float) else DT["i32"]
    else:
        dt = result_dtype(a, b, "where")
    return arr(np.where(c, to(a, dt), to(b, dt)))


def _convert(dt):
    def f(x):
        x = need_arr(x, str(dt))
        if dt == np.bool_:
            return x != 0
        return arr(x.astype(dt))
    return f


def _shape(x):
    return list(need_arr(x, "shape").shape)


BUILTINS = {
    "neg": _num_unary(np.negative, "neg"),
    "abs": _num_unary(np.abs, "abs"),
    "sign": _num_unary(np.sign, "sign"),
    "exp": _float_unary(np.exp, "exp"),
    "expm1": _float_unary(np.expm1, "expm1"),
    "log": _float_unary(np.log, "log"),
    "log1p": _float_unary(np.log1p, "log1p"),
    "sqrt": _float_unary(np.sqrt, "sqrt"),
    "rsqrt": _float_unary(lambda x: 1 / np.sqrt(x), "rsqrt"),
    "tanh": _float_unary(np.tanh, "tanh"),
    "sigmoid": _float_unary(_sigmoid, "sigmoid"),
    "relu": _num_unary(lambda x: np.maximum(x, 0), "relu"),
    "sin": _float_unary(np.sin, "sin"),
    "cos": _float_unary(np.cos, "cos"),
    "erf": _float_unary(_erf, "erf"),
    "floor": _float_unary(np.floor, "floor"),
    "ceil": _float_unary(np.ceil, "ceil"),
    "round": _float_unary(np.round, "round"),
    "square": _num_unary(lambda x: x * x, "square"),
    "reciprocal": _float_unary(lambda x: 1 / x, "reciprocal"),
    "maximum": lambda a, b: binop("max", a, b),
    "minimum": lambda a, b: binop("min", a, b),
    "pow": lambda a, b: binop("**", a, b),
    "where": _where,
    "clip": lambda x, lo, hi: binop("min", binop("max", x, lo), hi),
    "sum": _reduce(np.sum, "sum"),
    "mean": _reduce(np.mean, "mean"),
    "max": _reduce(np.max, "max"),
    "min": _reduce(np.min, "min"),
    "prod": _reduce(np.prod, "prod"),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "logsumexp": _logsumexp,
    "gelu": _gelu,
    "silu": lambda x: arr((need_arr(x, "silu").astype(np.float64) * _sigmoid(x.astype(np.float64))).astype(np.float32)),
    "layernorm": _layernorm,
    "rmsnorm": _rmsnorm,
    "reshape": _reshape,
    "transpose": _transpose,
    "broadcast_to": _broadcast_to,
    "expand_dims": _expand_dims,
    "squeeze": _squeeze,
    "concat": _concat,
    "zeros": lambda dims: np.zeros(_dims(dims, "zeros"), np.float32),
    "ones": lambda dims: np.ones(_dims(dims, "ones"), np.float32),
    "full": _full,
    "arange": lambda n: np.arange(n, dtype=np.float32),
    "eye": lambda n: np.eye(n, dtype=np.float32),
    "f32": _convert(np.float32),
    "i32": _convert(np.int32),
    "bool": _convert(np.bool_),
    "shape": _shape,
}


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------

class Return(Exception):
    def __init__(self, value):
        self.value = value


class Program:
    def __init__(self, src):
        self.fns, consts = Parser(src).program()
        self.globals = {}
        for name, e in consts:
            v = self.eval(e, dict(self.globals))
            if not is_py(v):
                raise OmError(f"const {name} is not a compile-time scalar")
            self.globals[name] = v
        self.stack = []

    def check_type(self, name, v, ty, syms):
        dt, dims = ty
        if not is_arr(v):
            v = need_arr(v, name)
        if v.dtype != DT[dt]:
            raise OmError(f"input: {name} is {v.dtype}, declared {dt}")
        dims = dims or []
        if len(dims) != v.ndim:
            raise OmError(f"input: {name} has shape {v.shape}, declared {dims}")
        for d, n in zip(dims, v.shape):
            if isinstance(d, int):
                if d != n:
                    raise OmError(f"input: {name} has shape {v.shape}, declared {dims}")
            elif syms.setdefault(d, n) != n:
                raise OmError(f"input: {name} dim {d}={n} disagrees with {syms[d]}")
        return v

    def run(self, inputs):
        params, ret, body = self.fns["main"]
        if len(inputs) != len(params):
            raise OmError(f"input: main has {len(params)} parameters, got {len(inputs)} inputs")
        syms, env = {}, {}
        for (pname, ty), v in zip(params, inputs):
            if ty is None:
                raise OmError(f"main parameter {pname} is untyped")
            env[pname] = self.check_type(pname, v, ty, syms)
        self.syms = syms
        for k, v in syms.items():
            self.globals.setdefault(k, v)
        out = self.call_body("main", env, ret, body)
        outs = list(out) if isinstance(out, tuple) else [out]
        for o in outs:
            if not is_arr(o):
                raise OmError(f"main returns a non-array {o!r}")
        return outs

    def call_body(self, name, env, ret, body):
        if name in self.stack:
            raise OmError(f"recursion: {name}")
        self.stack.append(name)
        full = dict(self.globals)
        full.update(env)
        try:
            v = self.block(body, full)
        finally:
            self.stack.pop()
        if ret is not None:
            self.check_type(f"{name} result", v, ret, dict(self.syms))
        return v

    def block(self, body, env):
        stmts, tail = body
        try:
            self.stmts(stmts, env)
        except Return as r:
            return r.value
        if tail is None:
            raise OmError("block has no value")
        return self.eval(tail, env)

    def stmts(self, stmts, env):
        for s in stmts:
            if s[0] == "let":
                self.bind(s[1], self.eval(s[2], env), env)
            elif s[0] == "return":
                raise Return(self.eval(s[1], env))
            elif s[0] == "for":
                _, var, lo, hi, (bstmts, btail) = s
                lo, hi = self.eval(lo, env), self.eval(hi, env)
                if not (isinstance(lo, int) and isinstance(hi, int)):
                    raise OmError("for bounds must be compile-time integers")
                if btail is not None:
                    raise OmError("for body has a trailing expression")
                for i in range(lo, hi):
                    env[var] = i
                    self.stmts(bstmts, env)

    def bind(self, pat, v, env):
        if pat[0] == "name":
            env[pat[1]] = v
        else:
            if not isinstance(v, tuple) or len(v) != len(pat[1]):
                raise OmError("tuple destructuring arity mismatch")
            for p, x in zip(pat[1], v):
                self.bind(p, x, env)

    def eval(self, e, env):
        k = e[0]
        if k == "num":
            return e[1]
        if k == "name":
            if e[1] not in env:
                raise OmError(f"unknown name {e[1]}")
            return env[e[1]]
        if k == "none":
            raise OmError("None outside an index")
        if k == "tuple":
            return tuple(self.eval(x, env) for x in e[1])
        if k == "list":
            return [self.eval(x, env) for x in e[1]]
        if k == "un":
            v = self.eval(e[2], env)
            if e[1] == "-":
                if is_py(v) and not isinstance(v, bool):
                    return -v
                v = need_arr(v, "-")
                if v.dtype == np.bool_:
                    raise OmError("- on bool")
                return arr(-v)
            if isinstance(v, bool):
                return not v
            v = need_arr(v, "!")
            if v.dtype != np.bool_:
                raise OmError("! on non-bool")
            return arr(~v)
        if k == "bin":
            return binop(e[1], self.eval(e[2], env), self.eval(e[3], env))
        if k == "T":
            return arr(np.transpose(need_arr(self.eval(e[1], env), ".T")))
        if k == "index":
            v = self.eval(e[1], env)
            idx = []
            for it in e[2]:
                if it[0] == "idx":
                    if it[1][0] == "none":
                        idx.append(None)
                        continue
                    i = self.eval(it[1], env)
                    if not isinstance(i, int) or isinstance(i, bool):
                        raise OmError("index must be a compile-time integer")
                    idx.append(i)
                else:
                    parts = [None if p is None else self.eval(p, env) for p in it[1:]]
                    if any(p is not None and (not isinstance(p, int) or isinstance(p, bool)) for p in parts):
                        raise OmError("slice bounds must be compile-time integers")
                    if parts[2] is not None and parts[2] <= 0:
                        raise OmError("slice step must be positive")
                    idx.append(slice(*parts))
            if isinstance(v, list):
                if len(idx) != 1 or not isinstance(idx[0], int):
                    raise OmError("lists take one integer index")
                return v[idx[0]]
            v = need_arr(v, "index")
            n_axes = sum(1 for i in idx if i is not None)
            if n_axes > v.ndim:
                raise OmError("too many indices")
            for ax, i in enumerate(i for i in idx if i is not None):
                if isinstance(i, int) and not -v.shape[ax] <= i < v.shape[ax]:
                    raise OmError("index out of range")
            return arr(np.array(v[tuple(idx)]))
        if k == "call":
            _, name, args, kwargs = e
            a = [self.eval(x, env) for x in args]
            kw = {n: self.eval(x, env) for n, x in kwargs}
            if name in self.fns:
                params, ret, body = self.fns[name]
                names = [p for p, _ in params]
                if len(a) > len(names):
                    raise OmError(f"arity: {name}")
                bound = dict(zip(names, a))
                for n, v in kw.items():
                    if n not in names or n in bound:
                        raise OmError(f"keyword: {name}({n}=)")
                    bound[n] = v
                if set(bound) != set(names):
                    raise OmError(f"arity: {name} missing {set(names) - set(bound)}")
                local_syms = dict(self.syms)
                for p, ty in params:
                    if ty is not None:
                        self.check_type(f"{name}.{p}", bound[p], ty, local_syms)
                return self.call_body(name, bound, ret, body)
            if name in BUILTINS:
                try:
                    return BUILTINS[name](*a, **kw)
                except TypeError as err:
                    raise OmError(f"arity/keyword: {name}: {err}")
            raise OmError(f"unknown function {name}")
        raise OmError(f"bad node {k}")


def main_params(src):
    """[(name, dtype, dims)] of `main`, dims None for a scalar."""
    params, _, _ = Parser(src).program()[0]["main"]
    return [(n, t[0], t[1]) if t else (n, None, None) for n, t in params]


def run(src, inputs):
    return Program(src).run(inputs)


if __name__ == "__main__":
    prog = open(sys.argv[1]).read()
    for i, o in enumerate(run(prog, [np.load(f) for f in sys.argv[2:]])):
        print(f"out{i}: {o.dtype}{list(o.shape)}\n{o}")
