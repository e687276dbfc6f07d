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

/// Functions the generated code calls, one element at a time, for the ops with
/// no inline lowering: float `power` and `remainder`, integer `power`, and the
/// `f64` transcendentals (Rust's own `f64` functions, the interpreter's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Helper {
    PowF32,
    FmodF32,
    PowF64,
    FmodF64,
    Atan2F64,
    /// `integer_power` on 64 bits; narrower integers extend to it.
    PowS64,
    PowU64,
    UnaryF64(UnaryOp),
}

/// The `f64` unary ops with a helper.
const F64_UNARY: [UnaryOp; 11] = [
    UnaryOp::Exp,
    UnaryOp::Expm1,
    UnaryOp::Log,
    UnaryOp::Log1p,
    UnaryOp::Tanh,
    UnaryOp::Logistic,
    UnaryOp::Erf,
    UnaryOp::Sin,
    UnaryOp::Cos,
    UnaryOp::Tan,
    UnaryOp::Cbrt,
];

macro_rules! f64_unary {
    ($($name:ident $op:ident),*) => {
        $(extern "C" fn $name(x: f64) -> f64 {
            <f64 as Element>::unary(UnaryOp::$op, x)
        })*
        fn f64_unary_address(op: UnaryOp) -> *const u8 {
            match op {
                $(UnaryOp::$op => $name as *const u8,)*
                _ => unreachable!("no f64 helper for {}", op.opcode()),
            }
        }
    };
}

f64_unary!(exp_f64 Exp, expm1_f64 Expm1, log_f64 Log, log1p_f64 Log1p, tanh_f64 Tanh,
    logistic_f64 Logistic, erf_f64 Erf, sin_f64 Sin, cos_f64 Cos, tan_f64 Tan, cbrt_f64 Cbrt);

impl Helper {
    pub fn all() -> Vec<Helper> {
        let mut all = vec![
            Helper::PowF32,
            Helper::FmodF32,
            Helper::PowF64,
            Helper::FmodF64,
            Helper::Atan2F64,
            Helper::PowS64,
            Helper::PowU64,
        ];
        all.extend(F64_UNARY.map(Helper::UnaryF64));
        all
    }

    pub fn symbol(self) -> String {
        match self {
            Helper::PowF32 => "omelet_pow_f32".into(),
            Helper::FmodF32 => "omelet_fmod_f32".into(),
            Helper::PowF64 => "omelet_pow_f64".into(),
            Helper::FmodF64 => "omelet_fmod_f64".into(),
            Helper::Atan2F64 => "omelet_atan2_f64".into(),
            Helper::PowS64 => "omelet_pow_s64".into(),
            Helper::PowU64 => "omelet_pow_u64".into(),
            Helper::UnaryF64(op) => format!("omelet_{}_f64", op.opcode().replace('-', "_")),
        }
    }

    pub fn address(self) -> *const u8 {
        match self {
            Helper::PowF32 => pow_f32 as *const u8,
            Helper::FmodF32 => fmod_f32 as *const u8,
            Helper::PowF64 => pow_f64 as *const u8,
            Helper::FmodF64 => fmod_f64 as *const u8,
            Helper::Atan2F64 => atan2_f64 as *const u8,
            Helper::PowS64 => pow_s64 as *const u8,
            Helper::PowU64 => pow_u64 as *const u8,
            Helper::UnaryF64(op) => f64_unary_address(op),
        }
    }

    /// The type of each operand and of the result.
    pub fn operand_type(self) -> Type {
        match self {
            Helper::PowF32 | Helper::FmodF32 => types::F32,
            Helper::PowS64 | Helper::PowU64 => types::I64,
            _ => types::F64,
        }
    }

    pub fn arity(self) -> usize {
        match self {
            Helper::UnaryF64(_) => 1,
            _ => 2,
        }
    }
}

extern "C" fn pow_f32(a: f32, b: f32) -> f32 {
    a.powf(b)
}

extern "C" fn fmod_f32(a: f32, b: f32) -> f32 {
    a % b
}

extern "C" fn pow_f64(a: f64, b: f64) -> f64 {
    a.powf(b)
}

