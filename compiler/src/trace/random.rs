//! The random-number builtins, bit for bit as `jax.random` with its default
//! implementation (threefry2x32, `jax_threefry_partitionable` on, as JAX 0.10.2
//! has it): `key split fold_in uniform normal bernoulli randint dropout`.
//!
//! A key is a raw `u32[2]` array, as `jax.random.PRNGKey` gives (not a typed key
//! array). The threefry hash is traced as the u32 additions, rotations (two
//! shifts and an `or`) and `xor`s of JAX's own lowering, so every backend
//! computes it with ordinary integer ops. `permutation` needs a sort, which the
//! language does not have yet.
//!
//! Integer results (keys, bits, `randint`, `bernoulli`) and `uniform` on `[0, 1)`
//! are JAX's to the bit. XLA:CPU contracts a multiply and an add into one FMA,
//! which HLO cannot express: where JAX's numbers went through one (`uniform`'s
//! scaling to `[lo, hi)`, the Horner steps of `normal`'s `erf_inv`), ours are
//! rounded twice and may differ by an ulp.

use crate::error::{CompileError, ErrorKind};
use crate::hlo::{
    self, BinaryOp, Direction, ElementType, Literal, Number, Op, Scalar, SliceDim, UnaryOp,
};

use super::arith;
use super::builtins::{Args, Located};
use super::eval::{Tracer, at, fail};
use super::graph::{Graph, OpResult, check_size};
use super::value::{Tensor, Value, user_type};

const U32: ElementType = ElementType::U32;

fn bin(g: &mut Graph, op: BinaryOp, x: &Tensor, y: &Tensor) -> OpResult<Tensor> {
    g.emit(Op::Binary(op), &[x, y])
}

fn u32_full(g: &mut Graph, value: u32, dims: &[usize]) -> OpResult<Tensor> {
    g.full(Scalar::new(value), dims)
}

/// The two words of a key, as scalars.
fn key_words(g: &mut Graph, key: &Tensor) -> OpResult<(Tensor, Tensor)> {
    let word = |g: &mut Graph, i: usize| {
        let s = g.slice(
            key,
            vec![SliceDim {
                start: i,
                limit: i + 1,
                stride: 1,
            }],
        )?;
        g.reshape(&s, &[])
    };
    Ok((word(g, 0)?, word(g, 1)?))
}

/// `(x << d) | (x >> (32 - d))` for a constant `d`.
fn rotate_left(g: &mut Graph, x: &Tensor, d: u32) -> OpResult<Tensor> {
    let left = u32_full(g, d, x.dims())?;
    let right = u32_full(g, 32 - d, x.dims())?;
    let a = bin(g, BinaryOp::ShiftLeft, x, &left)?;
    let b = bin(g, BinaryOp::ShiftRightLogical, x, &right)?;
    bin(g, BinaryOp::Or, &a, &b)
}

