//! Chapter 4's number formats: FP32, TF32, BF16, FP16 and the two FP8 formats, each a sign
//! bit, an exponent field and a mantissa field, and what happens to a number stored in them.
//!
//! Every format here is described by its field widths alone, and one pair of functions serves
//! them all: [`Format::encode`] rounds a value to the nearest representable one (ties to the
//! even mantissa, as IEEE 754 and the OCP FP8 specification both require) and returns its bit
//! pattern; [`Format::decode`] reads a bit pattern back as a number. Every value of every
//! format is exactly representable in an f64, so the arithmetic below is exact until the one
//! rounding step that the format itself imposes.

/// What a format does with its largest exponent field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopExponent {
    /// IEEE 754: the all-ones exponent holds infinity (mantissa 0) and NaN (any other
    /// mantissa); a value too large for the format becomes infinity.
    InfinityAndNan,
    /// FP8 E4M3 as the OCP specification defines it: no infinity. The all-ones exponent holds
    /// ordinary numbers except with the all-ones mantissa, which is NaN; a value too large
    /// saturates to the largest finite number.
    NanOnlySaturating,
}

/// A binary floating-point format: 1 sign bit, `exponent_bits`, `mantissa_bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// The name the page shows.
    pub name: &'static str,
    /// Width of the exponent field.
    pub exponent_bits: u32,
    /// Width of the stored mantissa field (the leading 1 of a normal number is not stored).
    pub mantissa_bits: u32,
    /// What the largest exponent field means.
    pub top: TopExponent,
}

/// IEEE 754 single precision.
pub const FP32: Format =
    Format { name: "FP32", exponent_bits: 8, mantissa_bits: 23, top: TopExponent::InfinityAndNan };
/// NVIDIA's TensorFloat-32: FP32's range with FP16's precision, 19 bits used of 32.
pub const TF32: Format =
    Format { name: "TF32", exponent_bits: 8, mantissa_bits: 10, top: TopExponent::InfinityAndNan };
/// bfloat16: FP32's exponent, 7 mantissa bits.
pub const BF16: Format =
    Format { name: "BF16", exponent_bits: 8, mantissa_bits: 7, top: TopExponent::InfinityAndNan };
/// IEEE 754 half precision.
pub const FP16: Format =
    Format { name: "FP16", exponent_bits: 5, mantissa_bits: 10, top: TopExponent::InfinityAndNan };
/// OCP FP8 E4M3: more precision, no infinity, saturates at 448.
pub const FP8_E4M3: Format =
    Format { name: "FP8 E4M3", exponent_bits: 4, mantissa_bits: 3, top: TopExponent::NanOnlySaturating };
/// OCP FP8 E5M2: FP16's exponent range with 2 mantissa bits, IEEE-style infinities.
pub const FP8_E5M2: Format =
    Format { name: "FP8 E5M2", exponent_bits: 5, mantissa_bits: 2, top: TopExponent::InfinityAndNan };

/// The formats side by side, widest first.
pub const ALL: [Format; 6] = [FP32, TF32, BF16, FP16, FP8_E4M3, FP8_E5M2];

/// 2^k as an f64, exactly (k within f64's normal range).
fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// The exponent e of a finite, nonzero f64 x, so that 2^e ≤ |x| < 2^(e+1).
fn exponent_of(x: f64) -> i32 {
    let field = ((x.to_bits() >> 52) & 0x7ff) as i32;
    if field == 0 {
        // An f64 subnormal: far below anything the formats here can hold.
        -1023
    } else {
        field - 1023
    }
}

/// A bit pattern split into its three fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    /// 0 for +, 1 for −.
    pub sign: u32,
    /// The biased exponent field.
    pub exponent: u32,
    /// The stored mantissa field.
    pub mantissa: u32,
}

/// What storing a value did to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored exactly.
    Exact,
    /// Rounded to a nearby normal number.
    Rounded,
    /// Stored as a subnormal number, with fewer significant bits than a normal one has.
    Subnormal,
    /// A nonzero value too small for the format: it became zero.
    FlushedToZero,
    /// Too large: it became infinity.
    Overflowed,
    /// Too large: it was clamped to the largest finite number (formats without infinity).
    Saturated,
    /// Not a number in, not a number out.
    NotANumber,
}

