//! Chapter 9's bias lab on GloVe's vectors: a gender direction from definitional pairs
//! (Bolukbasi et al.'s PCA of the centred pairs, with its explained variance), words projected
//! onto it before and after neutralizing, a pair equalized around a neutral word, and Gonen
//! and Goldberg's check that the lean survives the repair.

use engine::models::word_vectors::{
    along, bias_direction, cosine, equalize, lean_check, neutralize, LeanCheck,
};
use leptos::prelude::*;

use crate::controls::number_field::{is_whole_in, rule, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::word_vectors::{use_word_vectors, Glove, GloveState};
use crate::plot::word_map::bar_percent;

/// Everything the lab shows for one set of inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct BiasReport {
    /// The share of the pairs' variance on each of the first components.
    pub explained: Vec<f32>,
    /// Each probed word with its coordinate along the direction, before and after neutralizing.
    pub projections: Vec<(String, f32, f32)>,
    /// The equalized pair and the neutral word: cosines of the neutralized word to the first
    /// and second word of the pair, before and after equalizing.
    pub equalized: Option<EqualizeReport>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EqualizeReport {
    pub pair: (String, String),
    pub neutral: String,
    pub before: (f32, f32),
    pub after: (f32, f32),
}

/// Computes the report for typed definitional pairs, probe words and an equalize example.
pub fn bias_report(
    glove: &Glove,
    pairs: &str,
    probes: &str,
    pair: &str,
    neutral: &str,
) -> Result<BiasReport, String> {
    let v = &glove.vectors;
    let pairs = glove.pairs(pairs, 20).map_err(|e| format!("definitional pairs: {e}"))?;
    let found = bias_direction(v, &pairs)?;
    let g = &found.direction;
    let projections = glove
        .words(probes, 16)
        .map_err(|e| format!("words to project: {e}"))?
        .into_iter()
        .map(|id| (v.word(id).to_string(), along(v, id, g), cosine(&neutralize(v.unit(id), g), g)))
        .collect();
    let equalized = match (pair.trim(), neutral.trim()) {
        ("", _) | (_, "") => None,
        _ => {
            let (a, b) = *glove
                .pairs(pair, 1)
                .map_err(|e| format!("pair to equalize: {e}"))?
                .first()
                .ok_or("no pair")?;
            let word = neutralize(v.unit(v.id(neutral).map_err(|e| format!("neutral word: {e}"))?), g);
            let (a2, b2) = equalize(v.unit(a), v.unit(b), g);
            Some(EqualizeReport {
                pair: (v.word(a).to_string(), v.word(b).to_string()),
                neutral: neutral.trim().to_lowercase(),
                before: (cosine(v.unit(a), &word), cosine(v.unit(b), &word)),
                after: (cosine(&a2, &word), cosine(&b2, &word)),
            })
        }
    };
    Ok(BiasReport { explained: found.explained.iter().take(5).copied().collect(), projections, equalized })
}

/// Runs Gonen and Goldberg's check with the direction from the typed pairs.
pub fn run_lean_check(glove: &Glove, pairs: &str, per_side: usize, seed: u64) -> Result<LeanCheck, String> {
    let pairs = glove.pairs(pairs, 20).map_err(|e| format!("definitional pairs: {e}"))?;
    let found = bias_direction(&glove.vectors, &pairs)?;
    let definitional: Vec<usize> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    lean_check(&glove.vectors, &found.direction, per_side, &definitional, seed)
}

fn per_side_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 20.0, 2000.0), "Use a whole number of words per side from 20 to 2,000.")
}

/// A signed bar's CSS `left` and `width`.
fn signed_bar(value: f32) -> (String, String) {
    // Bars grow left (negative) or right (positive) from the middle of their track.
    let half = bar_percent(value.abs(), 0.0, 0.5) / 2.0;
    let left = if value >= 0.0 { 50.0 } else { 50.0 - half };
    (format!("{left:.1}%"), format!("{half:.1}%"))
}

