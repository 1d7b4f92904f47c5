//! Chapter 11's worked exercise, live: the reader edits the hidden state, the output
//! embeddings and the correct token, picks SGD or Adam's first step, and sees every number
//! of `engine::labs::one_gradient` from the logits to the new probabilities.

use leptos::prelude::*;

use engine::core::optim::Method;
use engine::labs::one_gradient::{Problem, Step};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{is_whole_in, learning_rate, rule, SignalField};
use crate::controls::number_list::{parse_matrix, parse_row, BadNumber, MatrixInput};
use crate::controls::widget_frame::WidgetFrame;

/// The update the reader picks.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    Sgd,
    Adam,
}

impl Choosable for Rule {
    fn all() -> &'static [Self] {
        &[Rule::Sgd, Rule::Adam]
    }
    fn value(self) -> &'static str {
        match self {
            Rule::Sgd => "sgd",
            Rule::Adam => "adam",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Rule::Sgd => "plain SGD",
            Rule::Adam => "Adam, first step",
        }
    }
}

/// Token names: a, b, c, ...
fn token(j: usize) -> String {
    char::from(b'a' + j as u8).to_string()
}

fn vector(v: &[f32]) -> String {
    let parts: Vec<String> = v.iter().map(|x| format!("{x:.4}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Reads the typed hidden state, in words when it is not one.
fn parse_hidden(text: &str) -> Result<Vec<f32>, String> {
    parse_row::<f32>(text, 1e4).map_err(|bad| match bad {
        BadNumber::NotANumber(t) => format!("h: “{t}” is not a number."),
        BadNumber::OutOfRange(_) => "h: keep entries between −10000 and 10000.".to_string(),
    })
}

/// The problem the inputs describe, or what is wrong with them.
fn read_problem(hidden: &str, embeddings: &str, correct: f64) -> Result<Problem, String> {
    let hidden = parse_hidden(hidden)?;
    let u = parse_matrix("U", embeddings)?;
    let (rows, cols) = (u.shape[0], u.shape[1]);
    let embeddings = (0..rows).map(|j| u.data[j * cols..(j + 1) * cols].to_vec()).collect();
    let problem = Problem { hidden, embeddings, target: correct as usize - 1 };
    problem.check()?;
    Ok(problem)
}

#[component]
pub fn OneGradient() -> impl IntoView {
    let exercise = Problem::exercise();
    let hidden = RwSignal::new("1, 2".to_string());
    let embeddings = RwSignal::new("0.5 0\n0 0.5\n0.2 0.2".to_string());
    let correct = RwSignal::new(exercise.target as f64 + 1.0);
    let eta = RwSignal::new(0.1);
    let update = RwSignal::new(Rule::Sgd);

    // The last good step, and what is wrong with the inputs now, if anything.
    let last_good = StoredValue::new(None::<Step>);
    let outcome = Memo::new(move |_| {
        let method = match update.get() {
            Rule::Sgd => Method::Sgd,
            Rule::Adam => Method::adam(),
        };
        let step = read_problem(&hidden.get(), &embeddings.get(), correct.get())
            .and_then(|p| p.step(method, eta.get() as f32));
        match step {
            Ok(s) => {
                last_good.set_value(Some(s.clone()));
                (Some(s), None)
            }
            Err(e) => (last_good.get_value(), Some(e)),
        }
    });
    let target = move || correct.get() as usize - 1;

    let table = move || {
        let (step, _) = outcome.get();
        let step = step?;
        let rows = (0..step.errors.len())
            .map(|j| {
                view! {
                    <tr class:winner=move || j == target() data-token=j>
                        <th scope="row">{token(j)}</th>
                        <td>{format!("{:.4}", step.before.logits[j])}</td>
                        <td data-value=format!("og-p-{j}")>{format!("{:.4}", step.before.probs[j])}</td>
                        <td>{format!("{:.4}", step.errors[j])}</td>
                        <td>{vector(&step.grads[j])}</td>
                        <td data-value=format!("og-u-{j}")>{vector(&step.embeddings[j])}</td>
                        <td>{format!("{:.4}", step.after.logits[j])}</td>
                        <td data-value=format!("og-p-after-{j}")>{format!("{:.4}", step.after.probs[j])}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <div class="table-wrap">
                <table class="grad-check">
                    <thead><tr>
                        <th scope="col">"token"</th><th scope="col">"logit u·h"</th><th scope="col">"p"</th>
                        <th scope="col">"error p − y"</th><th scope="col">"gradient (p − y)·h"</th>
                        <th scope="col">"new u"</th><th scope="col">"new logit"</th><th scope="col">"new p"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <dl class="bp-values">
                <div><dt>"loss before"</dt><dd data-value="og-loss">{format!("{:.4}", step.before.loss)}</dd></div>
                <div><dt>"loss after"</dt><dd data-value="og-loss-after">{format!("{:.4}", step.after.loss)}</dd></div>
            </dl>
        })
    };

    view! {
        <WidgetFrame class="one-gradient" label="One gradient through the stack" title="Live: one gradient, from logits to new probabilities" badge="CPU · engine::labs::one_gradient">
            <div class="og-inputs">
                <label class="matrix-input"><span>"h"</span>
                    <input type="text" data-name="og-h" spellcheck="false" prop:value=move || hidden.get() on:input=move |ev| hidden.set(event_target_value(&ev)) />
                </label>
                <MatrixInput name="U" text=embeddings />
            </div>
            <p class="widget-note">"One output embedding per line: a, b, c, … (up to 8 tokens, as wide as h)."</p>
            <div class="xor-controls">
                <SignalField label="correct token (line)" name="og-correct" signal=correct check=|v| rule(is_whole_in(v, 1.0, 8.0), "Use a line number from 1 to 8.") />
                <SignalField label="η" name="og-eta" signal=eta check=learning_rate />
                <Choice label="update" name="og-rule" value=update on_change=Callback::new(move |r| update.set(r)) />
            </div>
            <p class="field-error" data-error-for="og-inputs" role="status">{move || outcome.get().1.map(|e| format!("{e} Showing the last good step."))}</p>
            {table}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_inputs_are_the_exercise() {
        assert_eq!(read_problem("1, 2", "0.5 0\n0 0.5\n0.2 0.2", 1.0), Ok(Problem::exercise()));
        assert!(read_problem("1, x", "0.5 0", 1.0).unwrap_err().contains("“x”"));
        assert!(read_problem("1, 2", "0.5 0\n0 0.5", 3.0).unwrap_err().contains("one of the tokens"));
        assert!(read_problem("1, 2, 3", "0.5 0\n0 0.5", 1.0).unwrap_err().contains("Embedding 1 has 2"));
        assert_eq!((token(0), token(2)), ("a".to_string(), "c".to_string()));
        assert_eq!(vector(&[0.57336, -0.1]), "[0.5734, -0.1000]");
    }
}
