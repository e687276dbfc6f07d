//! Element ops in Cranelift IR, for one element (every type) or four (`f32x4`,
//! `i32x4` and `pred` masks: 128-bit vectors, the widest x64 Cranelift lowers),
//! from one code path.
//!
//! In registers, an integer type is a Cranelift integer of its width (`s8` and
//! `u8` are both `I8`: the op picks signed or unsigned instructions), `f32` and
//! `f64` are themselves, `f16` and `bf16` are `F32` holding a value of the
//! narrow type (every op computes in f32 and rounds its result to nearest even,
//! as the interpreter does), and `pred` is an `I32` mask (0 or -1), so that
//! compares, `select` and the logical ops are the same instructions at both
//! widths. Memory holds each type in its own width, `pred` as one byte (0 or 1).
//! Semantics are XLA's, as `hlo::Element` states them.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    ExtFuncData, ExternalName, FuncRef, InstBuilder, MemFlagsData, Signature, Type,
    UserExternalName, Value, types,
};
use cranelift_frontend::FunctionBuilder;
use omelet_compiler::half::{bf16, f16};
use omelet_compiler::hlo::{
    BinaryOp, Direction, Element, ElementType, Kind, ReduceOp, Scalar, UnaryOp, integer_power,
};

use rustc_hash::FxHashMap;

use crate::math::{self, MathFn};

mod convert;
mod helpers;
mod precision;

pub use convert::{bitcast_convert, convert};
use convert::{f32_to_half, half_to_f32};
pub use helpers::{Call, Helper, Helpers};
pub use precision::reduce_precision;

/// Whether `element` has a 4-lane register form.
pub fn vectorizes(element: ElementType) -> bool {
    matches!(
        element,
        ElementType::F32 | ElementType::S32 | ElementType::Pred
    )
}

fn is_half(element: ElementType) -> bool {
    matches!(element, ElementType::F16 | ElementType::Bf16)
}

fn signed(element: ElementType) -> bool {
    element.kind() == Kind::Signed
}

