//! Chapter 5's generation lab: the tiny GPT continues a prompt, one character per frame, by
//! greedy decoding or sampling; or beam search lays out every candidate it weighed as a tree.
//! Every token comes from `engine::models::generate`.

use leptos::prelude::*;

use crate::hooks::interval::use_interval;

use engine::models::generate::{beam_search, BeamTree, Decoding, Generator};
use engine::models::vocab::visible;

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{is_whole_in, rule, SignalField};
use crate::controls::slider::{set, Slider};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState};
use crate::plot::tree::tree_layout;

/// The prompt the lab starts with: a speaker's name, as the plays print them.
pub const DEFAULT_PROMPT: &str = "Ham.\nTo be, or not";
/// The most characters one press of "Generate" writes.
pub const MAX_LENGTH: usize = 600;

/// How the lab picks each next character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Greedy,
    Sample,
    Beam,
}

impl Choosable for Mode {
    fn all() -> &'static [Self] {
        &[Mode::Sample, Mode::Greedy, Mode::Beam]
    }
    fn value(self) -> &'static str {
        match self {
            Mode::Sample => "sample",
            Mode::Greedy => "greedy",
            Mode::Beam => "beam",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Mode::Sample => "sample",
            Mode::Greedy => "greedy",
            Mode::Beam => "beam search",
        }
    }
}

/// The widget.
#[component]
pub fn GenerationLab() -> impl IntoView {
    let model = use_tiny_gpt();
    let prompt = RwSignal::new(DEFAULT_PROMPT.to_string());
    let mode = RwSignal::new(Mode::Sample);
    let temperature = RwSignal::new(0.8f64);
    let top_k = RwSignal::new(20.0f64);
    let top_p = RwSignal::new(0.95f64);
    let seed = RwSignal::new(1.0f64);
    let length = RwSignal::new(200.0f64);
    let width = RwSignal::new(3.0f64);
    let beam_steps = RwSignal::new(8.0f64);

    // The stream: generated characters with the probability each was drawn with.
    let output = RwSignal::new(Vec::<(char, f64)>::new());
    let generator = StoredValue::new(None::<Generator>);
    let running = RwSignal::new(false);
    let message = RwSignal::new(String::new());
    let tree = RwSignal::new(None::<(BeamTree, Vec<char>)>);

    let vocab_size = Signal::derive(move || match model.get() {
        ModelState::Ready(gpt) => gpt.checkpoint.vocab.len() as f64,
        _ => 1.0,
    });
    let prompt_error = Memo::new(move |_| match model.get() {
        ModelState::Ready(gpt) => {
            gpt.checkpoint.vocab.encode_prompt(&prompt.get()).map_err(|e| format!("{e}.")).err()
        }
        _ => None,
    });
    let decoding = move || match mode.get_untracked() {
        Mode::Greedy => Decoding::Greedy,
        _ => Decoding::Sample {
            temperature: temperature.get_untracked(),
            top_k: top_k.get_untracked() as usize,
            top_p: top_p.get_untracked(),
        },
    };

    let start = move || {
        running.set(false);
        output.set(Vec::new());
        message.set(String::new());
        tree.set(None);
        let gpt = match model.ready_untracked() {
            Ok(gpt) => gpt,
            Err(e) => return message.set(e),
        };
        let ids =
            match gpt.checkpoint.vocab.encode_prompt(&prompt.get_untracked()).map_err(|e| format!("{e}.")) {
                Ok(ids) => ids,
                Err(e) => return message.set(e),
            };
        if mode.get_untracked() == Mode::Beam {
            let chars = gpt.checkpoint.vocab.chars().to_vec();
            match beam_search(
                &gpt.checkpoint.model,
                &ids,
                width.get_untracked() as usize,
                beam_steps.get_untracked() as usize,
            ) {
                Ok(t) => tree.set(Some((t, chars))),
                Err(e) => message.set(format!("{e}.")),
            }
            return;
        }
        match Generator::new(&gpt.checkpoint.model, &ids, decoding(), seed.get_untracked() as u64, true) {
            Ok(g) => {
                generator.set_value(Some(g));
                running.set(true);
            }
            Err(e) => message.set(format!("{e}.")),
        }
    };

    // One character per frame while running.
    use_interval(running, std::time::Duration::from_millis(16), move || {
        let ModelState::Ready(gpt) = model.get_untracked() else { return };
        if output.with_untracked(Vec::len) >= length.get_untracked() as usize {
            running.set(false);
            return;
        }
        let step = generator.try_update_value(|g| g.as_mut().map(|g| g.next_token(&gpt.checkpoint.model)));
        match step.flatten() {
            Some(Ok(t)) => {
                let c = gpt.checkpoint.vocab.chars().get(t.token).copied().unwrap_or('?');
                output.update(|o| o.push((c, t.probability)));
            }
            Some(Err(e)) => {
                running.set(false);
                message.set(format!("{e}."));
            }
            None => running.set(false),
        }
    });

    let model_note = move || match model.get() {
        ModelState::Loading => "Downloading the shipped model…".to_string(),
        ModelState::Failed(e) => e,
        ModelState::Ready(gpt) => format!(
            "Model: {}. {} characters, context {}.",
            gpt.origin.describe(),
            gpt.checkpoint.vocab.len(),
            gpt.checkpoint.model.config.context
        ),
    };
    let seed_rule = |v: f64| rule(is_whole_in(v, 0.0, 1e15), "The seed is a whole number from 0 to 10^15.");

    view! {
        <WidgetFrame class="generation" label="Generate text with the tiny GPT" title="Live: the tiny GPT writes" badge="CPU · engine::models::generate">
            <p class="widget-note" data-value="gen-model">{model_note}</p>
            <label class="prompt-input">"prompt "
                <textarea data-name="gen-prompt" rows="2" spellcheck="false" prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
            </label>
            <span class="field-error" role="status" data-error-for="gen-prompt">{move || prompt_error.get()}</span>
            <div class="xor-controls">
                <Choice label="decoding" name="gen-mode" value=mode on_change=Callback::new(move |m| mode.set(m)) />
                <SignalField label="seed" name="gen-seed" signal=seed check=seed_rule />
            </div>
            <div class="sliders">
                <Show when=move || mode.get() == Mode::Sample>
                    <Slider label="temperature T" name="gen-temperature" value=temperature on_change=set(temperature) min=0.05 max=Signal::derive(|| 2.0) step=0.05 format=|v| format!("{v:.2}") />
                    <Slider label="top-k" name="gen-top-k" value=top_k on_change=set(top_k) min=1.0 max=vocab_size step=1.0 format=|v| format!("{v:.0}") />
                    <Slider label="top-p" name="gen-top-p" value=top_p on_change=set(top_p) min=0.05 max=Signal::derive(|| 1.0) step=0.01 format=|v| format!("{v:.2}") />
                </Show>
                <Show when=move || mode.get() != Mode::Beam>
                    <Slider label="characters" name="gen-length" value=length on_change=set(length) min=1.0 max=Signal::derive(|| MAX_LENGTH as f64) step=1.0 format=|v| format!("{v:.0}") />
                </Show>
                <Show when=move || mode.get() == Mode::Beam>
                    <Slider label="beam width" name="gen-width" value=width on_change=set(width) min=1.0 max=Signal::derive(|| 5.0) step=1.0 format=|v| format!("{v:.0}") />
                    <Slider label="steps" name="gen-steps" value=beam_steps on_change=set(beam_steps) min=1.0 max=Signal::derive(|| 16.0) step=1.0 format=|v| format!("{v:.0}") />
                </Show>
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="gen-go" on:click=move |_| start()>{move || if mode.get() == Mode::Beam { "Search" } else { "Generate" }}</button>
                <button data-name="gen-stop" disabled=move || !running.get() on:click=move |_| running.set(false)>"Stop"</button>
                <span class="field-error" role="status" data-value="gen-message">{move || message.get()}</span>
            </div>
            <Show when=move || mode.get() != Mode::Beam>
                <pre class="gen-output" data-value="gen-output" aria-live="off"><span class="gen-prompt">{move || prompt.get()}</span>{move || output.get().into_iter().map(|(c, p)| {
                    let title = format!("{:?}: p = {p:.3}", c);
                    view! { <span class="gen-char" class:unlikely=p < 0.2 title=title>{c.to_string()}</span> }
                }).collect_view()}</pre>
                <p class="widget-note">{move || { let n = output.with(Vec::len); if n == 0 { String::new() } else { format!("{n} characters generated. Faded characters were drawn with probability below 0.2; hover one to see its probability.") } }}</p>
            </Show>
            <Show when=move || mode.get() == Mode::Beam>
                {move || tree.get().map(|(t, chars)| view! { <BeamTreeView tree=t chars=chars /> })}
            </Show>
        </WidgetFrame>
    }
}

