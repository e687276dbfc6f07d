//! Element ops in Cranelift IR, for one element (scalar types) or four (128-bit
//! vectors: x64 Cranelift lowers no wider ones), from one code path.
//!
//! In registers, `f32` is `F32`/`F32X4`, `s32` is `I32`/`I32X4`, and `pred` is an
//! `I32` mask (0 or -1) of the same width, so that compares, `select` and the
//! logical ops are the same instructions at both widths. Memory holds `pred` as
//! one byte (0 or 1). Semantics are XLA's, as the interpreter states them.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_frontend::FunctionBuilder;
use omelet_compiler::hlo::{BinaryOp, Direction, ElementType, ReduceOp, UnaryOp, integer_power};

use crate::math::{self, MathFn};

/// Helpers the generated code calls, one element at a time, for the few ops with
/// no inline lowering (`power`, float `remainder`, integer `power`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Helper {
    PowF32,
    FmodF32,
    PowS32,
}

impl Helper {
    pub const ALL: [Helper; 3] = [Helper::PowF32, Helper::FmodF32, Helper::PowS32];

    pub fn symbol(self) -> &'static str {
        match self {
            Helper::PowF32 => "omelet_pow_f32",
            Helper::FmodF32 => "omelet_fmod_f32",
            Helper::PowS32 => "omelet_pow_s32",
        }
    }

    pub fn address(self) -> *const u8 {
        match self {
            Helper::PowF32 => pow_f32 as *const u8,
            Helper::FmodF32 => fmod_f32 as *const u8,
            Helper::PowS32 => pow_s32 as *const u8,
        }
    }

    fn is_float(self) -> bool {
        !matches!(self, Helper::PowS32)
    }
}

extern "C" fn pow_f32(a: f32, b: f32) -> f32 {
    a.powf(b)
}

extern "C" fn fmod_f32(a: f32, b: f32) -> f32 {
    a % b
}

extern "C" fn pow_s32(base: i32, exponent: i32) -> i32 {
    integer_power(base, exponent)
}

/// The register type of `element` at `lanes` (1 or 4).
pub fn reg_type(element: ElementType, lanes: u32) -> Type {
    let scalar = match element {
        ElementType::F32 => types::F32,
        ElementType::S32 | ElementType::Pred => types::I32,
        other => unreachable!("the cpu backend refuses {other} before compiling"),
    };
    if lanes == 1 {
        scalar
    } else {
        scalar.by(lanes).expect("4 lanes of 32 bits")
    }
}

pub fn lanes_of(b: &FunctionBuilder, v: Value) -> u32 {
    b.func.dfg.value_type(v).lane_count()
}

fn flags() -> MemFlagsData {
    // Addresses are in bounds by construction (the runtime checks buffer sizes
    // against shapes); vector accesses may be unaligned.
    MemFlagsData::new().with_notrap()
}

/// Loads `lanes` consecutive elements at `addr`.
pub fn load(b: &mut FunctionBuilder, element: ElementType, lanes: u32, addr: Value) -> Value {
    match element {
        ElementType::Pred => {
            assert_eq!(lanes, 1, "pred arrays are accessed one element at a time");
            let byte = b.ins().uload8(types::I32, flags(), addr, 0);
            b.ins().ineg(byte)
        }
        _ => b.ins().load(reg_type(element, lanes), flags(), addr, 0),
    }
}

pub fn store(b: &mut FunctionBuilder, element: ElementType, v: Value, addr: Value) {
    match element {
        ElementType::Pred => {
            let bit = b.ins().band_imm_s(v, 1);
            b.ins().istore8(flags(), bit, addr, 0);
        }
        _ => {
            b.ins().store(flags(), v, addr, 0);
        }
    }
}

