//! A `Gemm` kernel's launch: the packed GEMM per batch straight into the
//! output, and its elementwise epilogue (reading the product in place) run
//! either on each block of rows the GEMM finishes, while they are in cache, or
//! over the whole output afterwards.

use omelet_kernels::cpu::KernelFn;
use omelet_kernels::gemm::{MatMut, no_epilogue, sgemm};
use omelet_kernels::kernel::{Gemm, Kernel};

use super::matrix;

/// Below this many multiply-adds, a product runs on one thread.
const GEMM_PARALLEL_FLOPS: usize = 1 << 21;

/// A product of the inputs at `args` into the buffer at `out`, then the
/// epilogue, if any.
pub(super) fn launch_gemm(
    kernel: &Kernel,
    gemm: &Gemm,
    epilogue: Option<KernelFn>,
    args: &[usize],
    out: usize,
) {
    let inputs = kernel.input_shapes();
    let out = out as *mut f32;
    let (m, n, k) = (gemm.m, gemm.n, gemm.k);
    let threads = if m * n * k >= GEMM_PARALLEL_FLOPS {
        rayon::current_num_threads()
    } else {
        1
    };
    // The epilogue's arguments: the inputs, the product (the output itself),
    // then the output.
    let epilogue_args: Vec<usize> = args[..inputs.len()]
        .iter()
        .copied()
        .chain([out as usize, out as usize])
        .collect();
    let run_epilogue = |begin: usize, end: usize| {
        if let Some(entry) = epilogue {
            // Safety: as for any kernel launch; `[begin, end)` indexes the
            // epilogue's parallel dimension, and those indices are final.
            unsafe {
                entry(
                    epilogue_args.as_ptr() as *const *mut u8,
                    begin as i64,
                    end as i64,
                    std::ptr::null_mut(),
                )
            };
        }
    };
    let by_rows = epilogue.is_some() && rows_are_outer_indices(kernel, gemm);
    for b in 0..gemm.batch {
        let a = matrix(&inputs, args, &gemm.lhs, b, m, k);
        let bm = matrix(&inputs, args, &gemm.rhs, b, k, n);
        // Safety: the output holds `batch * m * n` f32s, and while the GEMM
        // runs nothing else touches them but the epilogue, on the rows it is
        // handed, through `out` (which is why C is a raw view: a `&mut` over
        // the output would be aliased by those writes).
        let c = unsafe { MatMut::from_raw(out.add(b * m * n), m, n, n) };
        if by_rows {
            let first = b * m;
            sgemm(a, bm, c, threads, &|r0, r1, _| {
                run_epilogue(first + r0, first + r1)
            });
        } else {
            sgemm(a, bm, c, threads, &no_epilogue);
        }
    }
    if !by_rows {
        let outer = kernel.output_shapes()[0].dims.first().copied().unwrap_or(1);
        run_epilogue(0, outer);
    }
}

/// Whether the epilogue's parallel indices are the rows of the batched product
/// (`batch * m` rows of `n`, which the output holds row-major), so that it can
/// run on each block of rows as the GEMM finishes them. Its parallel dimension
/// is the output's first (a loop kernel over a row-major output), whose index
/// `i` covers exactly product row `i` when it has `batch * m` of them. Unless
/// the dimensions involved are 1, it has not when the left side has no free
/// dimension (the first is one of the right's), when several merge into `m`,
/// or when batch dimensions come first and the left has free ones. A first
/// dimension that is also the innermost (a rank-1 output) is left out too: the
/// epilogue's vectors run along it from the start of each part, and a block of
/// rows starts at any multiple of the micro-kernel's height, where a vector
/// read through a reshape could straddle two rows of its operand.
fn rows_are_outer_indices(kernel: &Kernel, gemm: &Gemm) -> bool {
    let dims = &kernel.output_shapes()[0].dims;
    dims.len() >= 2 && dims[0] == gemm.batch * gemm.m
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use omelet_compiler::import::parse_module;
    use omelet_compiler::pipeline::{Stage, compile};

    use crate::Array;
    use crate::cpu::Executable;

    /// `dot(a, b)` then `root` of it (`d`), for `n × n` inputs `a` of `x` and
    /// `b` of ones, on a pool of four threads.
    fn product(n: usize, x: f32, root: &str) -> Vec<f32> {
        let text = format!(
            "HloModule m\nENTRY e {{\n\
             a = f32[{n},{n}] parameter(0)\n\
             b = f32[{n},{n}] parameter(1)\n\
             d = f32[{n},{n}] dot(a, b), lhs_contracting_dims={{1}}, rhs_contracting_dims={{0}}\n\
             s = f32[] constant(1e-42)\n\
             sb = f32[{n},{n}] broadcast(s), dimensions={{}}\n\
             ROOT r = f32[{n},{n}] {root}\n}}\n"
        );
        let module = compile(parse_module(&text).unwrap(), Stage::Fused).module;
        let input = |v: f32| Array::F32(ArrayD::from_elem(IxDyn(&[n, n]), v));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let out = pool.install(|| Executable::new(&module)?.run(&[input(x), input(1.0)]));
        match out.unwrap().remove(0) {
            Array::F32(a) => a.into_iter().collect(),
            other => panic!("an f32 result, not {other:?}"),
        }
    }

    #[test]
    fn subnormals_flush_on_every_thread_at_every_size() {
        // 64³ multiply-adds run on one thread, 128³ on four.
        for n in [64, 128] {
            // A subnormal result of the epilogue (64e-42, 128e-42).
            let scaled = product(n, 1.0, "multiply(d, sb)");
            assert!(scaled.iter().all(|&x| x == 0.0), "n = {n}: epilogue");
            // Subnormal inputs to the product (the sum would be normal).
            let plain = product(n, 1e-40, "add(d, d)");
            assert!(plain.iter().all(|&x| x == 0.0), "n = {n}: product");
        }
    }
}