/// A value stored in a format, and what that did to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stored {
    /// The bit pattern, in the low `1 + exponent_bits + mantissa_bits` bits.
    pub bits: u32,
    /// The number that bit pattern holds.
    pub value: f64,
    /// What storing did.
    pub outcome: Outcome,
}

impl Format {
    /// Total width in bits.
    pub fn width(&self) -> u32 {
        1 + self.exponent_bits + self.mantissa_bits
    }

    /// The exponent bias, 2^(exponent_bits − 1) − 1.
    pub fn bias(&self) -> i32 {
        (1 << (self.exponent_bits - 1)) - 1
    }

    fn top_field(&self) -> u32 {
        (1 << self.exponent_bits) - 1
    }

    fn mantissa_mask(&self) -> u32 {
        (1 << self.mantissa_bits) - 1
    }

    /// The smallest exponent of a normal number, 1 − bias.
    pub fn min_exponent(&self) -> i32 {
        1 - self.bias()
    }

    /// The largest exponent of a finite number.
    pub fn max_exponent(&self) -> i32 {
        let top_finite_field = match self.top {
            TopExponent::InfinityAndNan => self.top_field() - 1,
            TopExponent::NanOnlySaturating => self.top_field(),
        };
        top_finite_field as i32 - self.bias()
    }

    /// The largest finite value.
    pub fn largest(&self) -> f64 {
        let m = self.mantissa_bits as i32;
        // The all-ones mantissa is NaN in the top binade of a saturating format, so its
        // largest mantissa there is one less.
        let top_mantissa = match self.top {
            TopExponent::InfinityAndNan => self.mantissa_mask(),
            TopExponent::NanOnlySaturating => self.mantissa_mask() - 1,
        };
        (1.0 + top_mantissa as f64 * pow2(-m)) * pow2(self.max_exponent())
    }

    /// The smallest positive normal value, 2^(1 − bias).
    pub fn smallest_normal(&self) -> f64 {
        pow2(self.min_exponent())
    }

    /// The smallest positive subnormal value, 2^(1 − bias − mantissa_bits).
    pub fn smallest_subnormal(&self) -> f64 {
        pow2(self.min_exponent() - self.mantissa_bits as i32)
    }

    /// Machine epsilon: the gap between 1 and the next number up.
    pub fn epsilon(&self) -> f64 {
        pow2(-(self.mantissa_bits as i32))
    }

    /// Splits a bit pattern into sign, exponent and mantissa fields.
    pub fn fields(&self, bits: u32) -> Fields {
        Fields {
            sign: (bits >> (self.exponent_bits + self.mantissa_bits)) & 1,
            exponent: (bits >> self.mantissa_bits) & self.top_field(),
            mantissa: bits & self.mantissa_mask(),
        }
    }

    /// Joins three fields into a bit pattern.
    pub fn join(&self, fields: Fields) -> u32 {
        (fields.sign << (self.exponent_bits + self.mantissa_bits))
            | (fields.exponent << self.mantissa_bits)
            | fields.mantissa
    }

    /// The number a bit pattern holds (bits above the format's width are ignored).
    pub fn decode(&self, bits: u32) -> f64 {
        let Fields { sign, exponent, mantissa } = self.fields(bits);
        let sign = if sign == 1 { -1.0 } else { 1.0 };
        let m = self.mantissa_bits as i32;
        if exponent == self.top_field() {
            match self.top {
                TopExponent::InfinityAndNan if mantissa == 0 => return sign * f64::INFINITY,
                TopExponent::InfinityAndNan => return f64::NAN,
                TopExponent::NanOnlySaturating if mantissa == self.mantissa_mask() => return f64::NAN,
                TopExponent::NanOnlySaturating => {}
            }
        }
        if exponent == 0 {
            // Subnormal: no hidden leading 1, and the smallest normal exponent.
            return sign * mantissa as f64 * pow2(self.min_exponent() - m);
        }
        sign * (1.0 + mantissa as f64 * pow2(-m)) * pow2(exponent as i32 - self.bias())
    }

