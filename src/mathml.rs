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

/// A number, to `decimals` places (more below 0.01, so that three significant digits
/// show); very large or small magnitudes in scientific form.
/// Negative numbers get a true minus sign.
pub fn num(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return mtext(if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "∞"
        } else {
            "−∞"
        });
    }
    let magnitude = value.abs();
    let body = if magnitude != 0.0 && !(1e-4..1e6).contains(&magnitude) {
        let formatted = format!("{magnitude:.3e}");
        let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
        let exponent = exponent.replace('-', "−");
        format!("<mn>{mantissa}</mn><mo>×</mo><msup><mn>10</mn><mn>{exponent}</mn></msup>")
    } else {
        let leading_zeros =
            if magnitude > 0.0 { (-libm::log10(magnitude)).floor().max(0.0) as usize } else { 0 };
        let decimals = if leading_zeros >= 2 { decimals.max((leading_zeros + 3).min(8)) } else { decimals };
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

/// A display equation. It is cut before each `=` into pieces that sit on one line when
/// there is room and wrap on a narrow screen, so a long chain of equalities stays readable
/// on a phone.
pub fn block(parts: &[String]) -> String {
    let equals = mo("=");
    let mut pieces: Vec<String> = vec![String::new()];
    for part in parts {
        if *part == equals && !pieces.last().is_some_and(String::is_empty) {
            pieces.push(String::new());
        }
        if let Some(piece) = pieces.last_mut() {
            piece.push_str(part);
        }
    }
    let maths: String = pieces
        .iter()
        .map(|piece| format!("<math displaystyle=\"true\"><mrow>{piece}</mrow></math>"))
        .collect();
    format!("<div class=\"eq\">{maths}</div>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_for_reading() {
        assert_eq!(num(0.76449, 4), "<mn>0.7645</mn>");
        assert_eq!(num(-0.2355, 4), "<mrow><mo>−</mo><mn>0.2355</mn></mrow>");
        assert_eq!(num(0.000647, 4), "<mn>0.000647</mn>");
        assert!(num(1.5e8, 4).contains("<msup><mn>10</mn><mn>8</mn></msup>"));
        assert!(num(2e-7, 4).contains("<mn>−7</mn>"));
        assert_eq!(num(f64::NAN, 4), "<mtext>NaN</mtext>");
        assert_eq!(factor(-1.0, 1), "<mrow><mo>(</mo><mrow><mo>−</mo><mn>1.0</mn></mrow><mo>)</mo></mrow>");
    }

    #[test]
    fn equations_break_before_each_equals_sign() {
        let html = block(&[mi("a"), mo("="), mi("b"), mo("+"), mi("c"), mo("="), num(1.0, 0)]);
        assert_eq!(html.matches("<math").count(), 3, "{html}");
        assert!(
            html.starts_with("<div class=\"eq\"><math displaystyle=\"true\"><mrow><mi>a</mi></mrow></math><math displaystyle=\"true\"><mrow><mo>=</mo><mi>b</mi>"),
            "{html}"
        );
    }
}
