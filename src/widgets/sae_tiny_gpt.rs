//! Chapter 10's sparse autoencoder on the tiny GPT: an SAE trained in the page on the
//! residual stream of 4,096 held-out characters, with reconstruction, sparsity, dead and dense
//! latents, the contexts where a chosen latent fires most, and latents worth reading first
//! (those whose top contexts agree), from `engine::labs::sparse_autoencoder`.

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::labs::logit_lens::held_out_slice;
use engine::labs::sparse_autoencoder::{
    dead_and_dense, gpt_sae_config, Context, GptSae, SaeConfig, Stats, Suggestion, DENSE_FRACTION,
    GPT_POSITIONS, SUGGESTIONS,
};

use crate::browser::now_ms;
use crate::controls::number_field::{self, is_whole_in, rule, ConfigField, NumberField};
use crate::controls::slider::Slider;
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::hooks::tiny_gpt::use_tiny_gpt;
use crate::plot::sae::{RunPoint, SaeCurves, SaeTradeoff};

/// Steps in a full run.
pub const RUN_STEPS: usize = 1000;
/// Milliseconds of training per timer tick, so the page stays responsive.
const TICK_BUDGET_MS: f64 = 40.0;
const TICK: Duration = Duration::from_millis(16);

fn latents_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 16.0, 1024.0), "A whole number of latents from 16 to 1,024.")
}

fn latent_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, 1023.0), "A whole latent number from 0 to 1,023.")
}

/// Settings the reader picks: the SAE's, and which stream it reads.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Settings {
    sae: SaeConfig,
    stream: usize,
}

/// What the page shows of a run.
#[derive(Clone, Debug, Default, PartialEq)]
struct Shown {
    steps: usize,
    history: Vec<Stats>,
    /// Over all the characters, once the run stops.
    eval: Option<(Stats, usize, usize)>,
    fires: Vec<usize>,
    contexts: Vec<Context>,
    /// Latents whose top contexts agree, once the run stops.
    suggestions: Vec<Suggestion>,
    latents: usize,
}

fn stream_name(s: usize) -> String {
    if s == 0 {
        "after the embeddings".into()
    } else {
        format!("after layer {s}")
    }
}