    /// Stores a value: rounds it to the nearest representable number (ties to the even
    /// mantissa) and says what that did.
    pub fn encode(&self, value: f64) -> Stored {
        let sign = u32::from(value.is_sign_negative());
        let signed = |magnitude: f64| if sign == 1 { -magnitude } else { magnitude };
        if value.is_nan() {
            let nan =
                self.join(Fields { sign: 0, exponent: self.top_field(), mantissa: self.mantissa_mask() });
            return Stored { bits: nan, value: f64::NAN, outcome: Outcome::NotANumber };
        }
        let magnitude = value.abs();
        let too_large = |this: &Format| match this.top {
            TopExponent::InfinityAndNan => Stored {
                bits: this.join(Fields { sign, exponent: this.top_field(), mantissa: 0 }),
                value: signed(f64::INFINITY),
                outcome: Outcome::Overflowed,
            },
            TopExponent::NanOnlySaturating => {
                let bits = this.join(Fields {
                    sign,
                    exponent: this.top_field(),
                    mantissa: this.mantissa_mask() - 1,
                });
                Stored { bits, value: signed(this.largest()), outcome: Outcome::Saturated }
            }
        };
        if magnitude.is_infinite() {
            return too_large(self);
        }
        if magnitude == 0.0 {
            return Stored {
                bits: self.join(Fields { sign, exponent: 0, mantissa: 0 }),
                value,
                outcome: Outcome::Exact,
            };
        }

        // The spacing of representable numbers around `magnitude`: 2^(e − m) in the binade
        // [2^e, 2^(e+1)), and the subnormal spacing below the smallest normal.
        let m = self.mantissa_bits as i32;
        let e = exponent_of(magnitude).max(self.min_exponent());
        let quantum = pow2(e - m);
        // Division by a power of two is exact; so is multiplying back. Only round_ties_even
        // rounds, once.
        let rounded = (magnitude / quantum).round_ties_even() * quantum;
        if rounded > self.largest() {
            return too_large(self);
        }
        let outcome = if rounded == 0.0 {
            Outcome::FlushedToZero
        } else if rounded < self.smallest_normal() {
            Outcome::Subnormal
        } else if rounded == magnitude {
            Outcome::Exact
        } else {
            Outcome::Rounded
        };
        let fields = if rounded < self.smallest_normal() {
            Fields { sign, exponent: 0, mantissa: (rounded / pow2(self.min_exponent() - m)) as u32 }
        } else {
            // Rounding up can carry into the next binade, so read the exponent again.
            let e = exponent_of(rounded);
            let mantissa = ((rounded / pow2(e) - 1.0) * pow2(m)) as u32;
            Fields { sign, exponent: (e + self.bias()) as u32, mantissa }
        };
        Stored { bits: self.join(fields), value: signed(rounded), outcome }
    }

    /// The value a number becomes when stored.
    pub fn round(&self, value: f64) -> f64 {
        self.encode(value).value
    }

    /// The gap from a stored value to the next representable number away from zero (for the
    /// largest finite value, the gap to where the next one would be). None for NaN and
    /// infinity.
    pub fn gap_above(&self, bits: u32) -> Option<f64> {
        let value = self.decode(bits);
        if !value.is_finite() {
            return None;
        }
        let Fields { exponent, .. } = self.fields(bits);
        let e = if exponent == 0 { self.min_exponent() } else { exponent as i32 - self.bias() };
        Some(pow2(e - self.mantissa_bits as i32))
    }

    /// What storing a value costs: the stored value minus the value, or None when there is
    /// no finite difference to show (overflow to infinity, NaN, or an infinite value).
    pub fn rounding_error(&self, value: f64) -> Option<f64> {
        let stored = self.encode(value).value;
        let error = stored - value;
        error.is_finite().then_some(error)
    }

    /// The bit pattern with one bit flipped, `position` counted from the sign bit (0) to the
    /// last mantissa bit (`width() − 1`). Positions past the end leave the pattern as it is.
    pub fn flip_bit(&self, bits: u32, position: u32) -> u32 {
        if position >= self.width() {
            return bits;
        }
        bits ^ (1 << (self.width() - 1 - position))
    }

