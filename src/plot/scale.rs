//! Colour scales for heatmaps, chosen so that the order of values survives colour blindness
//! and greyscale: every scale runs monotonically in lightness. Two kinds, each with a version
//! for the light page and one for the dark page (the page's CSS picks by theme):
//!
//! - sequential, for values from 0 up (weights, probabilities): from the page's own lightness
//!   to the far end, light theme pale yellow → green → deep blue (ColorBrewer's YlGnBu), dark
//!   theme viridis (deep purple → teal → yellow), so "more" is always "further from the page";
//! - diverging, for signed values: blue below 0, orange above (never red against green),
//!   neutral at 0 and stronger with |v| on both sides, lightness symmetric about 0.
//!
//! Each colour comes with the ink (black or white) that reads best on it, so numbers written
//! on a cell keep at least 4.5:1 contrast in both themes.

/// YlGnBu, low to high: lightness falls.
const SEQUENTIAL_LIGHT: [u32; 9] =
    [0xffffd9, 0xedf8b1, 0xc7e9b4, 0x7fcdbb, 0x41b6c4, 0x1d91c0, 0x225ea8, 0x253494, 0x081d58];
/// Viridis, low to high: lightness rises.
const SEQUENTIAL_DARK: [u32; 9] =
    [0x440154, 0x472d7b, 0x3b528b, 0x2c728e, 0x21918c, 0x28ae80, 0x5ec962, 0xaadc32, 0xfde725];
/// Blue → near white → orange (−1 to +1): lightness falls away from 0 on both sides.
const DIVERGING_LIGHT: [u32; 9] =
    [0x08306b, 0x2f6db3, 0x6fa3d6, 0xbcd6ee, 0xf4f3f1, 0xfdd0a2, 0xf59c4b, 0xd4640f, 0x7f2704];
/// Blue → near the dark page → orange (−1 to +1): lightness rises away from 0 on both sides.
const DIVERGING_DARK: [u32; 9] =
    [0xc6dbef, 0x7fb0e0, 0x3f7fc4, 0x24466e, 0x2a2c31, 0x7a4416, 0xc76a1a, 0xf59c4b, 0xfdd9b5];

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn from_hex(hex: u32) -> Rgb {
        Rgb((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
    }

    /// `#rrggbb`.
    pub fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Relative luminance (WCAG 2), 0 for black to 1 for white.
    pub fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                libm::pow((c + 0.055) / 1.055, 2.4)
            }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    /// CIE L* lightness, 0 to 100: what a greyscale print keeps (the tests' measure).
    #[cfg(test)]
    pub fn lightness(self) -> f64 {
        let y = self.luminance();
        if y > 216.0 / 24389.0 {
            116.0 * libm::cbrt(y) - 16.0
        } else {
            y * 24389.0 / 27.0
        }
    }

    /// The WCAG contrast ratio against another colour.
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Black or white, whichever contrasts more with this colour (always at least 4.5:1).
    pub fn ink(self) -> &'static str {
        if self.contrast(Rgb(0, 0, 0)) >= self.contrast(Rgb(255, 255, 255)) {
            "#000000"
        } else {
            "#ffffff"
        }
    }
}

/// The colour at `t` in 0..=1 along evenly spaced `stops`, interpolated in sRGB.
fn along(stops: &[u32], t: f64) -> Rgb {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let x = t * (stops.len() - 1) as f64;
    let i = (libm::floor(x) as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let (a, b) = (Rgb::from_hex(stops[i]), Rgb::from_hex(stops[i + 1]));
    let mix = |p: u8, q: u8| libm::round(p as f64 + (q as f64 - p as f64) * f) as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A heatmap colour for both themes, with its ink.
#[derive(Clone, Debug, PartialEq)]
pub struct Heat {
    pub light: Rgb,
    pub dark: Rgb,
}

impl Heat {
    /// The colour on the light page, `#rrggbb`.
    pub fn light_css(&self) -> String {
        self.light.css()
    }
    /// The colour on the dark page, `#rrggbb`.
    pub fn dark_css(&self) -> String {
        self.dark.css()
    }
    /// Ink for text on the light page's colour.
    pub fn light_ink(&self) -> &'static str {
        self.light.ink()
    }
    /// Ink for text on the dark page's colour.
    pub fn dark_ink(&self) -> &'static str {
        self.dark.ink()
    }
}