extern "C" fn fmod_f64(a: f64, b: f64) -> f64 {
    a % b
}

extern "C" fn atan2_f64(a: f64, b: f64) -> f64 {
    a.atan2(b)
}

extern "C" fn pow_s64(base: i64, exponent: i64) -> i64 {
    integer_power(base, exponent)
}

extern "C" fn pow_u64(base: u64, exponent: u64) -> u64 {
    integer_power(base, exponent)
}

/// The helpers a JIT module declares (each one's function index and
/// signature), imported into a function when it first calls one, so that a
/// kernel's IR names only the helpers it uses.
pub struct Helpers<'a> {
    declared: &'a FxHashMap<Helper, (u32, Signature)>,
    imported: FxHashMap<Helper, FuncRef>,
}

impl<'a> Helpers<'a> {
    pub fn new(declared: &'a FxHashMap<Helper, (u32, Signature)>) -> Helpers<'a> {
        Helpers {
            declared,
            imported: FxHashMap::default(),
        }
    }

    pub fn call(&mut self, b: &mut FunctionBuilder, h: Helper, args: &[Value]) -> Value {
        let f = match self.imported.get(&h) {
            Some(&f) => f,
            None => {
                let (index, signature) = &self.declared[&h];
                let signature = b.import_signature(signature.clone());
                let name = b
                    .func
                    .declare_imported_user_function(UserExternalName::new(0, *index));
                let f = b.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature,
                    colocated: false,
                    patchable: false,
                });
                self.imported.insert(h, f);
                f
            }
        };
        let call = b.ins().call(f, args);
        b.inst_results(call)[0]
    }
}

/// Calls a helper on operands of its type (the caller's closure).
pub type Call<'a> = dyn FnMut(&mut FunctionBuilder, Helper, &[Value]) -> Value + 'a;

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

/// XLA's `convert`: float to integer truncates toward zero and saturates (NaN
/// gives 0); integers wrap to a narrower width; anything to pred is `!= 0`; pred
/// to a number is 0 or 1; every conversion to a float rounds once to nearest
/// even (to `f16`/`bf16` through an f32 rounded to odd, which then rounds as
/// if from the source directly).
pub fn convert(b: &mut FunctionBuilder, from: ElementType, to: ElementType, x: Value) -> Value {
    let lanes = lanes_of(b, x);
    if from == to {
        return x;
    }
    match (from.kind(), to.kind()) {
        (Kind::Float, Kind::Pred) => {
            let zero = fconst(b, x, 0.0);
            fcmp(b, FloatCC::NotEqual, x, zero)
        }
        (_, Kind::Pred) => {
            let zero = iconst(b, x, 0);
            icmp(b, IntCC::NotEqual, x, zero)
        }
        (Kind::Pred, Kind::Float) => {
            let one = constant(b, to, lanes, Scalar::int(to, 1).bits);
            let zero = constant(b, to, lanes, 0);
            select(b, x, one, zero)
        }
        (Kind::Pred, _) => {
            let one = b.ins().ineg(x);
            let ty = reg_type(to, lanes);
            resize(b, false, ty, one)
        }
        (Kind::Float, Kind::Float) => float_to_float(b, from, to, x),
        (Kind::Float, kind) => {
            let ty = reg_type(to, lanes);
            let unsigned = kind == Kind::Unsigned;
            if ty.lane_type().bits() >= 32 {
                return if unsigned {
                    b.ins().fcvt_to_uint_sat(ty, x)
                } else {
                    b.ins().fcvt_to_sint_sat(ty, x)
                };
            }
            // Saturate to 32 bits, then to the narrow type's range.
            let bits = to.bit_width();
            let v = if unsigned {
                let v = b.ins().fcvt_to_uint_sat(types::I32, x);
                let max = b.ins().iconst(types::I32, (1i64 << bits) - 1);
                b.ins().umin(v, max)
            } else {
                let v = b.ins().fcvt_to_sint_sat(types::I32, x);
                let max = b.ins().iconst(types::I32, (1i64 << (bits - 1)) - 1);
                let min = b.ins().iconst(types::I32, -(1i64 << (bits - 1)));
                let v = b.ins().smin(v, max);
                b.ins().smax(v, min)
            };
            b.ins().ireduce(ty, v)
        }
        (from_kind, Kind::Float) => {
            let signed = from_kind == Kind::Signed;
            match to {
                ElementType::F32 | ElementType::F64 => {
                    let x = if from.bit_width() < 32 {
                        resize(b, signed, types::I32, x)
                    } else {
                        x
                    };
                    let ty = reg_type(to, lanes);
                    if signed {
                        b.ins().fcvt_from_sint(ty, x)
                    } else {
                        b.ins().fcvt_from_uint(ty, x)
                    }
                }
                _ => {
                    let wide = extend64(b, signed, x);
                    let f = if from.bit_width() <= 32 {
                        // Exact: every value of 32 bits or fewer is an f64.
                        b.ins().fcvt_from_sint(types::F64, wide)
                    } else {
                        int_to_f64_odd(b, signed, wide)
                    };
                    let f = f64_to_f32_odd(b, f);
                    round(b, to, f)
                }
            }
        }
        (from_kind, _) => {
            let ty = reg_type(to, lanes);
            resize(b, from_kind == Kind::Signed, ty, x)
        }
    }
}