/// The widget.
#[component]
pub fn SaeTinyGpt() -> impl IntoView {
    let model = use_tiny_gpt();
    let text = RwSignal::new_local(None::<Result<Rc<String>, String>>);
    let settings = RwSignal::new(Settings { sae: gpt_sae_config(64, 1), stream: 1 });
    let run = StoredValue::new_local(None::<GptSae>);
    let shown = RwSignal::new(None::<Shown>);
    let latent = RwSignal::new(0.0f64);
    let running = RwSignal::new(false);
    let message = RwSignal::new(String::new());
    let finished = RwSignal::new(Vec::<RunPoint>::new());

    spawn_local(async move {
        text.set(Some(crate::hooks::play_text::play_text().await));
    });

    let refresh = move |full: bool| {
        let k = latent.get_untracked() as usize;
        let s = run.with_value(|r| {
            r.as_ref().map(|r| {
                let (eval, fires) = if full {
                    let (stats, fires) = r.evaluate();
                    let (dead, dense) = dead_and_dense(&fires, r.rows());
                    (Some((stats, dead, dense)), fires)
                } else {
                    (None, Vec::new())
                };
                Shown {
                    steps: r.sae.steps(),
                    history: r.sae.history.clone(),
                    eval,
                    fires,
                    contexts: if full { r.top_contexts(k) } else { Vec::new() },
                    suggestions: if full { r.suggestions(SUGGESTIONS) } else { Vec::new() },
                    latents: r.sae.config.latents,
                }
            })
        });
        shown.set(s);
    };

    let reset = move || {
        running.set(false);
        run.set_value(None);
        shown.set(None);
        message.set(String::new());
    };
    Effect::new(move |first: Option<()>| {
        settings.track();
        if first.is_some() {
            reset();
        }
    });
    // A new latent number shows its contexts at once when the run has stopped.
    Effect::new(move |first: Option<()>| {
        latent.track();
        if first.is_some()
            && !running.get_untracked()
            && shown.with_untracked(|s| s.as_ref().is_some_and(|s| s.eval.is_some()))
        {
            let k = latent.get_untracked() as usize;
            let contexts = run.with_value(|r| r.as_ref().map(|r| r.top_contexts(k)).unwrap_or_default());
            shown.update(|s| {
                if let Some(s) = s {
                    s.contexts = contexts;
                }
            });
        }
    });

    let start = move || {
        message.set(String::new());
        if run.with_value(|r| r.is_some()) {
            running.set(true);
            return;
        }
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
        let s = settings.get_untracked();
        let d = ckpt.model.config.d_model;
        let prepared = held_out_slice(&t, &ckpt.vocab).and_then(|ids| {
            let chars: Vec<char> = ckpt.vocab.decode(&ids).map_err(|e| format!("{e}."))?.chars().collect();
            GptSae::new(&ckpt.model, &ids, &chars, s.stream, SaeConfig { inputs: d, ..s.sae })
        });
        match prepared {
            Ok(r) => {
                run.set_value(Some(r));
                refresh(false);
                running.set(true);
            }
            Err(e) => message.set(format!("Cannot train this setup: {e}")),
        }
    };

    use_interval(running, TICK, move || {
        let begin = now_ms();
        let outcome = run.try_update_value(|slot| {
            let r = slot.as_mut()?;
            let mut result = Ok(());
            while r.sae.steps() < RUN_STEPS && now_ms() - begin < TICK_BUDGET_MS {
                result = r.train(1);
                if result.is_err() {
                    break;
                }
            }
            Some((result, r.sae.steps() >= RUN_STEPS))
        });
        match outcome.flatten() {
            Some((Ok(()), false)) => refresh(false),
            Some((Ok(()), true)) => {
                running.set(false);
                refresh(true);
                let l1 = f64::from(settings.get_untracked().sae.l1);
                if let Some((stats, _, _)) = shown.with_untracked(|s| s.as_ref().and_then(|s| s.eval)) {
                    let point = RunPoint { l1, l0: f64::from(stats.l0), mse: f64::from(stats.mse) };
                    finished.update(|f| f.push(point));
                }
            }
            Some((Err(e), _)) => {
                running.set(false);
                message.set(format!("{e} Lower λ or reset."));
                refresh(false);
            }
            None => running.set(false),
        }
    });
    let done = move || shown.with(|s| s.as_ref().is_some_and(|s| s.steps >= RUN_STEPS));

    let pause = move || {
        running.set(false);
        refresh(true);
    };

    let history =
        Signal::derive(move || shown.with(|s| s.as_ref().map(|s| s.history.clone()).unwrap_or_default()));
    let l1 = Signal::derive(move || settings.with(|s| s.sae.l1 as f64));
    let eval_value = move |f: fn(&(Stats, usize, usize)) -> String| {
        move || shown.with(|s| s.as_ref().and_then(|s| s.eval.as_ref()).map(f).unwrap_or_else(|| "–".into()))
    };

    let contexts = move || {
        shown.with(|s| {
            let s = s.as_ref()?;
            s.eval.as_ref()?;
            let k = latent.get() as usize;
            if k >= s.latents {
                return Some(view! { <p class="field-error" data-error-for="sae-gpt-latent-range">{format!("This SAE has latents 0 to {}.", s.latents - 1)}</p> }.into_any());
            }
            let fires = s.fires.get(k).copied().unwrap_or(0);
            let head = format!("Latent {k} is active on {} of {} characters.", number_field::with_commas(fires as u64), number_field::with_commas(GPT_POSITIONS as u64));
            let rows = s.contexts.iter().enumerate().map(|(i, c)| {
                let before = c.before.replace('\n', "↵");
                let at = if c.at == '\n' { "↵".to_string() } else if c.at == ' ' { "␣".to_string() } else { c.at.to_string() };
                view! {
                    <li>
                        <code class="sae-context"><span>{before}</span><mark data-value=format!("sae-gpt-at-{i}")>{at}</mark></code>
                        <span class="sae-act" data-value=format!("sae-gpt-act-{i}")>{format!("{:.3}", c.activation)}</span>
                    </li>
                }
            }).collect_view();
            Some(view! {
                <p data-value="sae-gpt-fires">{head}</p>
                <ol class="sae-contexts">{rows}</ol>
            }.into_any())
        })
    };

    let suggestions = move || {
        shown.with(|s| {
            let s = s.as_ref().filter(|s| s.eval.is_some())?;
            if s.suggestions.is_empty() {
                return Some(view! { <p class="widget-note" data-value="sae-gpt-suggest-none">"No latent's strongest contexts agree on one character yet."</p> }.into_any());
            }
            let buttons = s.suggestions.iter().enumerate().map(|(i, g)| {
                let k = g.latent;
                view! { <button data-name=format!("sae-gpt-suggest-{i}") data-latent=k.to_string() on:click=move |_| latent.set(k as f64)>{g.describe()}</button> }
            }).collect_view();
            Some(view! {
                <p class="widget-note">"Latents whose strongest contexts agree, most agreement first; pick one to read its contexts:"</p>
                <div class="sae-suggest">{buttons}</div>
            }.into_any())
        })
    };

    view! {
        <WidgetFrame class="sae sae-gpt" label="Sparse autoencoder on the tiny GPT" title="Live: a sparse autoencoder on the tiny GPT's residual stream" badge="CPU · engine::labs::sparse_autoencoder">
            <div class="xor-controls">
                <label class="an-select">"stream "
                    <select data-name="sae-gpt-stream" on:change=move |ev| { if let Ok(k) = event_target_value(&ev).parse::<usize>() { settings.update(|s| s.stream = k) } }>
                        {(0..=2).map(|k| view! { <option value=k.to_string() selected=move || settings.with(|s| s.stream) == k>{stream_name(k)}</option> }).collect_view()}
                    </select>
                </label>
                <Slider label="λ" symbol=true name="sae-gpt-l1" min=-3.0 max=Signal::derive(|| 1.0) step=0.05 log=true value=l1
                    on_change=Callback::new(move |v: f64| settings.update(|s| s.sae.l1 = v as f32)) format=|v| format!("{v:.3}") />
                <ConfigField label="latents" name="sae-gpt-latents" config=settings get=|s| s.sae.latents as f64 set=|s, v| s.sae.latents = v as usize check=latents_rule />
                <ConfigField label="seed" name="sae-gpt-seed" config=settings get=|s| s.sae.seed as f64 set=|s, v| s.sae.seed = v as u64 check=number_field::seed />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="sae-gpt-train" disabled=done
                    on:click=move |_| if running.get_untracked() { pause() } else { start() }>
                    {move || if running.get() { "Pause" } else if done() { "Finished" } else if shown.with(|s| s.is_none()) { "Train 1,000 steps" } else { "Resume" }}
                </button>
                <button data-name="sae-gpt-reset" on:click=move |_| reset()>"Reset"</button>
                <span class="field-error" role="status" data-error-for="sae-gpt-train">{move || message.get()}</span>
            </div>
            <p class="bp-status" role="status" data-status="sae-gpt">{move || shown.with(|s| s.as_ref().map(|s| {
                if s.steps >= RUN_STEPS { format!("Finished {RUN_STEPS} steps.") } else { format!("Step {} of {}…", s.steps, number_field::with_commas(RUN_STEPS as u64)) }
            }))}</p>
            <dl class="bp-values">
                <div><dt>"steps"</dt><dd data-value="sae-gpt-steps">{move || shown.with(|s| s.as_ref().map(|s| s.steps.to_string()).unwrap_or_else(|| "–".into()))}</dd></div>
                <div><dt>"MSE"</dt><dd data-value="sae-gpt-mse">{eval_value(|e| format!("{:.5}", e.0.mse))}</dd></div>
                <div><dt>"L0 (active latents)"</dt><dd data-value="sae-gpt-l0">{eval_value(|e| format!("{:.3}", e.0.l0))}</dd></div>
                <div><dt>"variance explained"</dt><dd data-value="sae-gpt-fve">{eval_value(|e| format!("{:.4}", e.0.explained))}</dd></div>
                <div><dt>"dead latents"</dt><dd data-value="sae-gpt-dead">{eval_value(|e| e.1.to_string())}</dd></div>
                <div><dt>"dense latents"</dt><dd data-value="sae-gpt-dense">{eval_value(|e| e.2.to_string())}</dd></div>
            </dl>
            <SaeCurves history=history l0_caption="L0: latents active per character." />
            <h4 class="lab-subtitle">"Sparsity against reconstruction, across λ"</h4>
            <SaeTradeoff runs=finished current=l1 prefix="sae-gpt" unit="character" />
            {suggestions}
            <div class="xor-controls">
                <NumberField label="latent" name="sae-gpt-latent" value=Signal::derive(move || latent.get())
                    on_change=Callback::new(move |v| latent.set(v)) check=latent_rule />
                <button data-name="sae-gpt-prev" on:click=move |_| latent.update(|k| *k = (*k - 1.0).max(0.0))>"previous"</button>
                <button data-name="sae-gpt-next" on:click=move |_| latent.update(|k| *k = (*k + 1.0).min(1023.0))>"next"</button>
            </div>
            <div class="sae-top">
                {move || contexts().unwrap_or_else(|| view! { <p class="widget-note">"The contexts where the chosen latent is most active appear here when the run stops."</p> }.into_any())}
            </div>
            <p class="widget-note">{format!(
                "The vectors are the residual stream of the first {} held-out characters, scaled by one number so that their mean squared length is 64. Adam, {} vectors a step; decoder directions rescaled to length 1 after each step. Statistics are over all {} characters; a latent is dead if never active, dense if active on more than {:.0}% of them. The highlighted character is where the latent fires; the 20 before it are its context.",
                number_field::with_commas(GPT_POSITIONS as u64), gpt_sae_config(64, 1).batch, number_field::with_commas(GPT_POSITIONS as u64), 100.0 * DENSE_FRACTION
            )}</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_have_clear_limits() {
        assert!(latents_rule(8.0).is_err() && latents_rule(2000.0).is_err() && latents_rule(256.0).is_ok());
        assert!(latent_rule(-1.0).is_err() && latent_rule(1.5).is_err() && latent_rule(9.0).is_ok());
        assert_eq!(stream_name(0), "after the embeddings");
        assert_eq!(stream_name(2), "after layer 2");
    }
}
