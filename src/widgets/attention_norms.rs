//! Chapter 10's "attention, honestly": each head of the tiny GPT on a typed prompt, its
//! attention weights beside the share of what each attended character really adds to the
//! stream (α·‖v·W_O‖, Kobayashi et al. 2020), and the prompt's loss with one head silenced,
//! from `engine::labs::attention_norms`.

use leptos::prelude::*;

use engine::labs::attention_norms::{ablate, head_maps, Ablation, HeadMaps, DEFAULT_PROMPT};
use engine::labs::logit_lens::prompt_ids;
use engine::models::vocab::visible;

use crate::controls::slider::{set, Slider};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState};
use crate::plot::attention_grid::{row_band, triangle_shades};
use crate::plot::describe::{describe_extremes, describe_grid, number, DataTable, TableText};

/// The side of one heatmap, in SVG units.
const MAP: f64 = 120.0;
/// Keys listed for the chosen query.
const LISTED: usize = 5;

/// Everything computed for one prompt.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    chars: Vec<char>,
    maps: Vec<HeadMaps>,
    /// One per head, in the order of `maps`.
    ablations: Vec<Ablation>,
    n_heads: usize,
}

/// A lower-triangular `[n, n]` map, `cells` row-major, coloured on the sequential scale by
/// value (0 to 1), with the query row outlined.
fn heatmap(n: usize, cells: &[f32], query: usize, label: String) -> impl IntoView {
    let shades = triangle_shades(cells, n, MAP)
        .into_iter()
        .map(|(heat, d)| view! {
            <path class="an-cell heat" d=d style=("--heat", heat.light_css()) style=("--heat-dark", heat.dark_css()) />
        })
        .collect_view();
    let (y, h) = row_band(n, query, MAP);
    let name = describe_grid(&label, cells, n, &[], &[]);
    view! {
        <svg class="an-map" viewBox=format!("-1 -1 {} {}", MAP + 2.0, MAP + 2.0) role="img" aria-label=name>
            <rect class="an-frame" x="0" y="0" width=MAP height=MAP />
            {shades}
            <rect class="an-query" x="0" y=format!("{y:.2}") width=MAP height=format!("{h:.2}") />
        </svg>
    }
}