/// An integer register at the type `ty`: wrapped, or extended by `signed`.
fn resize(b: &mut FunctionBuilder, signed: bool, ty: Type, x: Value) -> Value {
    let from = b.func.dfg.value_type(x);
    if from.lane_bits() == ty.lane_bits() {
        x
    } else if from.lane_bits() > ty.lane_bits() {
        b.ins().ireduce(ty, x)
    } else if signed {
        b.ins().sextend(ty, x)
    } else {
        b.ins().uextend(ty, x)
    }
}

fn float_to_float(b: &mut FunctionBuilder, from: ElementType, to: ElementType, x: Value) -> Value {
    match (from, to) {
        (ElementType::F64, ElementType::F32) => b.ins().fdemote(types::F32, x),
        (ElementType::F64, _) => {
            let f = f64_to_f32_odd(b, x);
            round(b, to, f)
        }
        (_, ElementType::F64) => b.ins().fpromote(types::F64, x),
        // An f16 or bf16 is an f32 already.
        (_, ElementType::F32) => x,
        _ => round(b, to, x),
    }
}

/// The same bits read as `to` (of `from`'s width).
pub fn bitcast_convert(
    b: &mut FunctionBuilder,
    from: ElementType,
    to: ElementType,
    x: Value,
) -> Value {
    if from == to {
        return x;
    }
    let lanes = lanes_of(b, x);
    let bits = match from {
        ElementType::F32 | ElementType::F64 => {
            let ty = b.func.dfg.value_type(x).as_int();
            b.ins().bitcast(ty, MemFlagsData::new(), x)
        }
        ElementType::F16 | ElementType::Bf16 => {
            let bits = f32_to_half(b, from, x);
            b.ins().ireduce(types::I16, bits)
        }
        _ => x,
    };
    match to {
        ElementType::F32 | ElementType::F64 => {
            b.ins()
                .bitcast(reg_type(to, lanes), MemFlagsData::new(), bits)
        }
        ElementType::F16 | ElementType::Bf16 => {
            let wide = b.ins().uextend(types::I32, bits);
            half_to_f32(b, to, wide)
        }
        _ => bits,
    }
}