/// The register type of `element` at `lanes` (1, or 4 for [`vectorizes`] types).
pub fn reg_type(element: ElementType, lanes: u32) -> Type {
    let scalar = match element {
        ElementType::F32 | ElementType::F16 | ElementType::Bf16 => types::F32,
        ElementType::F64 => types::F64,
        ElementType::S32 | ElementType::U32 | ElementType::Pred => types::I32,
        ElementType::S8 | ElementType::U8 => types::I8,
        ElementType::S16 | ElementType::U16 => types::I16,
        ElementType::S64 | ElementType::U64 => types::I64,
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
        ElementType::F16 | ElementType::Bf16 => {
            assert_eq!(lanes, 1, "16-bit floats are accessed one element at a time");
            let bits = b.ins().uload16(types::I32, flags(), addr, 0);
            half_to_f32(b, element, bits)
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
        ElementType::F16 | ElementType::Bf16 => {
            let bits = f32_to_half(b, element, v);
            b.ins().istore16(flags(), bits, addr, 0);
        }
        _ => {
            b.ins().store(flags(), v, addr, 0);
        }
    }
}

/// A constant of `element` given by its bits (as `Scalar` holds them), in its
/// register form, splatted to `lanes`.
pub fn constant(b: &mut FunctionBuilder, element: ElementType, lanes: u32, bits: u64) -> Value {
    let scalar = match element {
        ElementType::F32 => b.ins().f32const(f32::from_bits(bits as u32)),
        ElementType::F64 => b.ins().f64const(f64::from_bits(bits)),
        ElementType::F16 => b.ins().f32const(f16::from_bits(bits as u16).to_f32()),
        ElementType::Bf16 => b.ins().f32const(bf16::from_bits(bits as u16).to_f32()),
        ElementType::Pred => b.ins().iconst(types::I32, -((bits != 0) as i64)),
        _ => {
            let ty = reg_type(element, 1);
            let width = element.bit_width();
            // Cranelift wants immediates sign-extended from the type's width.
            let v = ((bits << (64 - width)) as i64) >> (64 - width);
            b.ins().iconst(ty, v)
        }
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

/// A float constant at `like`'s type (`F32`, `F32X4` or `F64`).
fn fconst(b: &mut FunctionBuilder, like: Value, x: f64) -> Value {
    let ty = b.func.dfg.value_type(like);
    if ty.lane_type() == types::F64 {
        return b.ins().f64const(x);
    }
    let c = b.ins().f32const(x as f32);
    splat(b, c, ty.lane_count())
}

/// An integer constant at `like`'s type (any integer, or `I32X4`).
fn iconst(b: &mut FunctionBuilder, like: Value, x: i64) -> Value {
    let ty = b.func.dfg.value_type(like);
    let bits = ty.lane_type().bits();
    let v = if bits == 64 {
        x
    } else {
        (x << (64 - bits)) >> (64 - bits)
    };
    let c = b.ins().iconst(ty.lane_type(), v);
    splat(b, c, ty.lane_count())
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

/// `m ? x : y` for a mask `m` of `x`'s width (or any nonzero scalar).
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

/// Rounds an f32 result of an op on `element` to that type, when it is a 16-bit
/// float (a value of the type, back in f32).
pub fn round(b: &mut FunctionBuilder, element: ElementType, x: Value) -> Value {
    if !is_half(element) {
        return x;
    }
    let bits = f32_to_half(b, element, x);
    half_to_f32(b, element, bits)
}

/// A float op's helper for `f64` or, for `f32`-held types, the f32 one.
fn float_helper(element: ElementType, f32_helper: Helper, f64_helper: Helper) -> Helper {
    if element == ElementType::F64 {
        f64_helper
    } else {
        f32_helper
    }
}

pub fn unary(
    b: &mut FunctionBuilder,
    op: UnaryOp,
    element: ElementType,
    x: Value,
    call: &mut Call,
) -> Value {
    match element.kind() {
        Kind::Float => float_unary(b, op, element, x, call),
        Kind::Pred => match op {
            UnaryOp::Not => b.ins().bnot(x),
            op => unreachable!("{} is not defined on pred", op.opcode()),
        },
        Kind::Signed | Kind::Unsigned => int_unary(b, op, element, x),
    }
}

fn float_unary(
    b: &mut FunctionBuilder,
    op: UnaryOp,
    element: ElementType,
    x: Value,
    call: &mut Call,
) -> Value {
    let wide = element == ElementType::F64;
    let v = match op {
        UnaryOp::Negate => return b.ins().fneg(x),
        UnaryOp::Abs => return b.ins().fabs(x),
        UnaryOp::Sign => {
            // 1 or -1 by the sign bit, except that zeros and NaN stay themselves.
            // x64 Cranelift has no vector `fcopysign`: or the sign bit into 1.0.
            let float_ty = b.func.dfg.value_type(x);
            let int_ty = float_ty.as_int();
            let bits = b.ins().bitcast(int_ty, MemFlagsData::new(), x);
            let (sign_bit, one_bits) = if wide {
                (i64::MIN, 1f64.to_bits() as i64)
            } else {
                (i32::MIN as i64, 1f32.to_bits() as i64)
            };
            let sign_bit = iconst(b, bits, sign_bit);
            let sign = b.ins().band(bits, sign_bit);
            let one_bits = iconst(b, bits, one_bits);
            let one = b.ins().bor(sign, one_bits);
            let signed = b.ins().bitcast(float_ty, MemFlagsData::new(), one);
            let zero = fconst(b, x, 0.0);
            let is_zero = fcmp(b, FloatCC::Equal, x, zero);
            let is_nan = fcmp(b, FloatCC::Unordered, x, x);
            let keep = b.ins().bor(is_zero, is_nan);
            return select(b, keep, x, signed);
        }
        UnaryOp::Floor => return b.ins().floor(x),
        UnaryOp::Ceil => return b.ins().ceil(x),
        UnaryOp::RoundNearestEven => return b.ins().nearest(x),
        UnaryOp::IsFinite => {
            let magnitude = b.ins().fabs(x);
            let inf = fconst(b, x, f64::INFINITY);
            return fcmp(b, FloatCC::LessThan, magnitude, inf);
        }
        UnaryOp::Sqrt => b.ins().sqrt(x),
        UnaryOp::Rsqrt => {
            let root = b.ins().sqrt(x);
            let one = fconst(b, x, 1.0);
            b.ins().fdiv(one, root)
        }
        op if wide => call(b, Helper::UnaryF64(op), &[x]),
        UnaryOp::Exp => math::emit(b, MathFn::Exp, x),
        UnaryOp::Expm1 => math::emit(b, MathFn::Expm1, x),
        UnaryOp::Log => math::emit(b, MathFn::Log, x),
        UnaryOp::Log1p => math::emit(b, MathFn::Log1p, x),
        UnaryOp::Tanh => math::emit(b, MathFn::Tanh, x),
        UnaryOp::Logistic => math::emit(b, MathFn::Logistic, x),
        UnaryOp::Erf => math::emit(b, MathFn::Erf, x),
        UnaryOp::Sin => math::emit(b, MathFn::Sin, x),
        UnaryOp::Cos => math::emit(b, MathFn::Cos, x),
        UnaryOp::Tan => math::emit(b, MathFn::Tan, x),
        UnaryOp::Cbrt => math::emit(b, MathFn::Cbrt, x),
        op => unreachable!("{} is not defined on floats", op.opcode()),
    };
    round(b, element, v)
}

fn int_unary(b: &mut FunctionBuilder, op: UnaryOp, element: ElementType, x: Value) -> Value {
    match op {
        UnaryOp::Negate => b.ins().ineg(x),
        UnaryOp::Abs if signed(element) => b.ins().iabs(x),
        UnaryOp::Abs => x,
        UnaryOp::Sign if signed(element) => {
            let one = iconst(b, x, 1);
            let minus = iconst(b, x, -1);
            let low = b.ins().smin(x, one);
            b.ins().smax(low, minus)
        }
        UnaryOp::Sign => {
            let one = iconst(b, x, 1);
            let zero = iconst(b, x, 0);
            b.ins().select(x, one, zero)
        }
        UnaryOp::Not => b.ins().bnot(x),
        UnaryOp::PopulationCount => per_lane(b, &[x], &mut |b, v| b.ins().popcnt(v[0])),
        UnaryOp::CountLeadingZeros => per_lane(b, &[x], &mut |b, v| b.ins().clz(v[0])),
        op => unreachable!("{} is not defined on integers", op.opcode()),
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
    call: &mut Call,
) -> Value {
    match element.kind() {
        Kind::Float => {
            let v = match op {
                BinaryOp::Add => b.ins().fadd(x, y),
                BinaryOp::Subtract => b.ins().fsub(x, y),
                BinaryOp::Multiply => b.ins().fmul(x, y),
                BinaryOp::Divide => b.ins().fdiv(x, y),
                BinaryOp::Maximum => return fmax(b, x, y, true),
                BinaryOp::Minimum => return fmax(b, x, y, false),
                BinaryOp::Remainder => {
                    let h = float_helper(element, Helper::FmodF32, Helper::FmodF64);
                    per_lane(b, &[x, y], &mut |b, v| call(b, h, v))
                }
                BinaryOp::Power => {
                    let h = float_helper(element, Helper::PowF32, Helper::PowF64);
                    per_lane(b, &[x, y], &mut |b, v| call(b, h, v))
                }
                BinaryOp::Atan2 if element == ElementType::F64 => {
                    call(b, Helper::Atan2F64, &[x, y])
                }
                BinaryOp::Atan2 => math::emit2(b, MathFn::Atan2, x, y),
                op => unreachable!("{} is not defined on floats", op.opcode()),
            };
            round(b, element, v)
        }
        Kind::Pred => match op {
            BinaryOp::And | BinaryOp::Minimum => b.ins().band(x, y),
            BinaryOp::Or | BinaryOp::Maximum => b.ins().bor(x, y),
            BinaryOp::Xor => b.ins().bxor(x, y),
            op => unreachable!("{} is not defined on pred", op.opcode()),
        },
        Kind::Signed | Kind::Unsigned => int_binary(b, op, element, x, y, call),
    }
}

fn int_binary(
    b: &mut FunctionBuilder,
    op: BinaryOp,
    element: ElementType,
    x: Value,
    y: Value,
    call: &mut Call,
) -> Value {
    let signed = signed(element);
    match op {
        BinaryOp::Add => b.ins().iadd(x, y),
        BinaryOp::Subtract => b.ins().isub(x, y),
        BinaryOp::Multiply => b.ins().imul(x, y),
        BinaryOp::Divide | BinaryOp::Remainder => per_lane(b, &[x, y], &mut |b, v| {
            int_divide(b, op == BinaryOp::Divide, signed, v[0], v[1])
        }),
        BinaryOp::Maximum if signed => b.ins().smax(x, y),
        BinaryOp::Minimum if signed => b.ins().smin(x, y),
        BinaryOp::Maximum => b.ins().umax(x, y),
        BinaryOp::Minimum => b.ins().umin(x, y),
        BinaryOp::Power => per_lane(b, &[x, y], &mut |b, v| {
            let ty = b.func.dfg.value_type(v[0]);
            let (base, exponent) = (extend64(b, signed, v[0]), extend64(b, signed, v[1]));
            let h = if signed {
                Helper::PowS64
            } else {
                Helper::PowU64
            };
            let r = call(b, h, &[base, exponent]);
            narrow(b, ty, r)
        }),
        BinaryOp::And => b.ins().band(x, y),
        BinaryOp::Or => b.ins().bor(x, y),
        BinaryOp::Xor => b.ins().bxor(x, y),
        BinaryOp::ShiftLeft | BinaryOp::ShiftRightLogical | BinaryOp::ShiftRightArithmetic => {
            per_lane(b, &[x, y], &mut |b, v| shift(b, op, v[0], v[1]))
        }
        op => unreachable!("{} is not defined on integers", op.opcode()),
    }
}

/// XLA's shifts: the amount read as unsigned; at least the width gives 0 (the
/// sign for an arithmetic shift), where Cranelift would take it modulo the width.
fn shift(b: &mut FunctionBuilder, op: BinaryOp, x: Value, amount: Value) -> Value {
    let width = b.func.dfg.value_type(x).bits() as i64;
    let big = b
        .ins()
        .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, amount, width);
    match op {
        BinaryOp::ShiftRightArithmetic => {
            let last = iconst(b, amount, width - 1);
            let amount = b.ins().select(big, last, amount);
            b.ins().sshr(x, amount)
        }
        _ => {
            let shifted = if op == BinaryOp::ShiftLeft {
                b.ins().ishl(x, amount)
            } else {
                b.ins().ushr(x, amount)
            };
            let zero = iconst(b, x, 0);
            b.ins().select(big, zero, shifted)
        }
    }
}

/// XLA's integer division and remainder: `x / 0 = -1` (all ones), `x % 0 = x`,
/// `MIN / -1 = MIN`, `MIN % -1 = 0`; Cranelift's `sdiv`/`udiv` would trap.
fn int_divide(b: &mut FunctionBuilder, divide: bool, signed: bool, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    let zero = b.ins().icmp_imm_s(IntCC::Equal, y, 0);
    let overflow = if signed {
        let min = iconst(b, x, 1i64 << (ty.bits() - 1));
        let min = b.ins().icmp(IntCC::Equal, x, min);
        let minus_one = b.ins().icmp_imm_s(IntCC::Equal, y, -1);
        b.ins().band(min, minus_one)
    } else {
        b.ins().iconst(types::I8, 0)
    };
    let special = b.ins().bor(zero, overflow);
    let one = iconst(b, y, 1);
    let safe = b.ins().select(special, one, y);
    if divide {
        let q = if signed {
            b.ins().sdiv(x, safe)
        } else {
            b.ins().udiv(x, safe)
        };
        let minus = iconst(b, x, -1);
        let q = b.ins().select(overflow, x, q);
        b.ins().select(zero, minus, q)
    } else {
        let r = if signed {
            b.ins().srem(x, safe)
        } else {
            b.ins().urem(x, safe)
        };
        let z = iconst(b, x, 0);
        let r = b.ins().select(overflow, z, r);
        b.ins().select(zero, x, r)
    }
}

/// An integer register widened to 64 bits by its signedness.
fn extend64(b: &mut FunctionBuilder, signed: bool, x: Value) -> Value {
    match b.func.dfg.value_type(x) {
        types::I64 => x,
        _ if signed => b.ins().sextend(types::I64, x),
        _ => b.ins().uextend(types::I64, x),
    }
}

/// An integer register cut (wrapped) to `ty`.
fn narrow(b: &mut FunctionBuilder, ty: Type, x: Value) -> Value {
    if b.func.dfg.value_type(x) == ty {
        x
    } else {
        b.ins().ireduce(ty, x)
    }
}

/// Applies a scalar lowering to each lane of vector operands.
fn per_lane(
    b: &mut FunctionBuilder,
    xs: &[Value],
    f: &mut dyn FnMut(&mut FunctionBuilder, &[Value]) -> Value,
) -> Value {
    let ty = b.func.dfg.value_type(xs[0]);
    if !ty.is_vector() {
        return f(b, xs);
    }
    let mut out = xs[0];
    for lane in 0..ty.lane_count() as u8 {
        let scalars: Vec<Value> = xs.iter().map(|&x| b.ins().extractlane(x, lane)).collect();
        let r = f(b, &scalars);
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
    if element.is_float() {
        let cc = match direction {
            Direction::Eq => FloatCC::Equal,
            Direction::Ne => FloatCC::NotEqual,
            Direction::Lt => FloatCC::LessThan,
            Direction::Le => FloatCC::LessThanOrEqual,
            Direction::Gt => FloatCC::GreaterThan,
            Direction::Ge => FloatCC::GreaterThanOrEqual,
        };
        return fcmp(b, cc, x, y);
    }
    // Masks order as unsigned (true = all ones > false = 0).
    let signed = signed(element);
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

/// `compare` with `type=TOTALORDER` (`region::total_order_compare`): a float
/// compared by its bits made a signed key, the magnitude bits of a negative
/// value flipped (`-NaN < -inf < -0 < +0 < inf < NaN`). `f16`/`bf16` live in
/// `f32` registers, whose order is theirs.
pub fn compare_total_order(
    b: &mut FunctionBuilder,
    direction: Direction,
    element: ElementType,
    x: Value,
    y: Value,
) -> Value {
    if !element.is_float() {
        return compare(b, direction, element, x, y);
    }
    let mut key = |v: Value| {
        let ty = b.func.dfg.value_type(v).as_int();
        let bits = b.ins().bitcast(ty, MemFlagsData::new(), v);
        let sign = b.ins().sshr_imm_u(bits, i64::from(ty.lane_bits() - 1));
        let magnitude = b.ins().ushr_imm_u(sign, 1);
        b.ins().bxor(bits, magnitude)
    };
    let (x, y) = (key(x), key(y));
    let keys = match element {
        ElementType::F64 => ElementType::S64,
        _ => ElementType::S32,
    };
    compare(b, direction, keys, x, y)
}

/// The identity of a reduction (where its accumulators start), as `constant`
/// takes it.
pub fn identity(op: ReduceOp, element: ElementType) -> u64 {
    op.identity(element).bits
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
    binary(b, op.combiner(), element, x, y, &mut |_, h, _| {
        unreachable!("no reduction calls {h:?}")
    })
}
