// kernel fusion.1
@group(0) @binding(0) var<storage, read_write> a0: array<f32>;
@group(0) @binding(1) var<storage, read_write> a1: array<f32>;

// Exp(x) for f32, the same operations as Omelet's CPU kernels.
fn om_exp(x: f32) -> f32 {
    let t0: bool = 89.0f < x;
    let t1: f32 = select(x, 89.0f, t0);
    let t2: bool = t1 < (-104.0f);
    let t3: f32 = select(t1, (-104.0f), t2);
    let t4: f32 = t3 * 1.442695f;
    let t5: f32 = round(t4);
    let t6: i32 = i32(t5);
    let t7: i32 = t6 * 355i;
    let t8: f32 = f32(t7);
    let t9: f32 = t8 * 0.001953125f;
    let t10: f32 = t3 - t9;
    let t11: f32 = fma(t5, 0.00021219444f, t10);
    let t12: f32 = fma(0.00019875691f, t11, 0.0013981999f);
    let t13: f32 = fma(t12, t11, 0.008333452f);
    let t14: f32 = fma(t13, t11, 0.041665796f);
    let t15: f32 = fma(t14, t11, 0.16666666f);
    let t16: f32 = fma(t15, t11, 0.5f);
    let t17: f32 = fma(t16, t11, 1.0f);
    let t18: f32 = fma(t17, t11, 1.0f);
    let t19: i32 = t6 >> 1u;
    let t20: i32 = t6 - t19;
    let t21: i32 = t19 + 127i;
    let t22: i32 = t21 << 23u;
    let t23: f32 = bitcast<f32>(t22);
    let t24: i32 = t20 + 127i;
    let t25: i32 = t24 << 23u;
    let t26: f32 = bitcast<f32>(t25);
    let t27: f32 = t18 * t23;
    let t28: f32 = t27 * t26;
    return t28;
}
fn om_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
fn om_max(x: f32, y: f32) -> f32 {
    return select(select(y, x, y < x), x, om_isnan(x));
}
fn om_fdiv(x: f32, y: f32) -> f32 {
    let inf = bitcast<f32>(((bitcast<u32>(x) ^ bitcast<u32>(y)) & 0x80000000u) | 0x7f800000u);
    let by_zero = select(inf, bitcast<f32>(0x7fc00000u), x == 0.0f || om_isnan(x));
    return select(x / y, by_zero, y == 0.0f);
}
var<workgroup> w7: array<f32, 17>;
var<workgroup> red_f32: array<f32, 32>;
var<workgroup> red_i32: array<i32, 32>;

@compute @workgroup_size(32)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    for (var row: u32 = wid.x; row < 37u; row += 37u) {
        var part1: f32 = bitcast<f32>(0xff800000u);
        for (var j: u32 = lid; j < 17u; j += 32u) {
            let v2: u32 = row * 17u + j;
            let v3: f32 = a0[v2];
            part1 = om_max(part1, v3);
        }
        red_f32[lid] = part1;
        workgroupBarrier();
        if (lid < 16u) { red_f32[lid] = om_max(red_f32[lid], red_f32[lid + 16u]); }
        workgroupBarrier();
        if (lid < 8u) { red_f32[lid] = om_max(red_f32[lid], red_f32[lid + 8u]); }
        workgroupBarrier();
        if (lid < 4u) { red_f32[lid] = om_max(red_f32[lid], red_f32[lid + 4u]); }
        workgroupBarrier();
        if (lid < 2u) { red_f32[lid] = om_max(red_f32[lid], red_f32[lid + 2u]); }
        workgroupBarrier();
        if (lid < 1u) { red_f32[lid] = om_max(red_f32[lid], red_f32[lid + 1u]); }
        workgroupBarrier();
        let v4: f32 = red_f32[0];
        workgroupBarrier();
        let v5: f32 = v4;
        let v6: f32 = om_max(bitcast<f32>(0xff800000u), v5);
        let v7: f32 = om_max(v6, bitcast<f32>(0xff800000u));
        for (var j: u32 = lid; j < 17u; j += 32u) {
            let v8: u32 = row * 17u + j;
            let v9: f32 = a0[v8];
            let v10: f32 = v9 - v7;
            let v11: f32 = om_exp(v10);
            w7[j] = v11;
        }
        workgroupBarrier();
        var part12: f32 = 0.0f;
        for (var j: u32 = lid; j < 17u; j += 32u) {
            let v13: f32 = w7[j];
            part12 = part12 + v13;
        }
        red_f32[lid] = part12;
        workgroupBarrier();
        if (lid < 16u) { red_f32[lid] = red_f32[lid] + red_f32[lid + 16u]; }
        workgroupBarrier();
        if (lid < 8u) { red_f32[lid] = red_f32[lid] + red_f32[lid + 8u]; }
        workgroupBarrier();
        if (lid < 4u) { red_f32[lid] = red_f32[lid] + red_f32[lid + 4u]; }
        workgroupBarrier();
        if (lid < 2u) { red_f32[lid] = red_f32[lid] + red_f32[lid + 2u]; }
        workgroupBarrier();
        if (lid < 1u) { red_f32[lid] = red_f32[lid] + red_f32[lid + 1u]; }
        workgroupBarrier();
        let v14: f32 = red_f32[0];
        workgroupBarrier();
        let v15: f32 = v14;
        let v16: f32 = 0.0f + v15;
        for (var j: u32 = lid; j < 17u; j += 32u) {
            let v17: f32 = w7[j];
            let v18: f32 = om_fdiv(v17, v16);
            let v19: u32 = row * 17u + j;
            a1[v19] = v18;
        }
        workgroupBarrier();
    }
}