/// An f32 (`F32`) to the bits of the nearest `f16` or `bf16` (ties to even), in
/// the low half of an `I32`: `half`'s `from_f32`, NaN kept quiet with its top
/// payload bits, in integer ops.
fn f32_to_half(b: &mut FunctionBuilder, element: ElementType, x: Value) -> Value {
    let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), x);
    let abs = b.ins().band_imm_s(bits, 0x7fff_ffff);
    let nan = b
        .ins()
        .icmp_imm_s(IntCC::UnsignedGreaterThan, abs, 0x7f80_0000);
    if element == ElementType::Bf16 {
        let high = b.ins().ushr_imm_s(bits, 16);
        let quiet = b.ins().bor_imm_s(high, 0x40);
        let lsb = b.ins().band_imm_s(high, 1);
        let biased = b.ins().iadd_imm_s(bits, 0x7fff);
        let biased = b.ins().iadd(biased, lsb);
        let rounded = b.ins().ushr_imm_s(biased, 16);
        return b.ins().select(nan, quiet, rounded);
    }
    let high = b.ins().ushr_imm_s(bits, 16);
    let sign = b.ins().band_imm_s(high, 0x8000);
    // Normal results: drop 13 mantissa bits, ties to even, rebias.
    let lsb = b.ins().ushr_imm_s(abs, 13);
    let lsb = b.ins().band_imm_s(lsb, 1);
    let n = b.ins().iadd_imm_s(abs, 0xfff - (112 << 23));
    let n = b.ins().iadd(n, lsb);
    let normal = b.ins().ushr_imm_s(n, 13);
    // Subnormal results (below 2^-14): the mantissa with its leading one,
    // shifted right by 126 - exponent (at most 31), ties to even.
    let e = b.ins().ushr_imm_s(abs, 23);
    let m = b.ins().band_imm_s(abs, 0x7f_ffff);
    let m = b.ins().bor_imm_s(m, 0x80_0000);
    let c126 = b.ins().iconst(types::I32, 126);
    let s = b.ins().isub(c126, e);
    let c31 = b.ins().iconst(types::I32, 31);
    let s = b.ins().umin(s, c31);
    let q = b.ins().ushr(m, s);
    let one = b.ins().iconst(types::I32, 1);
    let unit = b.ins().ishl(one, s);
    let low_mask = b.ins().iadd_imm_s(unit, -1);
    let rem = b.ins().band(m, low_mask);
    let halfway = b.ins().ushr_imm_s(unit, 1);
    let above = b.ins().icmp(IntCC::UnsignedGreaterThan, rem, halfway);
    let tie = b.ins().icmp(IntCC::Equal, rem, halfway);
    let odd = b.ins().band_imm_s(q, 1);
    let odd = b.ins().icmp_imm_s(IntCC::NotEqual, odd, 0);
    let tie_up = b.ins().band(tie, odd);
    let up = b.ins().bor(above, tie_up);
    let up = b.ins().uextend(types::I32, up);
    let sub = b.ins().iadd(q, up);
    let tiny = b
        .ins()
        .icmp_imm_s(IntCC::UnsignedLessThan, abs, 0x3880_0000);
    let finite = b.ins().select(tiny, sub, normal);
    // 65520 and above round to infinity.
    let huge = b
        .ins()
        .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, abs, 0x477f_f000);
    let inf = b.ins().iconst(types::I32, 0x7c00);
    let finite = b.ins().select(huge, inf, finite);
    let payload = b.ins().ushr_imm_s(abs, 13);
    let payload = b.ins().band_imm_s(payload, 0x3ff);
    let quiet = b.ins().bor_imm_s(payload, 0x7e00);
    let magnitude = b.ins().select(nan, quiet, finite);
    b.ins().bor(magnitude, sign)
}