/// The widget.
#[component]
pub fn AttentionNorms() -> impl IntoView {
    let model = use_tiny_gpt();
    let prompt = RwSignal::new(DEFAULT_PROMPT.to_string());
    let error = RwSignal::new(None::<String>);
    let shown = RwSignal::new(None::<Shown>);
    let chosen = RwSignal::new(1usize);
    let query = RwSignal::new(2.0f64);

    Effect::new(move |_| {
        let typed = prompt.get();
        let ModelState::Ready(gpt) = model.get() else { return };
        let ckpt = &gpt.checkpoint;
        let m = &ckpt.model;
        let result = prompt_ids(&ckpt.vocab, &typed, m.config.context).and_then(|ids| {
            if ids.len() < 2 {
                return Err("Type at least two characters, so that one of them can be predicted.".into());
            }
            let maps = head_maps(m, &ids).map_err(|e| format!("{e}."))?;
            let ablations = maps
                .iter()
                .map(|h| ablate(m, &ids, h.head).map_err(|e| format!("{e}.")))
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Shown { chars: typed.chars().collect(), maps, ablations, n_heads: m.config.n_heads })
        });
        match result {
            Ok(s) => {
                if query.get_untracked() as usize > s.chars.len() {
                    query.set(s.chars.len() as f64);
                }
                if chosen.get_untracked() >= s.maps.len() {
                    chosen.set(0);
                }
                shown.set(Some(s));
                error.set(None);
            }
            Err(e) => error.set(Some(e)),
        }
    });
    let n_max = Signal::derive(move || shown.with(|s| s.as_ref().map_or(2.0, |s| s.chars.len() as f64)));

    let head_name =
        move |s: &Shown, k: usize| format!("layer {}, head {}", k / s.n_heads + 1, k % s.n_heads + 1);

    // Every head at once: a row per layer, and per head its weights beside its shares.
    let grid = move || {
        let s = shown.get()?;
        let n = s.chars.len();
        let i = (query.get() as usize).clamp(1, n) - 1;
        let k_chosen = chosen.get();
        let layers = s.maps.len() / s.n_heads.max(1);
        let rows = (0..layers).map(|layer| {
            let cells = (0..s.n_heads).map(|h| {
                let k = layer * s.n_heads + h;
                let m = &s.maps[k];
                let shares: Vec<f32> = (0..n).flat_map(|r| m.contribution_shares(n, r)).collect();
                let name = head_name(&s, k);
                view! {
                    <button class="an-head-cell" class:selected=k == k_chosen aria-pressed=move || (chosen.get() == k).to_string()
                        data-head=k on:click=move |_| chosen.set(k)>
                        <span class="an-head-name">{format!("L{}H{}", layer + 1, h + 1)}</span>
                        <span class="an-head-maps">
                            {heatmap(n, &m.weights, i, format!("Attention weights of {name}"))}
                            {heatmap(n, &shares, i, format!("Contribution shares of {name}"))}
                        </span>
                    </button>
                }
            }).collect_view();
            view! { <div class="an-grid-row">{cells}</div> }
        }).collect_view();
        Some(view! {
            <div class="an-grid-scroll" tabindex="0" role="region" aria-label="Every head's attention weights beside its contribution shares; scroll sideways on a narrow screen">
                <div class="an-grid">{rows}</div>
            </div>
            <p class="widget-note">{format!("Each head: attention weight α on the left, share of α·‖v·W_O‖ on the right. Rows are queries (top = first character), columns are keys; every row sums to 1 in both. The outlined row is the query at position {} ({}). Click a head to silence it below.", i + 1, visible(s.chars[i]))}</p>
        })
    };

    let listing = move || {
        let s = shown.get()?;
        let k = chosen.get().min(s.maps.len() - 1);
        let m = &s.maps[k];
        let n = s.chars.len();
        let i = (query.get() as usize).clamp(1, n) - 1;
        let weights = &m.weights;
        let row_shares = m.contribution_shares(n, i);
        let mut keys: Vec<usize> = (0..=i).collect();
        keys.sort_by(|&a, &b| weights[i * n + b].total_cmp(&weights[i * n + a]).then(a.cmp(&b)));
        let listed = keys
            .into_iter()
            .take(LISTED)
            .enumerate()
            .map(|(r, j)| {
                view! {
                    <tr>
                        <td class="an-char">{format!("{} (position {})", visible(s.chars[j]), j + 1)}</td>
                        <td data-value=format!("an-weight-{r}")>{format!("{:.3}", weights[i * n + j])}</td>
                        <td data-value=format!("an-share-{r}")>{format!("{:.3}", row_shares[j])}</td>
                    </tr>
                }
            })
            .collect_view();
        Some(view! {
            <p class="widget-note">{format!("The most-weighted keys of {} at position {} ({}):", head_name(&s, k), i + 1, visible(s.chars[i]))}</p>
            <div class="lens-scroll">
                <table class="lens-scores">
                    <thead><tr><th scope="col">"key"</th><th scope="col">"weight"</th><th scope="col">"contribution share"</th></tr></thead>
                    <tbody>{listed}</tbody>
                </table>
            </div>
        })
    };

    let heads = move || {
        let s = shown.get()?;
        let n = s.chars.len();
        let k_chosen = chosen.get();
        let rows = s.maps.iter().zip(&s.ablations).enumerate().map(|(k, (m, a))| {
            let (base, silenced) = a.means();
            view! {
                <tr class:selected=k == k_chosen on:click=move |_| chosen.set(k)>
                    <th scope="row">{head_name(&s, k)}</th>
                    <td data-value=format!("an-disagree-{k}")>{m.disagreements(n)}</td>
                    <td data-value=format!("an-silenced-{k}")>{format!("{silenced:.4}")}</td>
                    <td data-value=format!("an-change-{k}")>{format!("{:+.4}", silenced - base).replace('-', "−")}</td>
                </tr>
            }
        }).collect_view();
        let base = s.ablations.first().map(|a| a.means().0).unwrap_or(0.0);
        Some(view! {
            <p class="widget-note">"Mean loss of the prompt's next characters with every head: "<span data-value="an-base">{format!("{base:.4}")}</span>" nats. Click a head to silence it."</p>
            <div class="lens-scroll">
                <table class="lens-scores an-heads">
                    <thead><tr><th scope="col">"head"</th><th scope="col">"rows where top α ≠ top share"</th><th scope="col">"loss silenced"</th><th scope="col">"change"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        })
    };

    let bars = move || {
        let s = shown.get()?;
        let k = chosen.get().min(s.ablations.len() - 1);
        let a = &s.ablations[k];
        let changes: Vec<f32> = a.base.iter().zip(&a.silenced).map(|(b, q)| q - b).collect();
        let max = changes.iter().fold(0.05f32, |m, &c| m.max(c.abs()));
        let pairs: Vec<String> = (0..changes.len())
            .map(|i| format!("{} → {}", visible(s.chars[i]), visible(s.chars[i + 1])))
            .collect();
        let values: Vec<f64> = changes.iter().map(|&c| f64::from(c)).collect();
        let name = describe_extremes(
            &format!("Change in loss, in nats, at each position when {} is silenced", head_name(&s, k)),
            &pairs,
            &values,
        );
        let rows = pairs
            .iter()
            .zip(&values)
            .enumerate()
            .map(|(i, (p, &v))| vec![(i + 1).to_string(), p.clone(), number(v)])
            .collect();
        let table = TableText {
            headers: ["position", "characters", "change (nats)"].map(String::from).to_vec(),
            rows,
        };
        let (w, h) = (480.0, 120.0);
        let bw = w / changes.len() as f64;
        let mid = h / 2.0;
        let rects = changes.iter().enumerate().map(|(i, &c)| {
            let len = f64::from(c.abs() / max) * (mid - 4.0);
            let y = if c >= 0.0 { mid - len } else { mid };
            let class = if c >= 0.0 { "an-bar hurt" } else { "an-bar helped" };
            let tip = format!(
                "{} → {}: {:+.3} nats",
                visible(s.chars[i]),
                visible(s.chars[i + 1]),
                c
            );
            // A full-height transparent strip under each bar, so that even a tiny change has a tooltip.
            view! {
                <g>
                    <title>{tip}</title>
                    <rect class="an-hit" x=format!("{:.2}", i as f64 * bw) y="0" width=format!("{bw:.2}") height=h />
                    <rect class=class x=format!("{:.2}", i as f64 * bw + 0.5) y=format!("{y:.2}") width=format!("{:.2}", (bw - 1.0).max(0.5)) height=format!("{len:.2}") />
                </g>
            }
        }).collect_view();
        Some(view! {
            <figure class="an-bars">
                <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=name>
                    <line class="axis" x1="0" x2=w y1=mid y2=mid />
                    {rects}
                    <text class="tick" x="2" y="10">{format!("+{max:.2}")}</text>
                    <text class="tick" x="2" y=h - 2.0>{format!("−{max:.2}")}</text>
                </svg>
                <figcaption>{format!("Loss change at each position when {} is silenced: up means the head was helping predict the next character. Point at a bar for its characters.", head_name(&s, k))}</figcaption>
                <DataTable table=Signal::derive(move || table.clone()) caption="Change in loss at each position with the head silenced" />
            </figure>
        })
    };

    let origin = move || match model.get() {
        ModelState::Loading => "Downloading the tiny GPT…".to_string(),
        ModelState::Failed(e) => e,
        ModelState::Ready(gpt) => format!("Looking inside {}.", gpt.origin.describe()),
    };

    view! {
        <WidgetFrame class="attention-norms" label="Attention, honestly" title="Live: attention weights against what each character contributes" badge="CPU · engine::labs::attention_norms">
            <p class="widget-note">{origin}</p>
            <label class="prompt-input">"prompt "
                <textarea data-name="an-prompt" rows="2" spellcheck="false" prop:value=move || prompt.get() on:input=move |ev| prompt.set(event_target_value(&ev))></textarea>
            </label>
            <p class="field-error" data-error-for="an-prompt" role="status">{move || error.get().map(|e| format!("{e} Showing the last good prompt."))}</p>
            <div class="sliders">
                <label class="an-select">"head "
                    <select data-name="an-head" on:change=move |ev| { if let Ok(k) = event_target_value(&ev).parse::<usize>() { chosen.set(k) } }>
                        {move || shown.get().map(|s| (0..s.maps.len()).map(|k| view! { <option value=k.to_string() selected=move || chosen.get() == k>{head_name(&s, k)}</option> }).collect_view())}
                    </select>
                </label>
                <Slider label="query position" name="an-query" value=query on_change=set(query) min=1.0 max=n_max step=1.0 format=|v| format!("{v:.0}") />
            </div>
            {grid}
            {bars}
            {listing}
            {heads}
        </WidgetFrame>
    }
}