    /// Whether the bit at `position` (counted from the sign bit, 0) is set.
    pub fn bit_is_set(&self, bits: u32, position: u32) -> bool {
        position < self.width() && (bits >> (self.width() - 1 - position)) & 1 == 1
    }

    /// Adds `step` to zero `count` times, rounding to the format after every addition, as a
    /// running sum kept in this format does. Returns the sum after each addition.
    ///
    /// Each addition is exact in f64 before the one rounding to the format: f64 carries more
    /// than twice the bits of the widest format here, so rounding twice (to f64, then to the
    /// format) gives the same result as rounding once.
    pub fn accumulate(&self, step: f64, count: usize) -> Vec<f64> {
        let step = self.round(step);
        let mut sum = 0.0;
        (0..count)
            .map(|_| {
                sum = self.round(sum + step);
                sum
            })
            .collect()
    }
}

/// Where a running sum stops growing: the first addition after which adding `step` no longer
/// changes it, with the value it is stuck at. None if it still grows after `count` additions.
pub fn stall_point(sums: &[f64]) -> Option<(usize, f64)> {
    sums.windows(2).position(|w| w[0] == w[1]).map(|i| (i + 1, sums[i]))
}

/// The exact total of adding `step` `count` times, for comparison with a running sum kept
/// in a format (computed in f64, which rounds far below the formats shown beside it).
pub fn exact_sum(step: f64, count: usize) -> f64 {
    step * count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fp16_and_bf16_bit_pattern_reads_as_the_half_crate_reads_it() {
        for bits in 0..=u16::MAX {
            let ours = FP16.decode(bits as u32);
            let theirs = half::f16::from_bits(bits).to_f64();
            assert!(
                ours == theirs || (ours.is_nan() && theirs.is_nan()),
                "FP16 {bits:#06x}: {ours} vs {theirs}"
            );
            let ours = BF16.decode(bits as u32);
            let theirs = half::bf16::from_bits(bits).to_f64();
            assert!(
                ours == theirs || (ours.is_nan() && theirs.is_nan()),
                "BF16 {bits:#06x}: {ours} vs {theirs}"
            );
        }
    }

    #[test]
    fn every_finite_pattern_survives_a_round_trip() {
        for format in [FP16, BF16, FP8_E4M3, FP8_E5M2] {
            for bits in 0..(1u32 << format.width()) {
                let value = format.decode(bits);
                if value.is_nan() {
                    continue;
                }
                let stored = format.encode(value);
                assert_eq!(stored.bits, bits, "{} {bits:#x} = {value}", format.name);
                assert!(matches!(stored.outcome, Outcome::Exact | Outcome::Subnormal | Outcome::Overflowed));
            }
        }
    }

    /// f32 values from every binade, with mantissas that hit ties, near-ties and the extremes:
    /// the rounding cases a conversion can get wrong.
    fn f32_sweep() -> Vec<f32> {
        let mut values = Vec::new();
        let mut rng = crate::core::rng::Rng::new(4);
        for exponent_field in 0..=255u32 {
            let low = [0u32, 1, 0x0F_FFFF, 0x10_0000, 0x1F_FFFF, 0x7F_FFFF, 0x40_0000, 0x40_0001, 0x3F_FFFF];
            let tie_masks = [0x1000u32, 0x0FFF, 0x1001, 0x2000, 0x3000, 0x8000, 0x7FFF, 0x8001, 0x18000];
            for mantissa in
                low.into_iter().chain(tie_masks).chain((0..24).map(|_| rng.next_u64() as u32 & 0x7F_FFFF))
            {
                for sign in [0u32, 1] {
                    values.push(f32::from_bits(sign << 31 | exponent_field << 23 | mantissa));
                }
            }
        }
        values
    }

    #[test]
    fn rounding_f32_values_agrees_with_the_half_crate_and_with_rusts_casts() {
        for x in f32_sweep() {
            let wide = x as f64;
            let f16 = FP16.encode(wide);
            let theirs = half::f16::from_f32(x);
            if x.is_nan() {
                assert!(theirs.is_nan() && f16.value.is_nan());
                continue;
            }
            assert_eq!(f16.bits, theirs.to_bits() as u32, "FP16 of {x:e} ({:#010x})", x.to_bits());
            let bf16 = BF16.encode(wide);
            assert_eq!(
                bf16.bits,
                half::bf16::from_f32(x).to_bits() as u32,
                "BF16 of {x:e} ({:#010x})",
                x.to_bits()
            );
            assert_eq!(FP32.encode(wide).bits, x.to_bits(), "FP32 of {x:e}");
        }
        // From f64, FP32 rounds as Rust's `as f32` does (round to nearest, ties to even).
        let mut rng = crate::core::rng::Rng::new(9);
        for _ in 0..20_000 {
            let x = f64::from_bits(
                rng.next_u64() & !(0x7ffu64 << 52) | (((rng.next_u64() % 300) + 1023 - 150) << 52),
            );
            assert_eq!(FP32.encode(x).bits, (x as f32).to_bits(), "{x:e}");
        }
    }

    #[test]
    fn the_published_fp8_limits_and_encodings() {
        // OCP 8-bit floating point specification (OFP8), table of E4M3 and E5M2 properties.
        assert_eq!(FP8_E4M3.bias(), 7);
        assert_eq!(FP8_E4M3.largest(), 448.0);
        assert_eq!(FP8_E4M3.smallest_normal(), 2f64.powi(-6));
        assert_eq!(FP8_E4M3.smallest_subnormal(), 2f64.powi(-9));
        assert_eq!(FP8_E4M3.decode(0x7E), 448.0); // S.1111.110
        assert!(FP8_E4M3.decode(0x7F).is_nan()); // S.1111.111
        assert_eq!(FP8_E4M3.decode(0x78), 256.0); // S.1111.000 is a number, not infinity
        assert_eq!(FP8_E4M3.decode(0x01), 2f64.powi(-9));
        assert_eq!(FP8_E5M2.bias(), 15);
        assert_eq!(FP8_E5M2.largest(), 57344.0);
        assert_eq!(FP8_E5M2.smallest_normal(), 2f64.powi(-14));
        assert_eq!(FP8_E5M2.smallest_subnormal(), 2f64.powi(-16));
        assert_eq!(FP8_E5M2.decode(0x7B), 57344.0); // S.11110.11
        assert_eq!(FP8_E5M2.decode(0x7C), f64::INFINITY); // S.11111.00
        assert!(FP8_E5M2.decode(0x7D).is_nan());
        // Too large: E4M3 saturates, E5M2 overflows to infinity.
        assert_eq!(FP8_E4M3.encode(1000.0).outcome, Outcome::Saturated);
        assert_eq!(FP8_E4M3.encode(-1000.0).value, -448.0);
        assert_eq!(FP8_E5M2.encode(1e6).value, f64::INFINITY);
        // Half way between 448 and the next step (512) still saturates in E4M3; in E5M2,
        // 61440 (half way from 57344 to 65536) ties to even, the infinity side.
        assert_eq!(FP8_E5M2.encode(61439.0).value, 57344.0);
        assert_eq!(FP8_E5M2.encode(61440.0).outcome, Outcome::Overflowed);
    }

    #[test]
    fn the_familiar_limits_of_the_wide_formats() {
        assert_eq!(FP16.largest(), 65504.0);
        assert_eq!(FP16.smallest_normal(), 2f64.powi(-14));
        assert_eq!(FP16.smallest_subnormal(), 2f64.powi(-24));
        assert_eq!(BF16.largest(), (2.0 - 2f64.powi(-7)) * 2f64.powi(127));
        assert_eq!(FP32.largest(), f32::MAX as f64);
        assert_eq!(FP32.smallest_subnormal(), f32::from_bits(1) as f64);
        assert_eq!(TF32.epsilon(), FP16.epsilon());
        assert_eq!(TF32.largest(), (2.0 - 2f64.powi(-10)) * 2f64.powi(127));
        assert_eq!(FP16.gap_above(FP16.encode(1.0).bits), Some(2f64.powi(-10)));
        assert_eq!(FP16.gap_above(FP16.encode(2048.0).bits), Some(2.0));
    }

    #[test]
    fn storing_says_what_happened() {
        assert_eq!(FP16.encode(1.0).outcome, Outcome::Exact);
        assert_eq!(FP16.encode(0.1).outcome, Outcome::Rounded);
        assert_eq!(FP16.encode(0.1).value, 0.0999755859375);
        assert_eq!(FP16.encode(1e-6).outcome, Outcome::Subnormal);
        assert_eq!(FP16.encode(1e-8).outcome, Outcome::FlushedToZero);
        assert_eq!(BF16.encode(1e-8).outcome, Outcome::Rounded);
        assert_eq!(FP16.encode(70000.0).outcome, Outcome::Overflowed);
        assert_eq!(BF16.encode(70000.0).value, 70144.0);
        assert_eq!(FP16.encode(f64::NAN).outcome, Outcome::NotANumber);
        assert_eq!(FP16.encode(-0.0).bits, 0x8000);
    }

    #[test]
    fn a_running_sum_in_a_narrow_format_stops_growing() {
        // 0.0001 added 10,000 times should reach 1. In FP16 the sum sticks once 0.0001 is less
        // than half the gap between neighbouring numbers at the sum: at 0.25 that gap is
        // 2^-12 ≈ 0.000244, and 0.0001 < 0.000122 rounds away.
        let fp16 = FP16.accumulate(0.0001, 10_000);
        let (at, stuck) = stall_point(&fp16).unwrap();
        assert_eq!(stuck, 0.25);
        assert!(at < 3000, "{at}");
        // BF16 sticks far earlier; FP32 keeps growing and ends near 1.
        let (_, bf16_stuck) = stall_point(&BF16.accumulate(0.0001, 10_000)).unwrap();
        assert!(bf16_stuck < 0.05, "{bf16_stuck}");
        let fp32 = FP32.accumulate(0.0001, 10_000);
        assert!(stall_point(&fp32).is_none());
        assert!((fp32[9_999] - 1.0).abs() < 1e-3, "{}", fp32[9_999]);
    }

    #[test]
    fn the_widgets_helpers_flip_bits_and_measure_rounding() {
        // Flipping FP16's sign bit negates; flipping the top exponent bit of 1.0 gives 2^16.
        let one = FP16.encode(1.0).bits;
        assert_eq!(one, 0x3C00);
        assert_eq!(FP16.decode(FP16.flip_bit(one, 0)), -1.0);
        assert_eq!(FP16.flip_bit(one, 1), 0x7C00);
        assert_eq!(FP16.flip_bit(one, 16), one);
        assert!(FP16.bit_is_set(one, 2) && !FP16.bit_is_set(one, 1) && !FP16.bit_is_set(one, 16));
        assert!(FP8_E4M3.decode(FP8_E4M3.flip_bit(0x7E, 7)).is_nan());
        assert_eq!(FP8_E4M3.decode(FP8_E4M3.flip_bit(0x7E, 6)), 384.0);
        // 0.1 in FP16 is 0.0999755859375; the error is that minus 0.1, computed in f64.
        assert_eq!(FP16.rounding_error(0.1), Some(0.0999755859375 - 0.1));
        assert_eq!(FP16.rounding_error(1.0), Some(0.0));
        assert_eq!(BF16.rounding_error(70000.0), Some(144.0));
        assert_eq!(FP8_E4M3.rounding_error(1000.0), Some(-552.0));
        assert_eq!(FP16.rounding_error(70000.0), None);
        assert_eq!(exact_sum(0.0001, 10_000), 1.0);
        // The stall points chapter 4 quotes beside the widget: TF32 with FP16 at 0.25, BF16 at 2^-5.
        assert_eq!(stall_point(&TF32.accumulate(0.0001, 10_000)).map(|s| s.1), Some(0.25));
        assert_eq!(stall_point(&BF16.accumulate(0.0001, 10_000)).map(|s| s.1), Some(0.03125));
    }
}
