//! [`Arith`] as inline Cranelift IR, for `F32` and `F32X4` values.

use super::{Arith, Cmp, MathFn, apply};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_frontend::FunctionBuilder;

/// Emits `f(x)` for an `F32` or `F32X4` value `x`, returning a value of the same type.
pub fn emit(b: &mut FunctionBuilder, f: MathFn, x: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    assert!(
        ty == types::F32 || ty == types::F32X4,
        "math::emit takes f32 or f32x4, not {ty}"
    );
    apply(&mut Lanes { b, ty }, f, &[x])
}

/// Emits a binary `f(x, y)` (atan2) for `F32` or `F32X4` values.
pub fn emit2(b: &mut FunctionBuilder, f: MathFn, x: Value, y: Value) -> Value {
    let ty = b.func.dfg.value_type(x);
    assert!(
        ty == types::F32 || ty == types::F32X4,
        "math::emit2 takes f32 or f32x4, not {ty}"
    );
    apply(&mut Lanes { b, ty }, f, &[x, y])
}

/// A builder that makes constants and masks at the type of the values it works
/// on, so each function is written once for `F32` and `F32X4`.
struct Lanes<'a, 'f> {
    b: &'a mut FunctionBuilder<'f>,
    ty: Type,
}

impl Lanes<'_, '_> {
    fn splat(&mut self, ty: Type, scalar: Value) -> Value {
        if self.ty.is_vector() {
            self.b.ins().splat(ty, scalar)
        } else {
            scalar
        }
    }
}

/// 1.5·2^23: a sum of this and anything below 2^22 in magnitude has an ulp of 1.
const ROUND_MAGIC: f32 = 12_582_912.0;

impl Arith for Lanes<'_, '_> {
    type V = Value;

    fn float(&mut self, v: f32) -> Value {
        let c = self.b.ins().f32const(v);
        self.splat(self.ty, c)
    }

    fn int(&mut self, v: u32) -> Value {
        let c = self.b.ins().iconst(types::I32, i64::from(v));
        self.splat(self.ty.as_int(), c)
    }

    // Same lane count and width on both sides, so no byte order is needed.
    fn as_int(&mut self, x: Value) -> Value {
        self.b
            .ins()
            .bitcast(self.ty.as_int(), MemFlagsData::new(), x)
    }

    fn as_float(&mut self, x: Value) -> Value {
        self.b.ins().bitcast(self.ty, MemFlagsData::new(), x)
    }

    fn int_to_float(&mut self, x: Value) -> Value {
        self.b.ins().fcvt_from_sint(self.ty, x)
    }

    fn fadd(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().fadd(x, y)
    }

    fn fsub(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().fsub(x, y)
    }

    fn fmul(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().fmul(x, y)
    }

    fn fdiv(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().fdiv(x, y)
    }

    fn fma(&mut self, a: Value, b: Value, c: Value) -> Value {
        self.b.ins().fma(a, b, c)
    }

    fn fabs(&mut self, x: Value) -> Value {
        self.b.ins().fabs(x)
    }

    fn fneg(&mut self, x: Value) -> Value {
        self.b.ins().fneg(x)
    }

    fn fcmp(&mut self, cc: Cmp, x: Value, y: Value) -> Value {
        let cc = match cc {
            Cmp::Less => FloatCC::LessThan,
            Cmp::Equal => FloatCC::Equal,
            Cmp::GreaterOrEqual => FloatCC::GreaterThanOrEqual,
            Cmp::UnorderedOrGreaterOrEqual => FloatCC::UnorderedOrGreaterThanOrEqual,
        };
        self.b.ins().fcmp(cc, x, y)
    }

    /// A scalar compare gives an `i8`, a vector one a lane mask of all-ones or
    /// zeros, which `bitselect` takes at the operands' type.
    fn select(&mut self, mask: Value, x: Value, y: Value) -> Value {
        if !self.ty.is_vector() {
            return self.b.ins().select(mask, x, y);
        }
        let ty = self.b.func.dfg.value_type(x);
        let mask = if self.b.func.dfg.value_type(mask) == ty {
            mask
        } else {
            self.b.ins().bitcast(ty, MemFlagsData::new(), mask)
        };
        self.b.ins().bitselect(mask, x, y)
    }

    fn iadd(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().iadd(x, y)
    }

    fn isub(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().isub(x, y)
    }

    fn band(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().band(x, y)
    }

    fn bor(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().bor(x, y)
    }

    fn bxor(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().bxor(x, y)
    }

    fn icmp_ne(&mut self, x: Value, y: Value) -> Value {
        self.b.ins().icmp(IntCC::NotEqual, x, y)
    }

    fn sshr_imm(&mut self, x: Value, bits: u32) -> Value {
        self.b.ins().sshr_imm_u(x, i64::from(bits))
    }

    fn ishl_imm(&mut self, x: Value, bits: u32) -> Value {
        self.b.ins().ishl_imm_u(x, i64::from(bits))
    }

    /// Adding ROUND_MAGIC inside the fma rounds x·scale (exact) to an integer,
    /// and the sum's low mantissa bits hold it in two's complement.
    fn round_scaled(&mut self, x: Value, scale: f32) -> (Value, Value) {
        let magic = self.float(ROUND_MAGIC);
        let k = self.fma_const(x, scale, magic);
        let n = self.fsub(k, magic);
        let k = self.as_int(k);
        let magic_bits = self.int(ROUND_MAGIC.to_bits());
        (n, self.isub(k, magic_bits))
    }
}
