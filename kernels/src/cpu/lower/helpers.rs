//! The functions generated code calls for the ops with no inline lowering, and
//! their import into a kernel's function on first use.

use super::*;

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