/// A constant of `element`'s register type, splatted to `lanes`.
pub fn constant(b: &mut FunctionBuilder, element: ElementType, lanes: u32, bits: u32) -> Value {
    let scalar = match element {
        ElementType::F32 => b.ins().f32const(f32::from_bits(bits)),
        _ => b.ins().iconst(types::I32, bits as i32 as i64),
    };
    splat(b, scalar, lanes)
}

pub fn splat(b: &mut FunctionBuilder, scalar: Value, lanes: u32) -> Value {
    if lanes == 1 {
        return scalar;
    }
    let ty = b.func.dfg.value_type(scalar).by(lanes).expect("4 lanes");
    b.ins().splat(ty, scalar)
}

fn fconst(b: &mut FunctionBuilder, like: Value, x: f32) -> Value {
    let lanes = lanes_of(b, like);
    constant(b, ElementType::F32, lanes, x.to_bits())
}

fn iconst(b: &mut FunctionBuilder, like: Value, x: i32) -> Value {
    let lanes = lanes_of(b, like);
    constant(b, ElementType::S32, lanes, x as u32)
}

/// A compare result as a mask: vectors compare to masks already; scalars to 0/1.
fn mask(b: &mut FunctionBuilder, cmp: Value) -> Value {
    if b.func.dfg.value_type(cmp).is_vector() {
        return cmp;
    }
    let wide = b.ins().uextend(types::I32, cmp);
    b.ins().ineg(wide)
}

pub fn fcmp(b: &mut FunctionBuilder, cc: FloatCC, x: Value, y: Value) -> Value {
    let c = b.ins().fcmp(cc, x, y);
    mask(b, c)
}

fn icmp(b: &mut FunctionBuilder, cc: IntCC, x: Value, y: Value) -> Value {
    let c = b.ins().icmp(cc, x, y);
    mask(b, c)
}

/// `m ? x : y` for a mask `m` of `x`'s width.
pub fn select(b: &mut FunctionBuilder, m: Value, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    if ty.is_vector() {
        let m = if ty.lane_type() == types::F32 {
            b.ins().bitcast(ty, MemFlagsData::new(), m)
        } else {
            m
        };
        b.ins().bitselect(m, x, y)
    } else {
        b.ins().select(m, x, y)
    }
}

/// XLA's maximum (or minimum): NaN if either operand is NaN. The inner select,
/// `y < x ? x : y` (`x < y ? x : y`), is the form that x64 Cranelift lowers to
/// one `maxps` (`minps`), which returns `y` when unordered; the outer one gives
/// `x` back when `x` is the NaN.
fn fmax(b: &mut FunctionBuilder, x: Value, y: Value, maximum: bool) -> Value {
    let pick_x = if maximum {
        fcmp(b, FloatCC::LessThan, y, x)
    } else {
        fcmp(b, FloatCC::LessThan, x, y)
    };
    let m = select(b, pick_x, x, y);
    let nan = fcmp(b, FloatCC::Unordered, x, x);
    select(b, nan, x, m)
}

