//! A few helpers that write MathML for equations whose numbers change live.
//!
//! The prose's math is rendered at build time; a widget's equations carry the reader's
//! current numbers, so they are assembled here as strings of MathML Core elements.

/// An identifier, such as `z` or `W`.
pub fn mi(name: &str) -> String {
    format!("<mi>{name}</mi>")
}

/// An operator or fence, such as `=` or `(`.
pub fn mo(op: &str) -> String {
    format!("<mo>{op}</mo>")
}

/// Plain text inside math.
pub fn mtext(text: &str) -> String {
    format!("<mtext>{text}</mtext>")
}

/// `base` with a subscript.
pub fn sub(base: &str, subscript: &str) -> String {
    format!("<msub>{base}<mn>{subscript}</mn></msub>")
}

/// `base` with a superscript.
pub fn sup(base: &str, superscript: &str) -> String {
    format!("<msup>{base}{superscript}</msup>")
}

/// A fraction.
pub fn frac(numerator: &str, denominator: &str) -> String {
    format!("<mfrac><mrow>{numerator}</mrow><mrow>{denominator}</mrow></mfrac>")
}

/// A number, to `decimals` places; very large or small magnitudes in scientific form.
/// Negative numbers get a true minus sign.
pub fn num(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return mtext(if value.is_nan() { "NaN" } else if value > 0.0 { "∞" } else { "−∞" });
    }
    let magnitude = value.abs();
    let body = if magnitude != 0.0 && !(1e-4..1e6).contains(&magnitude) {
        let formatted = format!("{magnitude:.3e}");
        let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
        let exponent = exponent.replace('-', "−");
        format!("<mn>{mantissa}</mn><mo>×</mo><msup><mn>10</mn><mn>{exponent}</mn></msup>")
    } else {
        format!("<mn>{magnitude:.decimals$}</mn>")
    };
    if value < 0.0 {
        format!("<mrow><mo>−</mo>{body}</mrow>")
    } else {
        body
    }
}

/// A number in parentheses when negative, for use inside a product.
pub fn factor(value: f64, decimals: usize) -> String {
    if value < 0.0 {
        format!("<mrow><mo>(</mo>{}<mo>)</mo></mrow>", num(value, decimals))
    } else {
        num(value, decimals)
    }
}

/// A display equation.
pub fn block(parts: &[String]) -> String {
    format!("<math display=\"block\"><mrow>{}</mrow></math>", parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_reading() {
        assert_eq!(num(0.76449, 4), "<mn>0.7645</mn>");
        assert_eq!(num(-0.2355, 4), "<mrow><mo>−</mo><mn>0.2355</mn></mrow>");
        assert!(num(1.5e8, 4).contains("<msup><mn>10</mn><mn>8</mn></msup>"));
        assert!(num(2e-7, 4).contains("<mn>−7</mn>"));
        assert_eq!(num(f64::NAN, 4), "<mtext>NaN</mtext>");
        assert_eq!(factor(-1.0, 1), "<mrow><mo>(</mo><mrow><mo>−</mo><mn>1.0</mn></mrow><mo>)</mo></mrow>");
    }
}