// kernel reduce_max.15
@group(0) @binding(0) var<storage, read_write> a0: array<f32>;
@group(0) @binding(1) var<storage, read_write> a1: array<f32>;
@group(0) @binding(2) var<storage, read_write> a2: array<f32>;

fn om_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
fn om_max(x: f32, y: f32) -> f32 {
    return select(select(y, x, y < x), x, om_isnan(x));
}
var<workgroup> red_f32: array<f32, 256>;
var<workgroup> red_i32: array<i32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let cx = lid % 32u;
    let sy = lid / 32u;
    for (var w: u32 = wid.x; w < 1u; w += 1u) {
        let v1: u32 = w * 32u + cx;
        var part2: f32 = bitcast<f32>(0xff800000u);
        if (v1 < 17u) {
            for (var r: u32 = sy; r < 37u; r += 8u) {
                let v3: u32 = r * 17u + v1;
                let v4: f32 = a0[v3];
                part2 = om_max(part2, v4);
            }
        }
        red_f32[lid] = part2;
        workgroupBarrier();
        if (sy == 0u && v1 < 17u) {
            var total5 = red_f32[cx];
            total5 = om_max(total5, red_f32[32u + cx]);
            total5 = om_max(total5, red_f32[64u + cx]);
            total5 = om_max(total5, red_f32[96u + cx]);
            total5 = om_max(total5, red_f32[128u + cx]);
            total5 = om_max(total5, red_f32[160u + cx]);
            total5 = om_max(total5, red_f32[192u + cx]);
            total5 = om_max(total5, red_f32[224u + cx]);
            let v6: f32 = total5;
            let v7: f32 = a1[0u];
            let v8: f32 = om_max(v7, v6);
            a2[v1] = v8;
        }
        workgroupBarrier();
    }
}

// kernel fusion.2
@group(0) @binding(0) var<storage, read_write> a0: array<f32>;
@group(0) @binding(1) var<storage, read_write> a1: array<f32>;
@group(0) @binding(2) var<storage, read_write> a2: array<f32>;

