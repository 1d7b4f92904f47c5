//! Numbers typed as text: a list (logits, activations) or a matrix (one row a line), with the
//! editor for a matrix. One tokenizer and one range check serve them all, and every refusal
//! says which number was wrong.

use std::str::FromStr;

use leptos::prelude::*;

use engine::core::tensor::Tensor;

/// Why one typed number was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum BadNumber {
    /// The text is not a number.
    NotANumber(String),
    /// A number, but not finite or beyond the allowed size.
    OutOfRange(String),
}

/// Reads the numbers in `line`, separated by commas or spaces (a typographic minus counts as
/// a minus), each finite and at most `bound` in size. `T` is the type the numbers are kept
/// in, parsed directly so that an `f32` is the nearest `f32` to what was typed.
pub fn parse_row<T: FromStr + Copy + Into<f64>>(line: &str, bound: f64) -> Result<Vec<T>, BadNumber> {
    let mut row = Vec::new();
    for token in line.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
        let value: T =
            token.replace('−', "-").parse().map_err(|_| BadNumber::NotANumber(token.to_string()))?;
        let size: f64 = value.into();
        if !size.is_finite() || size.abs() > bound {
            return Err(BadNumber::OutOfRange(token.to_string()));
        }
        row.push(value);
    }
    Ok(row)
}

/// What a list is and how much of it a widget takes, for the messages the reader sees.
#[derive(Clone, Copy, Debug)]
pub struct ListRule {
    /// One entry, e.g. "logit".
    pub noun: &'static str,
    /// Several entries, e.g. "logits".
    pub plural: &'static str,
    /// A valid list to suggest, e.g. "2.0, 1.0, 0.5".
    pub example: &'static str,
    /// The largest size an entry may have.
    pub bound: f64,
    /// The range as the message writes it, e.g. "−10000 and 10000".
    pub range: &'static str,
    /// The most entries the widget shows.
    pub max_len: usize,
    /// What to say after the count when there are more, e.g. "the bench shows at most 40".
    pub too_many: &'static str,
}

/// Parses a list of numbers under `rule`: at least one, at most `rule.max_len`, each in range.
pub fn parse_list<T: FromStr + Copy + Into<f64>>(text: &str, rule: &ListRule) -> Result<Vec<T>, String> {
    let values = parse_row(text, rule.bound).map_err(|bad| match bad {
        BadNumber::NotANumber(token) => format!("“{token}” is not a number."),
        BadNumber::OutOfRange(token) => format!("“{token}”: keep {} between {}.", rule.plural, rule.range),
    })?;
    match values.len() {
        0 => Err(format!("Enter at least one {}, e.g. {}.", rule.noun, rule.example)),
        n if n > rule.max_len => Err(format!("{n} {}: {}.", rule.plural, rule.too_many)),
        _ => Ok(values),
    }
}

/// The largest entry a typed matrix may hold.
pub const MATRIX_BOUND: f64 = 1e4;
/// The most rows, and the most columns, a typed matrix may have.
pub const MATRIX_MAX_SIDE: usize = 8;

/// Parses a matrix typed as lines of numbers separated by spaces or commas; `name` (e.g.
/// "X") starts every message.
pub fn parse_matrix(name: &str, text: &str) -> Result<Tensor, String> {
    let mut rows: Vec<Vec<f32>> = Vec::new();
    for (i, line) in text.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let row = parse_row(line, MATRIX_BOUND).map_err(|bad| match bad {
            BadNumber::NotANumber(token) => format!("{name}, row {}: “{token}” is not a number.", i + 1),
            BadNumber::OutOfRange(_) => {
                format!("{name}, row {}: keep entries between −10000 and 10000.", i + 1)
            }
        })?;
        if let Some(first) = rows.first() {
            if first.len() != row.len() {
                return Err(format!(
                    "{name}, row {}: {} numbers, but row 1 has {}.",
                    i + 1,
                    row.len(),
                    first.len()
                ));
            }
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(format!("{name} is empty."));
    }
    if rows.len() > MATRIX_MAX_SIDE || rows[0].len() > MATRIX_MAX_SIDE {
        return Err(format!("{name}: at most 8 rows and 8 columns here."));
    }
    Tensor::from_rows(&rows).map_err(|e| e.to_string())
}

/// One editable matrix: its name and a text area, one row a line.
#[component]
pub fn MatrixInput(
    /// Its name, e.g. "X" (also the text area's `data-name`).
    name: &'static str,
    /// The text being edited.
    text: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label class="matrix-input">
            <span>{name}</span>
            <textarea rows="4" spellcheck="false" data-name=name
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))></textarea>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGITS: ListRule = ListRule {
        noun: "logit",
        plural: "logits",
        example: "2.0, 1.0, 0.5",
        bound: 1e6,
        range: "−1,000,000 and 1,000,000",
        max_len: 40,
        too_many: "the bench shows at most 40",
    };

    #[test]
    fn rows_split_on_commas_and_spaces() {
        assert_eq!(parse_row::<f64>(" 1, 2  −3 ", 10.0), Ok(vec![1.0, 2.0, -3.0]));
        assert_eq!(parse_row::<f32>("0.1", 10.0), Ok(vec![0.1f32]));
        assert_eq!(parse_row::<f64>("1 x", 10.0), Err(BadNumber::NotANumber("x".into())));
        assert_eq!(parse_row::<f64>("11", 10.0), Err(BadNumber::OutOfRange("11".into())));
        assert_eq!(parse_row::<f32>("1e40", 1e4), Err(BadNumber::OutOfRange("1e40".into())));
        assert_eq!(parse_row::<f64>("NaN", 10.0), Err(BadNumber::OutOfRange("NaN".into())));
        assert_eq!(parse_row::<f64>("", 10.0), Ok(vec![]));
    }

    #[test]
    fn lists_say_what_is_wrong() {
        assert_eq!(parse_list::<f64>("2.0, 1.0, 0.5", &LOGITS), Ok(vec![2.0, 1.0, 0.5]));
        assert_eq!(
            parse_list::<f64>("", &LOGITS).unwrap_err(),
            "Enter at least one logit, e.g. 2.0, 1.0, 0.5."
        );
        assert_eq!(parse_list::<f64>("1, x", &LOGITS).unwrap_err(), "“x” is not a number.");
        assert_eq!(
            parse_list::<f64>("2e6", &LOGITS).unwrap_err(),
            "“2e6”: keep logits between −1,000,000 and 1,000,000."
        );
        assert_eq!(
            parse_list::<f64>(&"1 ".repeat(41), &LOGITS).unwrap_err(),
            "41 logits: the bench shows at most 40."
        );
    }

    #[test]
    fn bad_matrices_say_what_is_wrong() {
        assert_eq!(parse_matrix("X", "1 2\n3").unwrap_err(), "X, row 2: 1 numbers, but row 1 has 2.");
        assert_eq!(parse_matrix("X", "1 abc").unwrap_err(), "X, row 1: “abc” is not a number.");
        assert_eq!(parse_matrix("X", "  \n ").unwrap_err(), "X is empty.");
        assert!(parse_matrix("X", "1e40").unwrap_err().contains("between"));
        assert!(parse_matrix("X", "NaN").is_err());
        assert_eq!(parse_matrix("X", &"1 ".repeat(9)).unwrap_err(), "X: at most 8 rows and 8 columns here.");
        assert_eq!(parse_matrix("X", "1 2\n3 4").unwrap().shape, vec![2, 2]);
    }
}