/// The threefry2x32 hash of the counts `(x0, x1)` (u32 arrays of one shape) under
/// the key `(k0, k1)` (u32 scalars), as `_threefry2x32_lowering` unrolled.
fn threefry2x32(
    g: &mut Graph,
    (k0, k1): (&Tensor, &Tensor),
    x0: &Tensor,
    x1: &Tensor,
) -> OpResult<(Tensor, Tensor)> {
    const ROTATIONS: [[u32; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];
    let dims = x0.dims().to_vec();
    let parity = g.scalar(Scalar::new(0x1BD1_1BDAu32))?;
    let k2 = bin(g, BinaryOp::Xor, k0, k1)?;
    let k2 = bin(g, BinaryOp::Xor, &k2, &parity)?;
    let ks = [k0.clone(), k1.clone(), k2];
    let wide: Vec<Tensor> = ks
        .iter()
        .map(|k| g.broadcast_to(k, &dims))
        .collect::<Result<_, _>>()?;
    let mut x = [
        bin(g, BinaryOp::Add, x0, &wide[0])?,
        bin(g, BinaryOp::Add, x1, &wide[1])?,
    ];
    for step in 0..5usize {
        for &r in &ROTATIONS[step % 2] {
            x[0] = bin(g, BinaryOp::Add, &x[0], &x[1])?;
            let rotated = rotate_left(g, &x[1], r)?;
            x[1] = bin(g, BinaryOp::Xor, &x[0], &rotated)?;
        }
        // Key injection: ks[s+1], and ks[s+2] plus the step number.
        let a = &wide[(step + 1) % 3];
        let b = &wide[(step + 2) % 3];
        x[0] = bin(g, BinaryOp::Add, &x[0], a)?;
        x[1] = bin(g, BinaryOp::Add, &x[1], b)?;
        let count = u32_full(g, step as u32 + 1, &dims)?;
        x[1] = bin(g, BinaryOp::Add, &x[1], &count)?;
    }
    let [y0, y1] = x;
    Ok((y0, y1))
}

/// `iota_2x32_shape`: the high and low words of each element's flat index.
fn counts(g: &mut Graph, dims: &[usize]) -> OpResult<(Tensor, Tensor)> {
    // The user's shape: its size may overflow before any array is made.
    check_size(U32, dims)?;
    let n = dims.iter().product::<usize>();
    let flat = g.iota(U32, vec![n], 0)?;
    let lo = g.reshape(&flat, dims)?;
    let hi = u32_full(g, 0, dims)?;
    Ok((hi, lo))
}

/// The key's hash of every index of `dims`: `threefry2x32_p` on `iota_2x32_shape`.
fn hash_shape(g: &mut Graph, key: &Tensor, dims: &[usize]) -> OpResult<(Tensor, Tensor)> {
    let (k0, k1) = key_words(g, key)?;
    let (hi, lo) = counts(g, dims)?;
    threefry2x32(g, (&k0, &k1), &hi, &lo)
}

/// `random_bits(key, 32, dims)`.
fn random_bits(g: &mut Graph, key: &Tensor, dims: &[usize]) -> OpResult<Tensor> {
    let (a, b) = hash_shape(g, key, dims)?;
    bin(g, BinaryOp::Xor, &a, &b)
}

/// `split(key, n)`: keys `u32[*shape, 2]`.
fn split_keys(g: &mut Graph, key: &Tensor, shape: &[usize]) -> OpResult<Tensor> {
    let (a, b) = hash_shape(g, key, shape)?;
    let mut one = shape.to_vec();
    one.push(1);
    let (a, b) = (g.reshape(&a, &one)?, g.reshape(&b, &one)?);
    g.concatenate(&[&a, &b], shape.len())
}

/// `uniform(key, dims, lo, hi)` in f32: 23 random mantissa bits under the
/// exponent of 1, minus 1, scaled, and clamped below at `lo`.
fn uniform_f32(
    g: &mut Graph,
    key: &Tensor,
    dims: &[usize],
    lo: &Tensor,
    hi: &Tensor,
) -> OpResult<Tensor> {
    let bits = random_bits(g, key, dims)?;
    let nine = u32_full(g, 9, dims)?;
    let mantissa = bin(g, BinaryOp::ShiftRightLogical, &bits, &nine)?;
    let one_bits = u32_full(g, 0x3f80_0000, dims)?;
    let float_bits = bin(g, BinaryOp::Or, &mantissa, &one_bits)?;
    let floats = g.emit_shaped(
        Op::BitcastConvert,
        &[&float_bits],
        ElementType::F32,
        dims.to_vec(),
    )?;
    let one = g.full(Scalar::f32(1.0), dims)?;
    let floats = bin(g, BinaryOp::Subtract, &floats, &one)?;
    let span = bin(g, BinaryOp::Subtract, hi, lo)?;
    let span = g.broadcast_to(&span, dims)?;
    let lo = g.broadcast_to(lo, dims)?;
    let scaled = bin(g, BinaryOp::Multiply, &floats, &span)?;
    let shifted = bin(g, BinaryOp::Add, &scaled, &lo)?;
    bin(g, BinaryOp::Maximum, &lo, &shifted)
}

/// XLA's `erf_inv` for f32 (what `chlo.erf_inv` expands to; Giles' polynomial).
fn erf_inv_f32(g: &mut Graph, x: &Tensor) -> OpResult<Tensor> {
    // XLA's constants as its HLO prints them (`ErfInv32`), small `w` first.
    #[allow(clippy::excessive_precision)]
    const SMALL: [f32; 9] = [
        2.81022636e-08,
        3.43273939e-07,
        -3.5233877e-06,
        -4.39150654e-06,
        0.00021858087,
        -0.00125372503,
        -0.00417768164,
        0.246640727,
        1.50140941,
    ];
    #[allow(clippy::excessive_precision)]
    const LARGE: [f32; 9] = [
        -0.000200214257,
        0.000100950558,
        0.00134934322,
        -0.00367342844,
        0.00573950773,
        -0.0076224613,
        0.00943887047,
        1.00167406,
        2.83297682,
    ];
    let dims = x.dims().to_vec();
    let c = |g: &mut Graph, v: f32| g.full(Scalar::f32(v), &dims);
    let neg = g.emit(Op::Unary(UnaryOp::Negate), &[x])?;
    let square = bin(g, BinaryOp::Multiply, x, &neg)?;
    let log = g.emit(Op::Unary(UnaryOp::Log1p), &[&square])?;
    let w = g.emit(Op::Unary(UnaryOp::Negate), &[&log])?;
    let five = c(g, 5.0)?;
    let small = g.compare(Direction::Lt, &w, &five)?;
    let two_half = c(g, 2.5)?;
    let w_small = bin(g, BinaryOp::Subtract, &w, &two_half)?;
    let root = g.emit(Op::Unary(UnaryOp::Sqrt), &[&w])?;
    let three = c(g, 3.0)?;
    let w_large = bin(g, BinaryOp::Subtract, &root, &three)?;
    let w = g.select(&small, &w_small, &w_large)?;
    let coefficient = |g: &mut Graph, i: usize| -> OpResult<Tensor> {
        let (a, b) = (c(g, SMALL[i])?, c(g, LARGE[i])?);
        g.select(&small, &a, &b)
    };
    let mut p = coefficient(g, 0)?;
    for i in 1..9 {
        let term = coefficient(g, i)?;
        let pw = bin(g, BinaryOp::Multiply, &p, &w)?;
        p = bin(g, BinaryOp::Add, &term, &pw)?;
    }
    let result = bin(g, BinaryOp::Multiply, &p, x)?;
    // erf_inv(±1) = ±inf.
    let magnitude = g.emit(Op::Unary(UnaryOp::Abs), &[x])?;
    let one = c(g, 1.0)?;
    let at_one = g.compare(Direction::Eq, &magnitude, &one)?;
    let inf = c(g, f32::INFINITY)?;
    let infinite = bin(g, BinaryOp::Multiply, x, &inf)?;
    g.select(&at_one, &infinite, &result)
}

impl Args {
    /// Argument `i` as a key: a `u32[2]` array.
    fn key(&self, tracer: &mut Tracer, i: usize) -> Result<Tensor, CompileError> {
        let t = self.tensor(tracer, i)?;
        if t.element() != U32 || t.dims() != [2] {
            return fail(
                ErrorKind::Dtype,
                self.span(i),
                format!(
                    "`{}` takes a key, a u32[2] array (from `key(seed)`), not {}",
                    self.name,
                    user_type(&t.shape)
                ),
            );
        }
        Ok(t)
    }

    /// Argument `i` as an f32 scalar-or-broadcastable bound, `default` when absent.
    fn f32_operand(
        &self,
        tracer: &mut Tracer,
        i: usize,
        default: f64,
    ) -> Result<Tensor, CompileError> {
        let value = self.get(i).cloned().unwrap_or(Value::Float(default));
        if let Value::Tensor(t) = &value
            && t.element() != ElementType::F32
        {
            return fail(
                ErrorKind::Dtype,
                self.span(i),
                format!(
                    "`{}` draws f32 numbers: give an f32 bound, not {}",
                    self.name,
                    user_type(&t.shape)
                ),
            );
        }
        arith::to_tensor(&mut tracer.graph, &value, ElementType::F32)
            .map_err(|f| at(self.span(i), f))
    }
}

/// `key(seed)`: `jax.random.PRNGKey(seed)`. A seed that fits an i32 gives `[0,
/// seed]` (JAX's default 32-bit seeds); a larger compile-time one its 64 bits'
/// high and low words. An integer array seed gives its high word (0 below 64
/// bits) and its low word.
pub fn key(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let g = &mut tracer.graph;
    if let Some(Value::Int(seed)) = args.get(0) {
        let (hi, lo) = match i32::try_from(*seed) {
            Ok(s) => (0, s as u32),
            Err(_) => ((*seed as u64 >> 32) as u32, *seed as u32),
        };
        return g
            .emit_shaped(Op::Constant(Literal::new([hi, lo])), &[], U32, vec![2])
            .located(args);
    }
    let seed = args.tensor(tracer, 0)?;
    if !seed.element().is_integer() || seed.rank() != 0 {
        return fail(
            ErrorKind::Dtype,
            args.span(0),
            format!(
                "a seed is an integer scalar, not {}",
                user_type(&seed.shape)
            ),
        );
    }
    let g = &mut tracer.graph;
    let result = (|| {
        let shift = g.scalar(Scalar::int(seed.element(), 32))?;
        let hi = bin(g, BinaryOp::ShiftRightLogical, &seed, &shift)?;
        let hi = g.convert(&hi, U32)?;
        let lo = g.convert(&seed, U32)?;
        let (hi, lo) = (g.reshape(&hi, &[1])?, g.reshape(&lo, &[1])?);
        g.concatenate(&[&hi, &lo], 0)
    })();
    result.located(args)
}

/// `split(key, n=2)`: `n` keys, `u32[n, 2]` (a list `n` gives `u32[*n, 2]`).
pub fn split(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let key = args.key(tracer, 0)?;
    let shape = match args.get(1) {
        None => vec![2],
        Some(_) => args.shape(1)?,
    };
    split_keys(&mut tracer.graph, &key, &shape).located(args)
}

/// `fold_in(key, data)`: the hash of the count `[0, data]`.
pub fn fold_in(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let key = args.key(tracer, 0)?;
    let data = args.operand(1)?;
    let g = &mut tracer.graph;
    let result = (|| {
        let data = arith::to_tensor(g, &data, U32)?;
        if data.rank() != 0 {
            return Err((
                ErrorKind::Shape,
                format!("fold_in takes a scalar, not {}", user_type(&data.shape)),
            ));
        }
        let (k0, k1) = key_words(g, &key)?;
        let zero = u32_full(g, 0, &[1])?;
        let data = g.reshape(&data, &[1])?;
        let (a, b) = threefry2x32(g, (&k0, &k1), &zero, &data)?;
        g.concatenate(&[&a, &b], 0)
    })();
    result.located(args)
}

/// `uniform(key, shape, lo=0, hi=1)`: f32 in `[lo, hi)`.
pub fn uniform(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let key = args.key(tracer, 0)?;
    let dims = args.shape(1)?;
    let lo = args.f32_operand(tracer, 2, 0.0)?;
    let hi = args.f32_operand(tracer, 3, 1.0)?;
    uniform_f32(&mut tracer.graph, &key, &dims, &lo, &hi).located(args)
}

/// `normal(key, shape)`: `sqrt(2) * erf_inv(u)`, `u` uniform in `(-1, 1)`.
pub fn normal(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let key = args.key(tracer, 0)?;
    let dims = args.shape(1)?;
    let g = &mut tracer.graph;
    let result = (|| {
        let lo = g.scalar(Scalar::f32(f32::from_bits((-1.0f32).to_bits() - 1)))?;
        let hi = g.scalar(Scalar::f32(1.0))?;
        let u = uniform_f32(g, &key, &dims, &lo, &hi)?;
        let e = erf_inv_f32(g, &u)?;
        let root2 = g.full(Scalar::f32(std::f32::consts::SQRT_2), &dims)?;
        bin(g, BinaryOp::Multiply, &e, &root2)
    })();
    result.located(args)
}

/// `uniform(key, shape) < p`, in f32.
fn bernoulli_mask(g: &mut Graph, key: &Tensor, p: &Tensor, dims: &[usize]) -> OpResult<Tensor> {
    let lo = g.scalar(Scalar::f32(0.0))?;
    let hi = g.scalar(Scalar::f32(1.0))?;
    let u = uniform_f32(g, key, dims, &lo, &hi)?;
    let p = g.broadcast_to(p, dims)?;
    g.compare(Direction::Lt, &u, &p)
}

/// `bernoulli(key, p=0.5, shape=p's shape)`: bools, true with probability `p`.
pub fn bernoulli(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let key = args.key(tracer, 0)?;
    let p = args.f32_operand(tracer, 1, 0.5)?;
    let dims = match args.get(2) {
        None => p.dims().to_vec(),
        Some(_) => args.shape(2)?,
    };
    bernoulli_mask(&mut tracer.graph, &key, &p, &dims).located(args)
}

/// `randint(key, shape, lo, hi)`: i32 in `[lo, hi)`, from 64 random bits per
/// value reduced modulo the span, as JAX does (bias and all).
pub fn randint(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let key = args.key(tracer, 0)?;
    let dims = args.shape(1)?;
    let (lo, hi) = (args.operand(2)?, args.operand(3)?);
    for (i, v) in [(2, &lo), (3, &hi)] {
        if let Value::Tensor(t) = v
            && t.element() != ElementType::S32
        {
            return fail(
                ErrorKind::Dtype,
                args.span(i),
                format!(
                    "randint draws i32 numbers: give i32 bounds, not {}",
                    user_type(&t.shape)
                ),
            );
        }
        if let Value::Float(_) = v {
            return fail(
                ErrorKind::Dtype,
                args.span(i),
                "randint takes integer bounds",
            );
        }
    }
    let g = &mut tracer.graph;
    let result = (|| {
        let lo = arith::to_tensor(g, &lo, ElementType::S32)?;
        let hi = arith::to_tensor(g, &hi, ElementType::S32)?;
        let (lo, hi) = (g.broadcast_to(&lo, &dims)?, g.broadcast_to(&hi, &dims)?);
        let keys = split_keys(g, &key, &[2])?;
        let row = |g: &mut Graph, i: usize| {
            let s = g.slice(
                &keys,
                vec![
                    SliceDim {
                        start: i,
                        limit: i + 1,
                        stride: 1,
                    },
                    SliceDim {
                        start: 0,
                        limit: 2,
                        stride: 1,
                    },
                ],
            )?;
            g.reshape(&s, &[2])
        };
        let (k1, k2) = (row(g, 0)?, row(g, 1)?);
        let higher = random_bits(g, &k1, &dims)?;
        let lower = random_bits(g, &k2, &dims)?;
        let diff = bin(g, BinaryOp::Subtract, &hi, &lo)?;
        let span = g.convert(&diff, U32)?;
        let empty = g.compare(Direction::Le, &hi, &lo)?;
        let one = u32_full(g, 1, &dims)?;
        let span = g.select(&empty, &one, &span)?;
        let half = u32_full(g, 1 << 16, &dims)?;
        let multiplier = bin(g, BinaryOp::Remainder, &half, &span)?;
        let squared = bin(g, BinaryOp::Multiply, &multiplier, &multiplier)?;
        let multiplier = bin(g, BinaryOp::Remainder, &squared, &span)?;
        let high = bin(g, BinaryOp::Remainder, &higher, &span)?;
        let high = bin(g, BinaryOp::Multiply, &high, &multiplier)?;
        let low = bin(g, BinaryOp::Remainder, &lower, &span)?;
        let offset = bin(g, BinaryOp::Add, &high, &low)?;
        let offset = bin(g, BinaryOp::Remainder, &offset, &span)?;
        let offset = g.convert(&offset, ElementType::S32)?;
        bin(g, BinaryOp::Add, &lo, &offset)
    })();
    result.located(args)
}

/// `dropout(key, x, rate)`, as flax's `Dropout`: keeps each element with
/// probability `1 - rate` (a `bernoulli` mask of `x`'s shape) and scales the kept
/// ones by `1 / (1 - rate)`; `rate = 0` is `x`, `rate = 1` zeros.
pub fn dropout(tracer: &mut Tracer, args: &Args) -> Result<Value, CompileError> {
    let key = args.key(tracer, 0)?;
    let x = args.tensor(tracer, 1)?;
    let rate = args.number(2, 0.0)?;
    if !x.element().is_float() {
        return fail(
            ErrorKind::Dtype,
            args.span(1),
            format!("dropout takes a float array, not {}", user_type(&x.shape)),
        );
    }
    if !(0.0..=1.0).contains(&rate) {
        return fail(
            ErrorKind::Value,
            args.span(2),
            format!("dropout's rate must be in [0, 1], not {rate}"),
        );
    }
    if rate == 0.0 {
        return Ok(Value::Tensor(x));
    }
    let g = &mut tracer.graph;
    let result = (|| {
        let zeros = g.full(
            Scalar::from_number(x.element(), Number::Float(0.0)),
            x.dims(),
        )?;
        if rate == 1.0 {
            return Ok(zeros);
        }
        let keep = 1.0 - rate;
        let p = g.scalar(Scalar::f32(keep as f32))?;
        let mask = bernoulli_mask(g, &key, &p, x.dims())?;
        // `x / keep`, as XLA's simplifier rewrites a division by a constant: a
        // multiplication by its reciprocal, rounded in x's type.
        let one = Scalar::from_number(x.element(), Number::Float(1.0));
        let keep = Scalar::from_number(x.element(), Number::Float(keep));
        let reciprocal = Scalar::binary(BinaryOp::Divide, one, keep);
        let scale = g.full(reciprocal, x.dims())?;
        let scaled = g.emit(hlo::Op::Binary(BinaryOp::Multiply), &[&x, &scale])?;
        g.select(&mask, &scaled, &zeros)
    })();
    result.located(args)
}
