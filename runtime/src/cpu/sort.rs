//! The CPU engine's sort and topk kernels: each row along the sorted
//! dimension ordered on its own (rows split over the thread pool), as XLA:CPU
//! calls its runtime sort with a JIT-compiled comparator.
//!
//! `sort` runs the interpreter's merge sort (`interp/regions.rs`) comparison
//! for comparison, so that every comparator, a NaN unordered by a plain
//! `compare` included, gives the interpreter's permutation: a stable sort,
//! whether or not the op asks for one (XLA:CPU sorts stably too). `topk`
//! orders by IEEE total-order keys, ties by smaller index: a total order, so a
//! partial selection gives the same elements as a full sort.

use omelet_compiler::hlo::{ArrayShape, ElementType, Kind};
use omelet_kernels::cpu::KernelFn;
use omelet_kernels::kernel::{Kernel, Sort, SortOrder, strides};

/// Where one operand's (or output's) rows lie: each dimension's stride in
/// bytes.
struct Rows {
    strides: Vec<usize>,
    element: usize,
}

impl Rows {
    fn of(shape: &ArrayShape) -> Rows {
        let element = shape.element.byte_size();
        Rows {
            strides: strides(shape).iter().map(|s| s * element).collect(),
            element,
        }
    }
}

/// Sorts rows `[begin, end)` of a sort or topk kernel whose inputs then
/// outputs are at `args`; `comparator` is a sort's compiled entry.
pub(super) fn sort_rows(
    kernel: &Kernel,
    sort: &Sort,
    comparator: Option<KernelFn>,
    args: &[usize],
    begin: usize,
    end: usize,
) {
    let body = &kernel.body;
    let inputs: Vec<Rows> = kernel.input_shapes().into_iter().map(Rows::of).collect();
    let outputs: Vec<Rows> = kernel.output_shapes().into_iter().map(Rows::of).collect();
    let buffers: Vec<&Rows> = inputs.iter().chain(&outputs).collect();
    let dims = &sort.operand(body).dims;
    let (n, d) = (sort.length(body), sort.dimension);
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let mut merged = vec![0u32; n];
    let mut starts = vec![0; args.len()];
    for row in begin..end {
        // The row's first element in each buffer: the row index over the
        // other dimensions, row-major.
        let mut rest = row;
        starts.fill(0);
        for dim in (0..dims.len()).rev().filter(|&dim| dim != d) {
            let c = rest % dims[dim];
            rest /= dims[dim];
            for (start, rows) in starts.iter_mut().zip(&buffers) {
                *start += c * rows.strides[dim];
            }
        }
        let at = |buffer: usize, i: usize| -> *mut u8 {
            (args[buffer] + starts[buffer] + i * buffers[buffer].strides[d]) as *mut u8
        };
        order.clear();
        order.extend(0..n as u32);
        match sort.order {
            SortOrder::Comparator(_) => {
                let entry = comparator.expect("a sort kernel has its comparator");
                let mut elements = vec![std::ptr::null_mut::<u8>(); 2 * inputs.len()];
                let mut less = |a: u32, b: u32| {
                    for k in 0..inputs.len() {
                        elements[2 * k] = at(k, a as usize);
                        elements[2 * k + 1] = at(k, b as usize);
                    }
                    let mut first = 0u8;
                    // Safety: the comparator reads one element at each
                    // address, all inside the operands' rows.
                    unsafe { entry(elements.as_ptr(), 0, 0, &mut first) };
                    first != 0
                };
                merge_sort(&mut order, &mut merged, &mut less);
            }
            SortOrder::TopK { k, largest } => {
                let element = kernel.input_shapes()[0].element;
                let key = |i: u32| {
                    let bytes = inputs[0].element;
                    let mut word = [0u8; 8];
                    // Safety: the element lies inside the operand's row.
                    unsafe {
                        std::ptr::copy_nonoverlapping(at(0, i as usize), word.as_mut_ptr(), bytes)
                    };
                    total_order_key(element, u64::from_le_bytes(word))
                };
                let mut keyed: Vec<(i64, u32)> = order.iter().map(|&i| (key(i), i)).collect();
                // Greatest first where `largest`; equal keys by smaller index.
                let before = |a: &(i64, u32), b: &(i64, u32)| match largest {
                    true => b.0.cmp(&a.0).then(a.1.cmp(&b.1)),
                    false => a.0.cmp(&b.0).then(a.1.cmp(&b.1)),
                };
                if k < n && k > 0 {
                    keyed.select_nth_unstable_by(k - 1, before);
                }
                keyed.truncate(k);
                keyed.sort_unstable_by(before);
                order.clear();
                order.extend(keyed.iter().map(|&(_, i)| i));
            }
        }
        write_row(sort, &order, &inputs, &outputs, at);
    }
}

