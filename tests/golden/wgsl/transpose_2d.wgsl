// kernel fusion.1
@group(0) @binding(0) var<storage, read_write> a0: array<f32>;
@group(0) @binding(1) var<storage, read_write> a1: array<f32>;
@group(0) @binding(2) var<storage, read_write> a2: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    for (var i: u32 = gid.x; i < 85u; i += 256u) {
        let v1: u32 = i % 5u;
        let v2: u32 = i / 5u;
        let v3: u32 = v2 * 5u + v1;
        let v4: f32 = a0[v3];
        let v5: u32 = v1 + v2 * 5u;
        a1[v5] = v4;
        let v6: f32 = v4 + 1.0f;
        let v7: u32 = v1 + v2 * 5u;
        a2[v7] = v6;
    }
}

