//! Chapter 10's logit lens: every residual stream of the tiny GPT (after the embeddings and
//! after each attention and MLP sub-block) decoded with the final layer norm and the tied
//! unembedding, on a typed prompt position by position, and scored over held-out text, from
//! `engine::labs::logit_lens`.

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::labs::logit_lens::{held_out_slice, lens, prompt_ids, Lens, LensScore, DEFAULT_PROMPT};
use engine::models::checkpoint::Checkpoint;
use engine::models::vocab::visible;

use crate::controls::number_field::with_commas;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState};
use crate::plot::scale::sequential;

/// Held-out windows scored per animation tick (each is one forward pass of 64 characters).
const WINDOWS_PER_TICK: usize = 4;
const TICK: Duration = Duration::from_millis(16);

/// The lens on the current prompt, with the characters to label it.
#[derive(Clone, Debug)]
struct Shown {
    chars: Vec<char>,
    vocab: Vec<char>,
    lens: Lens,
}

/// The held-out score as the page shows it.
#[derive(Clone, Debug, Default, PartialEq)]
struct Score {
    losses: Vec<f64>,
    accuracies: Vec<f64>,
    scored: usize,
    total: usize,
}

fn char_label(vocab: &[char], token: usize) -> String {
    vocab.get(token).map_or("?".into(), |&c| visible(c))
}