pub fn unary(b: &mut FunctionBuilder, op: UnaryOp, element: ElementType, x: Value) -> Value {
    match (op, element) {
        (UnaryOp::Negate, ElementType::F32) => b.ins().fneg(x),
        (UnaryOp::Negate, _) => b.ins().ineg(x),
        (UnaryOp::Abs, ElementType::F32) => b.ins().fabs(x),
        (UnaryOp::Abs, _) => b.ins().iabs(x),
        (UnaryOp::Sign, ElementType::F32) => {
            // 1 or -1 by the sign bit, except that zeros and NaN stay themselves.
            // x64 Cranelift has no vector `fcopysign`: or the sign bit into 1.0.
            let float_ty = b.func.dfg.value_type(x);
            let int_ty = float_ty.as_int();
            let bits = b.ins().bitcast(int_ty, MemFlagsData::new(), x);
            let sign_bit = iconst(b, x, i32::MIN);
            let sign = b.ins().band(bits, sign_bit);
            let one_bits = iconst(b, x, 1f32.to_bits() as i32);
            let one = b.ins().bor(sign, one_bits);
            let signed = b.ins().bitcast(float_ty, MemFlagsData::new(), one);
            let zero = fconst(b, x, 0.0);
            let is_zero = fcmp(b, FloatCC::Equal, x, zero);
            let is_nan = fcmp(b, FloatCC::Unordered, x, x);
            let keep = b.ins().bor(is_zero, is_nan);
            select(b, keep, x, signed)
        }
        (UnaryOp::Sign, _) => {
            let one = iconst(b, x, 1);
            let minus = iconst(b, x, -1);
            let low = b.ins().smin(x, one);
            b.ins().smax(low, minus)
        }
        (UnaryOp::Not, _) => b.ins().bnot(x),
        (UnaryOp::Exp, _) => math::emit(b, MathFn::Exp, x),
        (UnaryOp::Expm1, _) => math::emit(b, MathFn::Expm1, x),
        (UnaryOp::Log, _) => math::emit(b, MathFn::Log, x),
        (UnaryOp::Log1p, _) => math::emit(b, MathFn::Log1p, x),
        (UnaryOp::Tanh, _) => math::emit(b, MathFn::Tanh, x),
        (UnaryOp::Logistic, _) => math::emit(b, MathFn::Logistic, x),
        (UnaryOp::Erf, _) => math::emit(b, MathFn::Erf, x),
        (UnaryOp::Sin, _) => math::emit(b, MathFn::Sin, x),
        (UnaryOp::Cos, _) => math::emit(b, MathFn::Cos, x),
        (UnaryOp::Sqrt, _) => b.ins().sqrt(x),
        (UnaryOp::Rsqrt, _) => {
            let root = b.ins().sqrt(x);
            let one = fconst(b, x, 1.0);
            b.ins().fdiv(one, root)
        }
        (UnaryOp::Floor, _) => b.ins().floor(x),
        (UnaryOp::Ceil, _) => b.ins().ceil(x),
        (UnaryOp::RoundNearestEven, _) => b.ins().nearest(x),
        (UnaryOp::IsFinite, _) => {
            let magnitude = b.ins().fabs(x);
            let inf = fconst(b, x, f32::INFINITY);
            fcmp(b, FloatCC::LessThan, magnitude, inf)
        }
        (op, _) => unreachable!("the cpu backend refuses {} before compiling", op.opcode()),
    }
}

/// A binary op on operands of `element` (for compares, the operands' type).
/// Helpers are called by the caller's `call` closure, one element at a time.
pub fn binary(
    b: &mut FunctionBuilder,
    op: BinaryOp,
    element: ElementType,
    x: Value,
    y: Value,
    call: &mut dyn FnMut(&mut FunctionBuilder, Helper, Value, Value) -> Value,
) -> Value {
    let float = element == ElementType::F32;
    match op {
        BinaryOp::Add if float => b.ins().fadd(x, y),
        BinaryOp::Add => b.ins().iadd(x, y),
        BinaryOp::Subtract if float => b.ins().fsub(x, y),
        BinaryOp::Subtract => b.ins().isub(x, y),
        BinaryOp::Multiply if float => b.ins().fmul(x, y),
        BinaryOp::Multiply => b.ins().imul(x, y),
        BinaryOp::Divide if float => b.ins().fdiv(x, y),
        BinaryOp::Remainder if float => {
            per_lane(b, x, y, &mut |b, x, y| call(b, Helper::FmodF32, x, y))
        }
        BinaryOp::Divide | BinaryOp::Remainder => per_lane(b, x, y, &mut |b, x, y| {
            int_divide(b, op == BinaryOp::Divide, x, y)
        }),
        BinaryOp::Maximum if float => fmax(b, x, y, true),
        BinaryOp::Minimum if float => fmax(b, x, y, false),
        // On pred masks, maximum is `or` and minimum `and` (false < true).
        BinaryOp::Maximum if element == ElementType::Pred => b.ins().bor(x, y),
        BinaryOp::Minimum if element == ElementType::Pred => b.ins().band(x, y),
        BinaryOp::Maximum => b.ins().smax(x, y),
        BinaryOp::Minimum => b.ins().smin(x, y),
        BinaryOp::Power if float => per_lane(b, x, y, &mut |b, x, y| call(b, Helper::PowF32, x, y)),
        BinaryOp::Power => per_lane(b, x, y, &mut |b, x, y| call(b, Helper::PowS32, x, y)),
        BinaryOp::And => b.ins().band(x, y),
        BinaryOp::Or => b.ins().bor(x, y),
        op => unreachable!("the cpu backend refuses {} before compiling", op.opcode()),
    }
}

