// kernel fusion.1
@group(0) @binding(0) var<storage, read_write> a0: array<f32>;
@group(0) @binding(1) var<storage, read_write> a1: array<f32>;
@group(0) @binding(2) var<storage, read_write> a2: array<f32>;
@group(0) @binding(3) var<storage, read_write> a3: array<f32>;
@group(0) @binding(4) var<storage, read_write> a4: array<f32>;
@group(0) @binding(5) var<storage, read_write> a5: array<f32>;

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

// Log(x) for f32, the same operations as Omelet's CPU kernels.
fn om_log(x: f32) -> f32 {
    let t0: bool = x < 1.1754944e-38f;
    let t1: f32 = x * 8388608.0f;
    let t2: f32 = select(x, t1, t0);
    let t3: f32 = select(0.0f, 23.0f, t0);
    let t4: i32 = bitcast<i32>(t2);
    let t5: i32 = t4 + 0x4afb0di;
    let t6: i32 = t5 >> 23u;
    let t7: i32 = t6 + (-127i);
    let t8: i32 = t5 & 0x7fffffi;
    let t9: i32 = t8 + 0x3f3504f3i;
    let t10: f32 = bitcast<f32>(t9);
    let t11: f32 = f32(t7);
    let t12: f32 = t11 - t3;
    let t13: f32 = t10 + (-1.0f);
    let t14: f32 = t13 * t13;
    let t15: f32 = fma(0.070376836f, t13, (-0.1151461f));
    let t16: f32 = fma(t15, t13, 0.11676999f);
    let t17: f32 = fma(t16, t13, (-0.12420141f));
    let t18: f32 = fma(t17, t13, 0.14249323f);
    let t19: f32 = fma(t18, t13, (-0.16668057f));
    let t20: f32 = fma(t19, t13, 0.20000716f);
    let t21: f32 = fma(t20, t13, (-0.24999994f));
    let t22: f32 = fma(t21, t13, 0.3333333f);
    let t23: f32 = t13 * t14;
    let t24: f32 = t23 * t22;
    let t25: f32 = fma(t12, (-0.00021219444f), t24);
    let t26: f32 = fma(t14, (-0.5f), t25);
    let t27: f32 = t13 + t26;
    let t28: f32 = fma(t12, 0.6933594f, t27);
    var t29: u32 = 0x7f800000u;
    let t30: f32 = bitcast<f32>(t29);
    let t31: bool = !(x < t30);
    let t32: f32 = select(t28, x, t31);
    let t33: bool = x < 0.0f;
    var t34: u32 = 0x7fc00000u;
    let t35: f32 = bitcast<f32>(t34);
    let t36: f32 = select(t32, t35, t33);
    let t37: bool = x == 0.0f;
    var t38: u32 = 0xff800000u;
    let t39: f32 = bitcast<f32>(t38);
    let t40: f32 = select(t36, t39, t37);
    return t40;
}
fn om_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
fn om_max(x: f32, y: f32) -> f32 {
    return select(select(y, x, y < x), x, om_isnan(x));
}
var<workgroup> w2: array<f32, 32>;
var<workgroup> w8: array<f32, 32>;
var<workgroup> w10: array<f32, 3>;
var<workgroup> red_f32: array<f32, 32>;
var<workgroup> red_i32: array<i32, 32>;

@compute @workgroup_size(32)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    for (var row: u32 = wid.x; row < 5u; row += 5u) {
        for (var j: u32 = lid; j < 32u; j += 32u) {
            var acc1: f32 = 0.0f;
            for (var k2: u32 = 0u; k2 < 17u; k2 += 1u) {
                let v3: u32 = row * 17u + k2;
                let v4: f32 = a0[v3];
                let v5: u32 = k2 * 32u + j;
                let v6: f32 = a1[v5];
                acc1 = acc1 + v4 * v6;
            }
            w2[j] = acc1;
        }
        workgroupBarrier();
        for (var j: u32 = lid; j < 32u; j += 32u) {
            let v7: f32 = w2[j];
            let v8: f32 = a2[j];
            let v9: f32 = v7 + v8;
            let v10: f32 = om_max(v9, 0.0f);
            w8[j] = v10;
        }
        workgroupBarrier();
        for (var j: u32 = lid; j < 3u; j += 32u) {
            var acc11: f32 = 0.0f;
            for (var k12: u32 = 0u; k12 < 32u; k12 += 1u) {
                let v13: f32 = w8[k12];
                let v14: u32 = k12 * 3u + j;
                let v15: f32 = a3[v14];
                acc11 = acc11 + v13 * v15;
            }
            w10[j] = acc11;
        }
        workgroupBarrier();
        var part16: f32 = bitcast<f32>(0xff800000u);
        for (var j: u32 = lid; j < 3u; j += 32u) {
            let v17: f32 = w10[j];
            let v18: f32 = a4[j];
            let v19: f32 = v17 + v18;
            part16 = om_max(part16, v19);
        }
        red_f32[lid] = part16;
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
        let v20: f32 = red_f32[0];
        workgroupBarrier();
        let v21: f32 = v20;
        let v22: f32 = om_max(bitcast<f32>(0xff800000u), v21);
        let v23: f32 = om_max(v22, bitcast<f32>(0xff800000u));
        var part24: f32 = 0.0f;
        for (var j: u32 = lid; j < 3u; j += 32u) {
            let v25: f32 = w10[j];
            let v26: f32 = a4[j];
            let v27: f32 = v25 + v26;
            let v28: f32 = v27 - v23;
            let v29: f32 = om_exp(v28);
            part24 = part24 + v29;
        }
        red_f32[lid] = part24;
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
        let v30: f32 = red_f32[0];
        workgroupBarrier();
        let v31: f32 = v30;
        let v32: f32 = 0.0f + v31;
        let v33: f32 = om_log(v32);
        for (var j: u32 = lid; j < 3u; j += 32u) {
            let v34: f32 = w10[j];
            let v35: f32 = a4[j];
            let v36: f32 = v34 + v35;
            let v37: f32 = v36 - v23;
            let v38: f32 = v37 - v33;
            let v39: u32 = row * 3u + j;
            a5[v39] = v38;
        }
        workgroupBarrier();
    }
}