/// The beam-search tree: kept candidates solid, pruned ones faint, the winning path bold.
#[component]
fn BeamTreeView(tree: BeamTree, chars: Vec<char>) -> impl IntoView {
    let layout = tree_layout(&tree);
    let label = |token: usize| chars.get(token).map_or("?".to_string(), |&c| visible(c));
    let on_best = tree.on_best_path();
    let best_text: String = tree.best.iter().map(|&t| chars.get(t).copied().unwrap_or('?')).collect();
    let tree_name = format!(
        "Beam search tree: {} candidates over {} steps, {} kept; the best continuation, “{}”, has log-probability {:.3}.",
        tree.nodes.len(),
        tree.best.len(),
        tree.kept_count(),
        best_text,
        tree.best_log_prob
    );
    let edges = tree.nodes.iter().enumerate().map(|(i, n)| {
        let (x1, y1, x2, y2) = layout.edges[i];
        view! { <line class="beam-edge" class:kept=n.kept class:best=on_best[i] x1=x1 y1=y1 x2=x2 y2=y2 /> }
    }).collect_view();
    let nodes = tree.nodes.iter().enumerate().map(|(i, n)| {
        let (x, y) = layout.points[i];
        let text = format!("{} {:.2}", label(n.token), n.log_prob);
        let aria = format!("step {}: {} with log-probability {:.3}, {}", n.step + 1, label(n.token), n.log_prob, if n.kept { "kept" } else { "pruned" });
        view! {
            <g class="beam-node" class:kept=n.kept class:best=on_best[i] tabindex="0" aria-label=aria.clone()>
                <title>{aria.clone()}</title>
                <text x=x y=y + 4.0 text-anchor="middle">{text}</text>
            </g>
        }
    }).collect_view();
    view! {
        <div class="beam-tree-box">
            <svg class="beam-tree" width=layout.width height=layout.height viewBox=format!("0 0 {} {}", layout.width, layout.height) role="img" aria-label=tree_name>
                {edges}
                <text class="beam-root" x=layout.root.0 y=layout.root.1 + 4.0 text-anchor="middle">"prompt"</text>
                {nodes}
            </svg>
        </div>
        <p class="widget-note" data-value="gen-beam-best">{format!("Best after {} steps: “{}” (log-probability {:.3}). {} candidates weighed, {} kept.", tree.best.len(), best_text, tree.best_log_prob, tree.nodes.len(), tree.kept_count())}</p>
    }
}