/// The widget.
#[component]
pub fn LogitLens() -> impl IntoView {
    let model = use_tiny_gpt();
    let prompt = RwSignal::new(DEFAULT_PROMPT.to_string());
    let error = RwSignal::new(None::<String>);
    let shown = RwSignal::new(None::<Shown>);
    let position = RwSignal::new(None::<usize>);
    let text = RwSignal::new_local(None::<Result<Rc<String>, String>>);
    let score = RwSignal::new(Score::default());
    let scorer = StoredValue::new_local(None::<(Rc<Checkpoint>, LensScore)>);
    let running = RwSignal::new(false);

    // The lens on the prompt, recomputed as the reader types; bad input keeps the last view.
    Effect::new(move |_| {
        let typed = prompt.get();
        let ModelState::Ready(gpt) = model.get() else { return };
        let ckpt = &gpt.checkpoint;
        let result = prompt_ids(&ckpt.vocab, &typed, ckpt.model.config.context)
            .and_then(|ids| lens(&ckpt.model, &ids).map_err(|e| format!("{e}.")));
        match result {
            Ok(l) => {
                let chars: Vec<char> = typed.chars().collect();
                // Typing moves the selection to the end of the prompt.
                position.set(Some(chars.len() - 1));
                shown.set(Some(Shown { chars, vocab: ckpt.vocab.chars().to_vec(), lens: l }));
                error.set(None);
            }
            Err(e) => error.set(Some(e)),
        }
    });

    // The held-out text, downloaded once.
    spawn_local(async move {
        let got = crate::hooks::play_text::play_text().await;
        text.set(Some(got));
    });
    // A new model or the text arriving starts the held-out score again.
    Effect::new(move |_| {
        let ModelState::Ready(gpt) = model.get() else { return };
        let Some(Ok(t)) = text.get() else { return };
        match held_out_slice(&t, &gpt.checkpoint.vocab) {
            Ok(ids) => {
                let c = gpt.checkpoint.model.config;
                let s = LensScore::new(ids, c.context.min(64), c.n_layers);
                score.set(Score { total: s.total(), ..Score::default() });
                scorer.set_value(Some((gpt.checkpoint.clone(), s)));
                running.set(true);
            }
            Err(e) => text.set(Some(Err(e))),
        }
    });
    use_interval(running, TICK, move || {
        let update = scorer.try_update_value(|slot| {
            let (ckpt, s) = slot.as_mut()?;
            for _ in 0..WINDOWS_PER_TICK {
                if let Err(e) = s.step(&ckpt.model) {
                    return Some(Err(format!("{e}.")));
                }
            }
            Some(Ok((
                Score { losses: s.losses(), accuracies: s.accuracies(), scored: s.scored, total: s.total() },
                s.done(),
            )))
        });
        match update.flatten() {
            Some(Ok((sc, done))) => {
                score.set(sc);
                if done {
                    running.set(false);
                }
            }
            Some(Err(e)) => {
                text.set(Some(Err(e)));
                running.set(false);
            }
            None => running.set(false),
        }
    });

    let origin = move || match model.get() {
        ModelState::Loading => "Downloading the tiny GPT…".to_string(),
        ModelState::Failed(e) => e,
        ModelState::Ready(gpt) => format!("Looking inside {}.", gpt.origin.describe()),
    };

    let grid = move || {
        shown.get().map(|s| {
            let selected = position.get();
            let rows = s.lens.streams.iter().enumerate().rev().map(|(k, name)| {
                let cells = s.lens.top[k].iter().enumerate().map(|(i, guesses)| {
                    let best = guesses[0];
                    let tip = guesses.iter().map(|g| format!("{} {:.3}", char_label(&s.vocab, g.token), g.prob)).collect::<Vec<_>>().join(", ");
                    let right = s.chars.get(i + 1).is_some_and(|&c| s.vocab.get(best.token) == Some(&c));
                    let heat = sequential(f64::from(best.prob));
                    view! {
                        <td class="lens-cell heat" class:selected=selected == Some(i) class:right=right
                            style=("--heat", heat.light_css()) style=("--heat-dark", heat.dark_css())
                            style=("--ink", heat.light_ink()) style=("--ink-dark", heat.dark_ink()) title=tip
                            on:click=move |_| position.set(Some(i))>
                            {char_label(&s.vocab, best.token)}
                        </td>
                    }
                }).collect_view();
                view! { <tr><th scope="row">{name.clone()}</th>{cells}</tr> }
            }).collect_view();
            let header = s.chars.iter().enumerate().map(|(i, &c)| view! {
                <th scope="col" class:selected=selected == Some(i) on:click=move |_| position.set(Some(i))>{visible(c)}</th>
            }).collect_view();
            view! {
                <div class="lens-scroll">
                    <table class="lens-grid" data-value="lens-grid">
                        <tbody>{rows}</tbody>
                        <tfoot><tr><th scope="row">"input"</th>{header}</tr></tfoot>
                    </table>
                </div>
            }
        })
    };

    let detail = move || {
        let s = shown.get()?;
        let i = position.get()?.min(s.chars.len().saturating_sub(1));
        let next = s.chars.get(i + 1).map(|&c| visible(c));
        let heading = match &next {
            Some(n) => {
                format!("After “{}” (position {}), the next character is {n}:", visible(s.chars[i]), i + 1)
            }
            None => format!("After “{}” (position {}, the end of the prompt):", visible(s.chars[i]), i + 1),
        };
        let rows = s.lens.streams.iter().enumerate().map(|(k, name)| {
            let guesses = s.lens.top[k][i].iter().enumerate().map(|(r, g)| view! {
                <span class="lens-guess" data-value=format!("lens-top-{k}-{r}")>{format!("{} {:.3}", char_label(&s.vocab, g.token), g.prob)}</span>
            }).collect_view();
            let true_p = s.lens.next_prob[k][i].map(|p| format!("{p:.3}")).unwrap_or_else(|| "—".into());
            view! { <tr><th scope="row">{name.clone()}</th><td>{guesses}</td><td data-value=format!("lens-next-{k}")>{true_p}</td></tr> }
        }).collect_view();
        Some(view! {
            <p class="lens-heading">{heading}</p>
            <div class="lens-scroll">
                <table class="lens-detail">
                    <thead><tr><th scope="col">"stream"</th><th scope="col">"top guesses"</th><th scope="col">"P(next)"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        })
    };

    let held_out = move || {
        let sc = score.get();
        let names = match model.get() {
            ModelState::Ready(gpt) => {
                engine::models::transformer_inspect::stream_names(gpt.checkpoint.model.config.n_layers)
            }
            _ => vec![],
        };
        let max = sc.losses.iter().cloned().fold(1.0f64, f64::max);
        let rows = names.iter().enumerate().map(|(k, name)| {
            let loss = sc.losses.get(k).copied();
            let acc = sc.accuracies.get(k).copied();
            view! {
                <tr>
                    <th scope="row">{name.clone()}</th>
                    <td class="lens-bar-cell"><span class="lens-bar" style:width=format!("{:.1}%", 100.0 * loss.unwrap_or(0.0) / max)></span></td>
                    <td data-value=format!("lens-loss-{k}")>{loss.map(|l| format!("{l:.4}")).unwrap_or_default()}</td>
                    <td data-value=format!("lens-acc-{k}")>{acc.map(|a| format!("{:.1}", 100.0 * a)).unwrap_or_default()}</td>
                </tr>
            }
        }).collect_view();
        view! {
            <div class="lens-scroll">
                <table class="lens-scores">
                    <thead><tr><th scope="col">"stream"</th><th scope="col">"loss"</th><th scope="col">"nats"</th><th scope="col">"top-1 %"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    };
    let status = move || match text.get() {
        None => "Downloading the held-out text…".to_string(),
        Some(Err(e)) => e,
        Some(Ok(_)) => {
            let sc = score.get();
            if sc.total == 0 {
                String::new()
            } else if sc.scored < sc.total {
                format!(
                    "Scored {} of {} held-out characters…",
                    with_commas(sc.scored as u64),
                    with_commas(sc.total as u64)
                )
            } else {
                format!("Scored all {} held-out characters.", with_commas(sc.total as u64))
            }
        }
    };

    view! {
        <WidgetFrame class="logit-lens" label="Logit lens" title="Live: the logit lens on the tiny GPT" badge="CPU · engine::labs::logit_lens">
            <p class="widget-note">{origin}</p>
            <label class="prompt-input">"prompt "
                <textarea data-name="lens-prompt" rows="2" spellcheck="false" prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
            </label>
            <p class="field-error" data-error-for="lens-prompt" role="status">{move || error.get().map(|e| format!("{e} Showing the last good prompt."))}</p>
            {grid}
            <p class="widget-note">"Each cell is the top guess for the character after the one below it, read from that stream; the shade is its probability, and a bold cell is right. Click a column for the top three."</p>
            {detail}
            <h4 class="lab-subtitle">"Every stream on held-out text"</h4>
            <p class="bp-status" role="status" data-status="lens">{status}</p>
            {held_out}
            <p class="widget-note">{move || {
                let vocab = match model.get() { ModelState::Ready(gpt) => gpt.checkpoint.vocab.len(), _ => 0 };
                let total = score.get().total;
                format!("Mean loss of the true next character, and how often the top guess is right, over the first {} characters of the text's last tenth, which the model never trained on, in windows of 64. Guessing uniformly over the {vocab} characters costs {:.4} nats.", with_commas(total as u64), libm::log(vocab.max(1) as f64))
            }}</p>
        </WidgetFrame>
    }
}