/// XLA's integer division and remainder: `x / 0 = -1`, `x % 0 = x`,
/// `MIN / -1 = MIN`, `MIN % -1 = 0`; Cranelift's `sdiv` would trap on both.
fn int_divide(b: &mut FunctionBuilder, divide: bool, x: Value, y: Value) -> Value {
    let zero = b.ins().icmp_imm_s(IntCC::Equal, y, 0);
    let min = b.ins().icmp_imm_s(IntCC::Equal, x, i32::MIN as i64);
    let minus_one = b.ins().icmp_imm_s(IntCC::Equal, y, -1);
    let overflow = b.ins().band(min, minus_one);
    let special = b.ins().bor(zero, overflow);
    let one = b.ins().iconst(types::I32, 1);
    let safe = b.ins().select(special, one, y);
    if divide {
        let q = b.ins().sdiv(x, safe);
        let minus = b.ins().iconst(types::I32, -1);
        let q = b.ins().select(overflow, x, q);
        b.ins().select(zero, minus, q)
    } else {
        let r = b.ins().srem(x, safe);
        let z = b.ins().iconst(types::I32, 0);
        let r = b.ins().select(overflow, z, r);
        b.ins().select(zero, x, r)
    }
}

/// Applies a scalar lowering to each lane of vector operands.
fn per_lane(
    b: &mut FunctionBuilder,
    x: Value,
    y: Value,
    f: &mut dyn FnMut(&mut FunctionBuilder, Value, Value) -> Value,
) -> Value {
    let ty = b.func.dfg.value_type(x);
    if !ty.is_vector() {
        return f(b, x, y);
    }
    let mut out = x;
    for lane in 0..ty.lane_count() as u8 {
        let xs = b.ins().extractlane(x, lane);
        let ys = b.ins().extractlane(y, lane);
        let r = f(b, xs, ys);
        out = b.ins().insertlane(out, r, lane);
    }
    out
}

pub fn compare(
    b: &mut FunctionBuilder,
    direction: Direction,
    element: ElementType,
    x: Value,
    y: Value,
) -> Value {
    match element {
        ElementType::F32 => {
            let cc = match direction {
                Direction::Eq => FloatCC::Equal,
                Direction::Ne => FloatCC::NotEqual,
                Direction::Lt => FloatCC::LessThan,
                Direction::Le => FloatCC::LessThanOrEqual,
                Direction::Gt => FloatCC::GreaterThan,
                Direction::Ge => FloatCC::GreaterThanOrEqual,
            };
            fcmp(b, cc, x, y)
        }
        // Masks order as unsigned (true = all ones > false = 0); s32 as signed.
        _ => {
            let signed = element == ElementType::S32;
            let cc = match direction {
                Direction::Eq => IntCC::Equal,
                Direction::Ne => IntCC::NotEqual,
                Direction::Lt if signed => IntCC::SignedLessThan,
                Direction::Le if signed => IntCC::SignedLessThanOrEqual,
                Direction::Gt if signed => IntCC::SignedGreaterThan,
                Direction::Ge if signed => IntCC::SignedGreaterThanOrEqual,
                Direction::Lt => IntCC::UnsignedLessThan,
                Direction::Le => IntCC::UnsignedLessThanOrEqual,
                Direction::Gt => IntCC::UnsignedGreaterThan,
                Direction::Ge => IntCC::UnsignedGreaterThanOrEqual,
            };
            icmp(b, cc, x, y)
        }
    }
}

