//! Chapter 10's probes: linear classifiers trained in the page on the frozen tiny GPT's
//! residual stream (after the embeddings and after each layer) for five properties of the
//! held-out text, beside Hewitt and Liang's control task and a randomly initialised model of
//! the same shape, from `engine::labs::probes`.

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::labs::logit_lens::held_out_slice;
use engine::labs::probes::{ProbeRun, Variant, POSITIONS, STEPS, TASKS, VARIANTS};

use crate::controls::number_field::with_commas;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::hooks::tiny_gpt::{use_tiny_gpt, ModelState};

const TICK: Duration = Duration::from_millis(16);

/// What the page shows of a run.
#[derive(Clone, Debug, Default, PartialEq)]
struct Shown {
    /// `[task][variant][stream]`.
    accuracy: Vec<Vec<Vec<Option<f64>>>>,
    majority: Vec<f64>,
    finished: usize,
    total: usize,
}

fn shown(run: &ProbeRun) -> Shown {
    Shown {
        accuracy: run.accuracy.clone(),
        majority: run.majority(),
        finished: run.finished(),
        total: run.total(),
    }
}

fn pct(a: Option<f64>) -> String {
    a.map(|a| format!("{:.1}", 100.0 * a)).unwrap_or_else(|| "…".into())
}

/// The widget.
#[component]
pub fn Probes() -> impl IntoView {
    let model = use_tiny_gpt();
    let text = RwSignal::new_local(None::<Result<Rc<String>, String>>);
    let run = StoredValue::new_local(None::<ProbeRun>);
    let view_of = RwSignal::new(None::<Shown>);
    let running = RwSignal::new(false);
    let message = RwSignal::new(String::new());

    spawn_local(async move {
        text.set(Some(crate::hooks::play_text::play_text().await));
    });

    let start = move || {
        message.set(String::new());
        let gpt = match model.ready_untracked() {
            Ok(gpt) => gpt,
            Err(e) => return message.set(e),
        };
        let t = match text.get_untracked() {
            Some(Ok(t)) => t,
            Some(Err(e)) => return message.set(e),
            None => return message.set("The held-out text is still downloading.".into()),
        };
        let ckpt = &gpt.checkpoint;
        let prepared = held_out_slice(&t, &ckpt.vocab).and_then(|ids| {
            let chars: Vec<char> = ckpt.vocab.decode(&ids).map_err(|e| format!("{e}."))?.chars().collect();
            ProbeRun::new(&ckpt.model, &chars, &ids).map_err(|e| format!("{e}."))
        });
        match prepared {
            Ok(r) => {
                view_of.set(Some(shown(&r)));
                run.set_value(Some(r));
                running.set(true);
            }
            Err(e) => message.set(e),
        }
    };
    use_interval(running, TICK, move || {
        let update = run.try_update_value(|slot| {
            let r = slot.as_mut()?;
            r.step();
            Some((shown(r), r.done()))
        });
        match update.flatten() {
            Some((s, done)) => {
                view_of.set(Some(s));
                if done {
                    running.set(false);
                }
            }
            None => running.set(false),
        }
    });

    let streams = move || match model.get() {
        ModelState::Ready(gpt) => {
            let n = gpt.checkpoint.model.config.n_layers;
            std::iter::once("embeddings".to_string())
                .chain((1..=n).map(|l| format!("after layer {l}")))
                .collect()
        }
        _ => vec!["embeddings".to_string(), "after layer 1".into(), "after layer 2".into()],
    };

    let table = move || {
        let s = view_of.get()?;
        let names: Vec<String> = streams();
        let rows = TASKS.iter().enumerate().flat_map(|(t, task)| {
            let s = s.clone();
            names.clone().into_iter().enumerate().map(move |(k, name)| {
                let get = |v: Variant| {
                    let vi = VARIANTS.iter().position(|&x| x == v).unwrap_or(0);
                    s.accuracy.get(t).and_then(|a| a[vi].get(k).copied().flatten())
                };
                let (real, control, random) = (get(Variant::Real), get(Variant::Control), get(Variant::RandomModel));
                let selectivity = real.zip(control).map(|(r, c)| format!("{:+.1}", 100.0 * (r - c)).replace('-', "−"));
                let first = k == 0;
                view! {
                    <tr class:group-start=first>
                        <th scope="row">{if first { task.name().to_string() } else { String::new() }}</th>
                        <td>{name}</td>
                        <td data-value=format!("pr-real-{t}-{k}")>{pct(real)}</td>
                        <td data-value=format!("pr-control-{t}-{k}")>{pct(control)}</td>
                        <td data-value=format!("pr-sel-{t}-{k}")>{selectivity.unwrap_or_else(|| "…".into())}</td>
                        <td data-value=format!("pr-random-{t}-{k}")>{pct(random)}</td>
                        <td data-value=first.then(|| format!("pr-majority-{t}"))>{if first { format!("{:.1}", 100.0 * s.majority[t]) } else { String::new() }}</td>
                    </tr>
                }
            }).collect::<Vec<_>>()
        }).collect_view();
        Some(view! {
            <div class="lens-scroll">
                <table class="lens-scores probe-table">
                    <thead><tr>
                        <th scope="col">"label"</th><th scope="col">"stream"</th><th scope="col">"probe %"</th>
                        <th scope="col">"control %"</th><th scope="col">"selectivity"</th><th scope="col">"random model %"</th><th scope="col">"majority %"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        })
    };
    let status = move || {
        view_of.get().map(|s| {
            if s.finished < s.total {
                format!("Trained {} of {} probes…", s.finished, s.total)
            } else {
                format!("Trained all {} probes.", s.total)
            }
        })
    };

    view! {
        <WidgetFrame class="probes" label="Probes" title="Live: linear probes on the tiny GPT" badge="CPU · engine::labs::probes">
            <div class="bp-controls">
                <button class="primary" data-name="pr-train" disabled=move || running.get() on:click=move |_| start()>"Train the probes"</button>
                <span class="field-error" role="status" data-error-for="pr-train">{move || message.get()}</span>
            </div>
            <p class="bp-status" role="status" data-status="pr">{status}</p>
            {table}
            <p class="widget-note">{format!("Each probe is a softmax regression on the 64 numbers of one stream, trained with {STEPS} full-batch Adam steps on the first three quarters of the first {} held-out characters and scored on the last quarter (512 characters). The control task gives every character type one random label, drawn with the real labels' frequencies; selectivity is probe minus control accuracy. The random model has the same shape, freshly initialised with seed 1.", with_commas(POSITIONS as u64))}</p>
        </WidgetFrame>
    }
}