/// The bits of an `f16` or `bf16` (the low half of an `I32`) to its value as an
/// `F32` (exact; a NaN made quiet, as `half`'s `to_f32` does).
fn half_to_f32(b: &mut FunctionBuilder, element: ElementType, bits: Value) -> Value {
    if element == ElementType::Bf16 {
        let wide = b.ins().ishl_imm_s(bits, 16);
        return b.ins().bitcast(types::F32, MemFlagsData::new(), wide);
    }
    let sign = b.ins().band_imm_s(bits, 0x8000);
    let sign = b.ins().ishl_imm_s(sign, 16);
    let e = b.ins().band_imm_s(bits, 0x7c00);
    let m = b.ins().band_imm_s(bits, 0x3ff);
    let magnitude = b.ins().band_imm_s(bits, 0x7fff);
    let normal = b.ins().ishl_imm_s(magnitude, 13);
    let normal = b.ins().iadd_imm_s(normal, 112 << 23);
    let payload = b.ins().ishl_imm_s(m, 13);
    let nan_bit = b.ins().icmp_imm_s(IntCC::NotEqual, m, 0);
    let quiet = b.ins().iconst(types::I32, 0x7fc0_0000);
    let inf = b.ins().iconst(types::I32, 0x7f80_0000);
    let top = b.ins().select(nan_bit, quiet, inf);
    let special = b.ins().bor(top, payload);
    // Subnormals: m · 2^-24, exact in f32.
    let mf = b.ins().fcvt_from_sint(types::F32, m);
    let scale = b.ins().f32const(2f32.powi(-24));
    let sub = b.ins().fmul(mf, scale);
    let sub = b.ins().bitcast(types::I32, MemFlagsData::new(), sub);
    let is_sub = b.ins().icmp_imm_s(IntCC::Equal, e, 0);
    let is_special = b.ins().icmp_imm_s(IntCC::Equal, e, 0x7c00);
    let v = b.ins().select(is_special, special, normal);
    let v = b.ins().select(is_sub, sub, v);
    let v = b.ins().bor(v, sign);
    b.ins().bitcast(types::F32, MemFlagsData::new(), v)
}

/// An f64 to f32 rounded to odd (truncated, the last bit set if any bit was
/// dropped): rounding that to `f16`/`bf16` rounds as if from the f64.
fn f64_to_f32_odd(b: &mut FunctionBuilder, x: Value) -> Value {
    let nearest = b.ins().fdemote(types::F32, x);
    let back = b.ins().fpromote(types::F64, nearest);
    let exact = b.ins().fcmp(FloatCC::Equal, back, x);
    let magnitude = b.ins().fabs(nearest);
    let inf = b.ins().f32const(f32::INFINITY);
    let finite = b.ins().fcmp(FloatCC::LessThan, magnitude, inf);
    let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), nearest);
    let back_abs = b.ins().fabs(back);
    let x_abs = b.ins().fabs(x);
    let above = b.ins().fcmp(FloatCC::GreaterThan, back_abs, x_abs);
    let below = b.ins().iadd_imm_s(bits, -1);
    let truncated = b.ins().select(above, below, bits);
    let odd = b.ins().bor_imm_s(truncated, 1);
    let odd = b.ins().bitcast(types::F32, MemFlagsData::new(), odd);
    let inexact = b.ins().bnot(exact);
    let adjust = b.ins().band(inexact, finite);
    b.ins().select(adjust, odd, nearest)
}

/// A 64-bit integer to f64 rounded to odd: exact below 2^53, otherwise the
/// dropped bits folded into the last one.
fn int_to_f64_odd(b: &mut FunctionBuilder, signed: bool, x: Value) -> Value {
    let negative = if signed {
        b.ins().icmp_imm_s(IntCC::SignedLessThan, x, 0)
    } else {
        b.ins().iconst(types::I8, 0)
    };
    let minus = b.ins().ineg(x);
    // `MIN`'s magnitude, 2^63, is right read as unsigned.
    let magnitude = b.ins().select(negative, minus, x);
    let lz = b.ins().clz(magnitude);
    let eleven = b.ins().iconst(types::I64, 11);
    let excess = b.ins().isub(eleven, lz);
    let zero = b.ins().iconst(types::I64, 0);
    let excess = b.ins().smax(excess, zero);
    let kept = b.ins().ushr(magnitude, excess);
    let back = b.ins().ishl(kept, excess);
    let sticky = b.ins().icmp(IntCC::NotEqual, back, magnitude);
    let sticky = b.ins().uextend(types::I64, sticky);
    let kept = b.ins().bor(kept, sticky);
    let value = b.ins().fcvt_from_uint(types::F64, kept);
    let exponent = b.ins().iadd_imm_s(excess, 1023);
    let exponent = b.ins().ishl_imm_s(exponent, 52);
    let scale = b.ins().bitcast(types::F64, MemFlagsData::new(), exponent);
    let value = b.ins().fmul(value, scale);
    let negated = b.ins().fneg(value);
    b.ins().select(negative, negated, value)
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