/// Float to int truncates toward zero and saturates (NaN gives 0); anything to
/// pred is `!= 0`; pred to a number is 0 or 1.
pub fn convert(b: &mut FunctionBuilder, from: ElementType, to: ElementType, x: Value) -> Value {
    let lanes = lanes_of(b, x);
    match (from, to) {
        _ if from == to => x,
        (ElementType::F32, ElementType::S32) => b
            .ins()
            .fcvt_to_sint_sat(reg_type(ElementType::S32, lanes), x),
        (ElementType::F32, ElementType::Pred) => {
            let zero = fconst(b, x, 0.0);
            fcmp(b, FloatCC::NotEqual, x, zero)
        }
        (ElementType::S32, ElementType::F32) => {
            b.ins().fcvt_from_sint(reg_type(ElementType::F32, lanes), x)
        }
        (ElementType::S32, ElementType::Pred) => {
            let zero = iconst(b, x, 0);
            icmp(b, IntCC::NotEqual, x, zero)
        }
        (ElementType::Pred, ElementType::S32) => b.ins().ineg(x),
        (ElementType::Pred, ElementType::F32) => {
            let one = fconst(b, x, 1.0);
            let zero = fconst(b, x, 0.0);
            select(b, x, one, zero)
        }
        _ => unreachable!("same types are handled first"),
    }
}

/// The identity of a reduction: where its accumulators start.
pub fn identity(op: ReduceOp, element: ElementType) -> u32 {
    match (op, element) {
        (ReduceOp::Add, ElementType::F32) => 0f32.to_bits(),
        (ReduceOp::Multiply, ElementType::F32) => 1f32.to_bits(),
        (ReduceOp::Maximum, ElementType::F32) => f32::NEG_INFINITY.to_bits(),
        (ReduceOp::Minimum, ElementType::F32) => f32::INFINITY.to_bits(),
        (ReduceOp::Add | ReduceOp::Or, _) => 0,
        (ReduceOp::Maximum, ElementType::Pred) => 0,
        (ReduceOp::Minimum, ElementType::Pred) => u32::MAX,
        (ReduceOp::Multiply, _) => 1,
        (ReduceOp::Maximum, _) => i32::MIN as u32,
        (ReduceOp::Minimum, _) => i32::MAX as u32,
        // All ones: a true mask, and every bit set for bitwise `and` on s32.
        (ReduceOp::And, _) => u32::MAX,
    }
}

/// Combines the lanes of a vector accumulator into one scalar.
pub fn horizontal(b: &mut FunctionBuilder, op: ReduceOp, element: ElementType, v: Value) -> Value {
    let ty = b.func.dfg.value_type(v);
    if !ty.is_vector() {
        return v;
    }
    let mut lanes: Vec<Value> = (0..ty.lane_count() as u8)
        .map(|l| b.ins().extractlane(v, l))
        .collect();
    // Pairwise, as the interpreter sums.
    while lanes.len() > 1 {
        let pairs: Vec<Value> = lanes
            .chunks(2)
            .map(|p| match p {
                [x, y] => combine(b, op, element, *x, *y),
                [x] => *x,
                _ => unreachable!(),
            })
            .collect();
        lanes = pairs;
    }
    lanes[0]
}

pub fn combine(
    b: &mut FunctionBuilder,
    op: ReduceOp,
    element: ElementType,
    x: Value,
    y: Value,
) -> Value {
    binary(b, op.combiner(), element, x, y, &mut |_, h, _, _| {
        unreachable!("no reduction calls {h:?}")
    })
}

/// The signature type of a helper's operands.
pub fn helper_type(h: Helper) -> Type {
    if h.is_float() { types::F32 } else { types::I32 }
}