// Exp(x) for f32, the same operations as Omelet's CPU kernels.
fn om_exp(x: f32) -> f32 {
    let t0: bool = 89.0f < x;
    let t1: f32 = select(x, 89.0f, t0);
    let t2: bool = t1 < (-104.0f);
    let t3: f32 = select(t1, (-104.0f), t2);
    let t4: f32 = t3 * 1.442695f;
    let t5: f32 = round(t4);
    let t6: i32 = i32(t5);
    let t7: i32 = t6 * 355i;
    let t8: f32 = f32(t7);
    let t9: f32 = t8 * 0.001953125f;
    let t10: f32 = t3 - t9;
    let t11: f32 = fma(t5, 0.00021219444f, t10);
    let t12: f32 = fma(0.00019875691f, t11, 0.0013981999f);
    let t13: f32 = fma(t12, t11, 0.008333452f);
    let t14: f32 = fma(t13, t11, 0.041665796f);
    let t15: f32 = fma(t14, t11, 0.16666666f);
    let t16: f32 = fma(t15, t11, 0.5f);
    let t17: f32 = fma(t16, t11, 1.0f);
    let t18: f32 = fma(t17, t11, 1.0f);
    let t19: i32 = t6 >> 1u;
    let t20: i32 = t6 - t19;
    let t21: i32 = t19 + 127i;
    let t22: i32 = t21 << 23u;
    let t23: f32 = bitcast<f32>(t22);
    let t24: i32 = t20 + 127i;
    let t25: i32 = t24 << 23u;
    let t26: f32 = bitcast<f32>(t25);
    let t27: f32 = t18 * t23;
    let t28: f32 = t27 * t26;
    return t28;
}
fn om_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
fn om_max(x: f32, y: f32) -> f32 {
    return select(select(y, x, y < x), x, om_isnan(x));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    for (var i: u32 = gid.x; i < 629u; i += 768u) {
        let v1: u32 = i % 17u;
        let v2: u32 = i / 17u;
        let v3: u32 = v2 * 17u + v1;
        let v4: f32 = a1[v3];
        let v5: f32 = a0[v1];
        let v6: f32 = om_max(v5, bitcast<f32>(0xff800000u));
        let v7: f32 = v4 - v6;
        let v8: f32 = om_exp(v7);
        let v9: u32 = v2 * 17u + v1;
        a2[v9] = v8;
    }
}

// kernel reduce_sum.15
@group(0) @binding(0) var<storage, read_write> a0: array<f32>;
@group(0) @binding(1) var<storage, read_write> a1: array<f32>;
@group(0) @binding(2) var<storage, read_write> a2: array<f32>;

var<workgroup> red_f32: array<f32, 256>;
var<workgroup> red_i32: array<i32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let cx = lid % 32u;
    let sy = lid / 32u;
    for (var w: u32 = wid.x; w < 1u; w += 1u) {
        let v1: u32 = w * 32u + cx;
        var part2: f32 = 0.0f;
        if (v1 < 17u) {
            for (var r: u32 = sy; r < 37u; r += 8u) {
                let v3: u32 = r * 17u + v1;
                let v4: f32 = a0[v3];
                part2 = part2 + v4;
            }
        }
        red_f32[lid] = part2;
        workgroupBarrier();
        if (sy == 0u && v1 < 17u) {
            var total5 = red_f32[cx];
            total5 = total5 + red_f32[32u + cx];
            total5 = total5 + red_f32[64u + cx];
            total5 = total5 + red_f32[96u + cx];
            total5 = total5 + red_f32[128u + cx];
            total5 = total5 + red_f32[160u + cx];
            total5 = total5 + red_f32[192u + cx];
            total5 = total5 + red_f32[224u + cx];
            let v6: f32 = total5;
            let v7: f32 = a1[0u];
            let v8: f32 = v7 + v6;
            a2[v1] = v8;
        }
        workgroupBarrier();
    }
}

// kernel fusion.3
@group(0) @binding(0) var<storage, read_write> a0: array<f32>;
@group(0) @binding(1) var<storage, read_write> a1: array<f32>;
@group(0) @binding(2) var<storage, read_write> a2: array<f32>;

fn om_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
fn om_fdiv(x: f32, y: f32) -> f32 {
    let inf = bitcast<f32>(((bitcast<u32>(x) ^ bitcast<u32>(y)) & 0x80000000u) | 0x7f800000u);
    let by_zero = select(inf, bitcast<f32>(0x7fc00000u), x == 0.0f || om_isnan(x));
    return select(x / y, by_zero, y == 0.0f);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    for (var i: u32 = gid.x; i < 629u; i += 768u) {
        let v1: u32 = i % 17u;
        let v2: u32 = i / 17u;
        let v3: u32 = v2 * 17u + v1;
        let v4: f32 = a1[v3];
        let v5: f32 = a0[v1];
        let v6: f32 = om_fdiv(v4, v5);
        let v7: u32 = v2 * 17u + v1;
        a2[v7] = v6;
    }
}

