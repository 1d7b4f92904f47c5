// Helpers shared by several kernels. WGSL has no #include, so Rust puts this file in front
// of each shader that needs it (see `Kernel::new`).

// 1 / (1 + e^-z), written so that exp never overflows: for z < 0 use e^z / (1 + e^z).
// CPU reference: engine::autograd::sigmoid.
fn sigmoid(z: f32) -> f32 {
    if (z >= 0.0) {
        return 1.0 / (1.0 + exp(-z));
    }
    let e = exp(z);
    return e / (1.0 + e);
}

// tanh(z). Past |z| = 9, tanh is ±1 to f32 precision, so clamping changes nothing; it
// protects GPUs whose tanh goes through exp(2z), which overflows for large z.
fn tanh_safe(z: f32) -> f32 {
    return tanh(clamp(z, -9.0, 9.0));
}

// erf(x), the error function: a port of the f32 erf in FreeBSD's msun (s_erff.c), which
// Rust's libm::erff also ports, so the GPU follows the CPU's formulas branch by branch.
// Its rational approximations are accurate to below one f32 rounding; what the GPU adds is
// its own exp and division (a few ulps), so the result stays within about 1e-7 of libm's.
// Abramowitz and Stegun's short formula 7.1.26 would be off by up to 1.5e-7 absolute, more
// than a rounding of values near 1: enough to show in the last digits of a GELU network.
// CPU reference: libm::erff.
//   |x| < 0.84375:        x + x·P(x²)/Q(x²)
//   0.84375 ≤ |x| < 1.25: erx + P(s)/Q(s), s = |x| − 1 (erx = erf(1) rounded)
//   1.25 ≤ |x| < 6:       1 − exp(−z² − 0.5625)·exp((z − x)(z + x) + R(1/x²)/S(1/x²))/x,
//                         z = x with its 12 lowest mantissa bits cleared, with one R/S
//                         pair below 1/0.35 and another above
//   |x| ≥ 6:              ±1 (to f32 precision)
fn erf_branch_1(x: f32) -> f32 {
    let z = x * x;
    let r = 1.2837916613e-01 + z * (-3.2504209876e-01 + z * (-2.8481749818e-02
        + z * (-5.7702702470e-03 + z * -2.3763017452e-05)));
    let s = 1.0 + z * (3.9791721106e-01 + z * (6.5022252500e-02 + z * (5.0813062117e-03
        + z * (1.3249473704e-04 + z * -3.9602282413e-06))));
    return x + x * (r / s);
}

// erfc(|x|) for 0.84375 ≤ |x| < 6 (`erfc2` in libm).
fn erfc_tail(ax: f32) -> f32 {
    let bits = bitcast<u32>(ax);
    if (bits < 0x3fa00000u) {
        // |x| < 1.25
        let s = ax - 1.0;
        let p = -2.3621185683e-03 + s * (4.1485610604e-01 + s * (-3.7220788002e-01
            + s * (3.1834661961e-01 + s * (-1.1089469492e-01 + s * (3.5478305072e-02
            + s * -2.1663755178e-03)))));
        let q = 1.0 + s * (1.0642088205e-01 + s * (5.4039794207e-01 + s * (7.1828655899e-02
            + s * (1.2617121637e-01 + s * (1.3637083583e-02 + s * 1.1984500103e-02)))));
        return 1.0 - 8.4506291151e-01 - p / q;
    }
    let s = 1.0 / (ax * ax);
    var r: f32;
    var big_s: f32;
    if (bits < 0x4036db6du) {
        // |x| < 1/0.35
        r = -9.8649440333e-03 + s * (-6.9385856390e-01 + s * (-1.0558626175e+01
            + s * (-6.2375331879e+01 + s * (-1.6239666748e+02 + s * (-1.8460508728e+02
            + s * (-8.1287437439e+01 + s * -9.8143291473e+00))))));
        big_s = 1.0 + s * (1.9651271820e+01 + s * (1.3765776062e+02 + s * (4.3456588745e+02
            + s * (6.4538726807e+02 + s * (4.2900814819e+02 + s * (1.0863500214e+02
            + s * (6.5702495575e+00 + s * -6.0424413532e-02)))))));
    } else {
        r = -9.8649431020e-03 + s * (-7.9928326607e-01 + s * (-1.7757955551e+01
            + s * (-1.6063638306e+02 + s * (-6.3756646729e+02 + s * (-1.0250950928e+03
            + s * -4.8351919556e+02)))));
        big_s = 1.0 + s * (3.0338060379e+01 + s * (3.2579251099e+02 + s * (1.5367296143e+03
            + s * (3.1998581543e+03 + s * (2.5530502930e+03 + s * (4.7452853394e+02
            + s * -2.2440952301e+01))))));
    }
    let z = bitcast<f32>(bits & 0xffffe000u);
    return exp(-z * z - 0.5625) * exp((z - ax) * (z + ax) + r / big_s) / ax;
}

fn erf(x: f32) -> f32 {
    let ax = abs(x);
    let bits = bitcast<u32>(ax);
    if (bits < 0x3f580000u) {
        // |x| < 0.84375
        return erf_branch_1(x);
    }
    var y = 1.0;
    if (bits < 0x40c00000u) {
        // |x| < 6
        y = 1.0 - erfc_tail(ax);
    }
    return select(y, -y, x < 0.0);
}
