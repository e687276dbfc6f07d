//! Loads and stores through layouts: one vector where the lanes are contiguous,
//! one access per lane otherwise.

use super::*;

impl Emitter<'_, '_> {
    /// The address of `idx` (lane 0) in an array at `base` with `strides`.
    pub(super) fn address(
        &mut self,
        base: Value,
        element: ElementType,
        strides: &[usize],
        coords: &[Value],
    ) -> Value {
        let size = element.byte_size() as i64;
        let mut addr = base;
        for (&c, &s) in coords.iter().zip(strides) {
            if s == 0 {
                continue;
            }
            let scaled = self.b.ins().imul_imm_s(c, s as i64 * size);
            addr = self.b.ins().iadd(addr, scaled);
        }
        addr
    }

    pub(super) fn read(
        &mut self,
        base: Value,
        element: ElementType,
        strides: &[usize],
        idx: &Idx,
    ) -> Value {
        let addr = self.address(base, element, strides, &idx.coords);
        self.read_at(addr, element, strides, idx, |b, el, lanes, a| {
            lower::load(b, el, lanes, a)
        })
    }

    /// Reads `idx.lanes` elements from `addr` on: one vector load when they are
    /// contiguous, else one load per lane.
    pub(super) fn read_at(
        &mut self,
        addr: Value,
        element: ElementType,
        strides: &[usize],
        idx: &Idx,
        load: impl Fn(&mut FunctionBuilder, ElementType, u32, Value) -> Value,
    ) -> Value {
        let Some(lane) = idx.lane else {
            return load(&mut self.b, element, 1, addr);
        };
        let stride = strides[lane];
        if stride == 1 && element != ElementType::Pred {
            return load(&mut self.b, element, idx.lanes, addr);
        }
        let first = load(&mut self.b, element, 1, addr);
        let mut v = lower::splat(&mut self.b, first, idx.lanes);
        let step = (stride * element.byte_size()) as i64;
        for l in 1..idx.lanes {
            let a = self.b.ins().iadd_imm_s(addr, step * l as i64);
            let x = load(&mut self.b, element, 1, a);
            v = self.b.ins().insertlane(v, x, l as u8);
        }
        v
    }

    pub(super) fn write(
        &mut self,
        base: Value,
        element: ElementType,
        strides: &[usize],
        idx: &Idx,
        v: Value,
    ) {
        let addr = self.address(base, element, strides, &idx.coords);
        match idx.lane {
            Some(lane) if strides[lane] != 1 || element == ElementType::Pred => {
                let step = (strides[lane] * element.byte_size()) as i64;
                for l in 0..idx.lanes {
                    let x = self.b.ins().extractlane(v, l as u8);
                    let a = self.b.ins().iadd_imm_s(addr, step * l as i64);
                    lower::store(&mut self.b, element, x, a);
                }
            }
            _ => lower::store(&mut self.b, element, v, addr),
        }
    }

    /// Scratch holds registers as they are (a `pred` as a 32-bit mask, an
    /// `f16` as its `f32`), each in a slot of 4 bytes, or 8 for 64-bit types
    /// (see `ScratchLayout`).
    pub(super) fn write_register(&mut self, base: Value, strides: &[usize], idx: &Idx, v: Value) {
        let ty = self.b.func.dfg.value_type(v);
        let addr = self.address(base, slot_type(ty), strides, &idx.coords);
        match idx.lane {
            Some(lane) if strides[lane] != 1 => {
                let step = (strides[lane] * 4) as i64;
                for l in 0..idx.lanes {
                    let x = self.b.ins().extractlane(v, l as u8);
                    let a = self.b.ins().iadd_imm_s(addr, step * l as i64);
                    self.b
                        .ins()
                        .store(MemFlagsData::new().with_notrap(), x, a, 0);
                }
            }
            _ => {
                self.b
                    .ins()
                    .store(MemFlagsData::new().with_notrap(), v, addr, 0);
            }
        }
    }

    /// Reads a materialized value from this row's scratch slot.
    pub(super) fn read_row(&mut self, id: InstrId, idx: &Idx) -> Value {
        let shape = self.shape(id);
        let (offset, strides) = self.rows[&id].clone();
        let base = self.b.ins().iadd_imm_s(self.scratch, offset as i64);
        let element = shape.element;
        let slot = slot_type(lower::reg_type(element, 1));
        let addr = self.address(base, slot, &strides, &idx.coords);
        self.read_at(addr, slot, &strides, idx, |b, _, lanes, a| {
            let ty = lower::reg_type(element, lanes);
            b.ins().load(ty, MemFlagsData::new().with_notrap(), a, 0)
        })
    }
}

/// The type whose size a register of type `ty` takes in scratch.
fn slot_type(ty: cranelift_codegen::ir::Type) -> ElementType {
    if ty.lane_bits() == 64 {
        ElementType::S64
    } else {
        ElementType::S32
    }
}