/// The widget.
#[component]
pub fn BiasLab() -> impl IntoView {
    let glove = use_word_vectors();
    let pairs = RwSignal::new(
        "he she, man woman, his her, himself herself, boy girl, father mother, son daughter, brother sister"
            .to_string(),
    );
    let probes = RwSignal::new(
        "nurse engineer nanny programmer secretary architect dancer captain carpenter surgeon".to_string(),
    );
    let pair = RwSignal::new("grandfather grandmother".to_string());
    let neutral = RwSignal::new("doctor".to_string());
    let per_side = RwSignal::new(500.0);

    let report = Memo::new(move |_| match glove.get() {
        GloveState::Ready(g) => {
            Some(bias_report(&g, &pairs.get(), &probes.get(), &pair.get(), &neutral.get()))
        }
        _ => None,
    });
    let last = RwSignal::new(None::<BiasReport>);
    Effect::new(move |_| {
        if let Some(Ok(r)) = report.get() {
            last.set(Some(r));
        }
    });
    let check = RwSignal::new(None::<Result<LeanCheck, String>>);
    let run_check = move |_| {
        if let GloveState::Ready(g) = glove.get_untracked() {
            check.set(Some(run_lean_check(&g, &pairs.get_untracked(), per_side.get_untracked() as usize, 1)));
        }
    };

    let text_box = move |signal: RwSignal<String>, name: &'static str, label: &'static str| {
        view! { <label class="wm-field">{label}
        <input type="text" data-name=name spellcheck="false" autocomplete="off" prop:value=move || signal.get()
            on:input=move |ev| signal.set(event_target_value(&ev)) /></label> }
    };
    let explained = move || {
        last.get().map(|r| r.explained.iter().enumerate().map(|(i, &share)| {
        let width = format!("{:.1}%", bar_percent(share, 0.0, 1.0));
        view! { <tr><th scope="row">{format!("PC{}", i + 1)}</th><td class="num" data-value=format!("bias-explained-{i}")>{format!("{:.1}%", share * 100.0)}</td>
            <td class="bar-cell"><span class="cos-bar" style:width=width></span></td></tr> }
    }).collect_view())
    };
    let projections = move || {
        last.get().map(|r| {
            r.projections.iter().map(|(word, before, after)| { let (left, width) = signed_bar(*before); view! {
        <tr><th scope="row">{word.clone()}</th>
            <td class="num" data-value=format!("bias-before-{word}")>{format!("{before:+.3}")}</td>
            <td class="bar-cell signed"><span class="cos-bar" style:left=left style:width=width></span></td>
            <td class="num" data-value=format!("bias-after-{word}")>{if after.abs() < 5e-4 { "0.000".to_string() } else { format!("{after:+.3}") }}</td></tr>
    }}).collect_view()
        })
    };
    let equalized = move || {
        last.get().and_then(|r| r.equalized).map(|e| view! {
        <p class="widget-note" data-value="bias-equalize">{format!(
            "Cosine of the neutralized \u{201c}{}\u{201d} to {} and {}: {:.3} and {:.3} before equalizing, {:.3} and {:.3} after.",
            e.neutral, e.pair.0, e.pair.1, e.before.0, e.before.1, e.after.0, e.after.1)}</p>
    })
    };
    let check_view = move || {
        check.get().map(|c| match c {
        Ok(c) => view! {
            <dl class="bp-values">
                <div><dt>"classifier, original vectors"</dt><dd data-value="bias-classifier-before">{format!("{:.1}%", c.classifier_before * 100.0)}</dd></div>
                <div><dt>"classifier, neutralized"</dt><dd data-value="bias-classifier-after">{format!("{:.1}%", c.classifier_after * 100.0)}</dd></div>
                <div><dt>"same-lean neighbours, original"</dt><dd data-value="bias-neighbours-before">{format!("{:.1}%", c.neighbours_before * 100.0)}</dd></div>
                <div><dt>"same-lean neighbours, neutralized"</dt><dd data-value="bias-neighbours-after">{format!("{:.1}%", c.neighbours_after * 100.0)}</dd></div>
            </dl>
        }.into_any(),
        Err(e) => view! { <p class="field-error" role="status">{e}</p> }.into_any(),
    })
    };

    view! {
        <WidgetFrame class="bias-lab" label="Bias direction lab" title="Live: a bias direction, removed and recovered" badge="CPU · engine::models::word_vectors">
            {move || match glove.get() {
                GloveState::Loading => Some(view! { <p class="widget-note" role="status">"Downloading the word vectors (1.5 MB)…"</p> }.into_any()),
                GloveState::Failed(e) => Some(view! { <p class="field-error" role="status">{e}</p> }.into_any()),
                GloveState::Ready(_) => None,
            }}
            {text_box(pairs, "bias-pairs", "definitional pairs ")}
            {text_box(probes, "bias-probes", "words to project ")}
            <p class="field-error" data-error-for="bias" role="status">{move || report.get().and_then(|r| r.err()).map(|e| format!("{e}. Showing the last good result."))}</p>
            <div class="bpe-columns">
                <div>
                    <h4 class="lab-subtitle">"Variance of the centred pairs, by component"</h4>
                    <div class="table-wrap"><table class="wa-table"><tbody>{explained}</tbody></table></div>
                </div>
                <div>
                    <h4 class="lab-subtitle">"Coordinate along the direction (+ is the first word of each pair)"</h4>
                    <div class="table-wrap"><table class="wa-table">
                        <thead><tr><th scope="col">"word"</th><th scope="col">"before"</th><th scope="col"><span class="visually-hidden">"bar"</span></th><th scope="col">"neutralized"</th></tr></thead>
                        <tbody>{projections}</tbody></table></div>
                </div>
            </div>
            <h4 class="lab-subtitle">"Equalize a pair"</h4>
            {text_box(pair, "bias-pair", "pair ")}
            {text_box(neutral, "bias-neutral", "neutral word ")}
            {equalized}
            <h4 class="lab-subtitle">"Is the lean gone? (Gonen and Goldberg's check)"</h4>
            <div class="xor-controls">
                <SignalField label="words per side" name="bias-per-side" signal=per_side check=per_side_rule />
            </div>
            <div class="bp-controls"><button class="primary" data-name="bias-check" disabled=move || !matches!(glove.get(), GloveState::Ready(_)) on:click=run_check>"Run the check"</button></div>
            {check_view}
        </WidgetFrame>
    }
}
