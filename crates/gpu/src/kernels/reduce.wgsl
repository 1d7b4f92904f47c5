// The sum of one value from each invocation of a 64-wide workgroup, returned to all of them:
// the values go into workgroup memory, then pairs are added in a tree, 64 -> 32 -> ... -> 1,
// halving the number of live partial sums each round. Call it from uniform control flow
// (every invocation of the workgroup), since it waits at barriers.
// Used by bce.wgsl and cross_entropy.wgsl.

const GROUP: u32 = 64u;
var<workgroup> partial: array<f32, GROUP>;

fn workgroup_sum(i: u32, value: f32) -> f32 {
    partial[i] = value;
    workgroupBarrier();
    for (var stride = GROUP / 2u; stride > 0u; stride /= 2u) {
        if (i < stride) {
            partial[i] += partial[i + stride];
        }
        workgroupBarrier();
    }
    return partial[0];
}