/// Writes a sorted row: each output's element `i` is its operand's at
/// `order[i]` (a topk's second output, the index itself as `s32`).
fn write_row(
    sort: &Sort,
    order: &[u32],
    inputs: &[Rows],
    outputs: &[Rows],
    at: impl Fn(usize, usize) -> *mut u8,
) {
    let first_output = inputs.len();
    for (o, rows) in outputs.iter().enumerate() {
        for (i, &from) in order.iter().enumerate() {
            let to = at(first_output + o, i);
            // Safety: `from` and `i` are positions inside the rows.
            unsafe {
                match sort.order {
                    SortOrder::TopK { .. } if o == 1 => {
                        std::ptr::write_unaligned(to as *mut i32, from as i32)
                    }
                    _ => std::ptr::copy_nonoverlapping(at(o, from as usize), to, rows.element),
                }
            }
        }
    }
}

/// The interpreter's stable merge sort (`interp/regions.rs`), in place with a
/// buffer: the first half is the first `len / 2` items, and a merge takes the
/// right item first only when `less` says so. The same comparisons in the
/// same order give the same permutation whatever `less` is.
fn merge_sort(items: &mut [u32], buffer: &mut [u32], less: &mut impl FnMut(u32, u32) -> bool) {
    let n = items.len();
    if n <= 1 {
        return;
    }
    let (left, right) = items.split_at_mut(n / 2);
    merge_sort(left, buffer, less);
    merge_sort(right, buffer, less);
    let (mut i, mut j) = (0, 0);
    for slot in buffer[..n].iter_mut() {
        let take_right = i == left.len() || (j < right.len() && less(right[j], left[i]));
        if take_right {
            *slot = right[j];
            j += 1;
        } else {
            *slot = left[i];
            i += 1;
        }
    }
    items.copy_from_slice(&buffer[..n]);
}

/// An element's bits (little-endian, its width) as a key whose integer order
/// is IEEE total order (`hlo::region::total_order_compare`: a negative
/// float's magnitude bits flipped) or the type's own order.
fn total_order_key(element: ElementType, bits: u64) -> i64 {
    let width = element.bit_width();
    let extended = ((bits << (64 - width)) as i64) >> (64 - width);
    match element.kind() {
        Kind::Float if extended < 0 => extended ^ ((1i64 << (width - 1)) - 1),
        Kind::Float | Kind::Signed => extended,
        Kind::Unsigned if width == 64 => (bits ^ 1 << 63) as i64,
        Kind::Unsigned | Kind::Pred => bits as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_total_order() {
        let floats = [
            f32::from_bits(0xffc0_0000), // -NaN
            f32::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            2.0,
            f32::INFINITY,
            f32::NAN,
        ];
        let keys: Vec<i64> = floats
            .iter()
            .map(|x| total_order_key(ElementType::F32, u64::from(x.to_bits())))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        let u64s = [0u64, 1, u64::MAX / 2 + 1, u64::MAX];
        let keys: Vec<i64> = u64s
            .iter()
            .map(|&x| total_order_key(ElementType::U64, x))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert!(total_order_key(ElementType::S8, 0xff) < total_order_key(ElementType::S8, 0));
    }

    #[test]
    fn merge_sort_is_stable_and_total_for_any_comparator() {
        let mut items: Vec<u32> = (0..37).collect();
        let mut buffer = vec![0; 37];
        // An inconsistent comparator still gives a permutation.
        merge_sort(&mut items, &mut buffer, &mut |a, b| (a * 7 + b) % 3 == 0);
        let mut sorted = items.clone();
        sorted.sort();
        assert_eq!(sorted, (0..37).collect::<Vec<_>>());
        let mut items: Vec<u32> = (0..37).collect();
        merge_sort(&mut items, &mut buffer, &mut |a, b| a % 4 < b % 4);
        let expected: Vec<u32> = (0..4)
            .flat_map(|r| (0..37).filter(move |i| i % 4 == r))
            .collect();
        assert_eq!(items, expected);
    }
}