/// The sequential scale at `t` in 0..=1 (0: least).
pub fn sequential(t: f64) -> Heat {
    Heat { light: along(&SEQUENTIAL_LIGHT, t), dark: along(&SEQUENTIAL_DARK, t) }
}

/// The diverging scale at `s` in −1..=1 (negative blue, 0 neutral, positive orange).
pub fn diverging(s: f64) -> Heat {
    let t = (s.clamp(-1.0, 1.0) + 1.0) / 2.0;
    Heat { light: along(&DIVERGING_LIGHT, t), dark: along(&DIVERGING_DARK, t) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: usize = 200;

    fn samples(scale: impl Fn(f64) -> Heat, from: f64) -> Vec<Heat> {
        (0..=SAMPLES).map(|k| scale(from + (1.0 - from) * k as f64 / SAMPLES as f64)).collect()
    }

    /// Lightness keeps its direction: between neighbouring samples it never turns back by
    /// more than 0.1 L* (the rounding of channels to bytes), and over every tenth of the
    /// scale it moves at least 2 L* the right way.
    fn strictly(values: &[f64], rising: bool, what: &str) {
        let step = |a: f64, b: f64| if rising { b - a } else { a - b };
        for (k, w) in values.windows(2).enumerate() {
            assert!(step(w[0], w[1]) > -0.1, "{what}: lightness {} then {} at sample {k}", w[0], w[1]);
        }
        for k in (0..SAMPLES).step_by(SAMPLES / 10) {
            let (a, b) = (values[k], values[k + SAMPLES / 10]);
            assert!(step(a, b) >= 2.0, "{what}: lightness {a} then {b} from sample {k}");
        }
    }

    #[test]
    fn sequential_scales_are_monotonic_in_lightness() {
        let s = samples(sequential, 0.0);
        let light: Vec<f64> = s.iter().map(|h| h.light.lightness()).collect();
        let dark: Vec<f64> = s.iter().map(|h| h.dark.lightness()).collect();
        strictly(&light, false, "light theme: more is darker");
        strictly(&dark, true, "dark theme: more is lighter");
        // Ends far apart, so greyscale keeps the range: L* from about 99 to 18, and 16 to 91.
        assert!(light[0] - light[SAMPLES] > 70.0 && dark[SAMPLES] - dark[0] > 70.0);
    }

    #[test]
    fn diverging_scales_grow_away_from_zero_on_both_sides() {
        for sign in [1.0, -1.0] {
            let s = samples(|t| diverging(sign * t), 0.0);
            let light: Vec<f64> = s.iter().map(|h| h.light.lightness()).collect();
            let dark: Vec<f64> = s.iter().map(|h| h.dark.lightness()).collect();
            strictly(&light, false, "light theme, |v| up");
            strictly(&dark, true, "dark theme, |v| up");
        }
        // Blue below, orange above: the sign is in the hue (blue > red, red > blue).
        let (neg, pos) = (diverging(-1.0), diverging(1.0));
        for c in [neg.light, neg.dark] {
            assert!(c.2 > c.0, "negative is blue: {c:?}");
        }
        for c in [pos.light, pos.dark] {
            assert!(c.0 > c.2, "positive is orange: {c:?}");
        }
        assert_eq!(diverging(0.0).light.css(), "#f4f3f1");
        assert_eq!(diverging(2.0), diverging(1.0), "clamped");
    }

    #[test]
    fn ink_on_every_colour_reads_at_4_5_to_1() {
        for h in samples(sequential, 0.0).into_iter().chain(samples(diverging, -1.0)) {
            for c in [h.light, h.dark] {
                let ink = if c.ink() == "#000000" { Rgb(0, 0, 0) } else { Rgb(255, 255, 255) };
                assert!(c.contrast(ink) >= 4.5, "{} on {}: {:.2}", c.ink(), c.css(), c.contrast(ink));
            }
        }
        assert_eq!(sequential(1.0).light_ink(), "#ffffff");
        assert_eq!(sequential(1.0).dark_ink(), "#000000");
        assert_eq!(sequential(0.0).dark_ink(), "#ffffff");
    }

    #[test]
    fn stops_are_reached_exactly() {
        assert_eq!(sequential(0.0).light_css(), "#ffffd9");
        assert_eq!(sequential(1.0).dark_css(), "#fde725");
        assert_eq!(sequential(0.5).dark_css(), "#21918c");
        assert_eq!(sequential(f64::NAN), sequential(0.0));
        assert!((Rgb(255, 255, 255).lightness() - 100.0).abs() < 1e-9);
    }
}
