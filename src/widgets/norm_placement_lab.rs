//! Chapter 7's norm-placement lab: pre-norm and post-norm, each with and without learning-rate
//! warmup, trained side by side from the same weights on the same batches by
//! `engine::labs::norm_placement_lab`. The four loss curves grow as the runs train; the table gives each
//! run's final loss, or the step at which it diverged.

use leptos::prelude::*;

use crate::hooks::interval::use_interval;

use engine::labs::norm_placement_lab::{
    NormRace, RaceSettings, BATCH, CONTEXT, D_MODEL, FINAL_WINDOW, MAX_LAYERS,
};

use crate::browser::now_ms;
use crate::controls::number_field::{self, is_whole_in, rule, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::chart::{Chart, Series};

/// The peak learning rates the slider offers, from gentle to certain to blow up.
pub const LEARNING_RATES: [f32; 13] =
    [0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0];
/// The slider's starting position: the chapter's default, 0.03.
const DEFAULT_RATE: usize = 6;
/// Milliseconds of training per animation tick, so the page stays responsive.
const TICK_BUDGET_MS: f64 = 12.0;

/// What the page shows of a race, copied out after every tick.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Each lane's losses so far.
    pub losses: Vec<Vec<f32>>,
    /// Each lane's final loss (mean of its last steps), once it has steps and has not diverged.
    pub finals: Vec<Option<f32>>,
    /// The step at which each lane diverged, if it did.
    pub diverged_at: Vec<Option<u64>>,
    /// Each lane's gradient norm at step 0, once taken.
    pub first_grad_norms: Vec<Option<f32>>,
    /// Steps taken by the lane furthest ahead.
    pub steps: usize,
    pub done: bool,
}

impl Snapshot {
    pub fn of(race: &NormRace) -> Snapshot {
        Snapshot {
            losses: race.lanes.iter().map(|r| r.losses.clone()).collect(),
            finals: race.lanes.iter().map(|r| r.final_loss()).collect(),
            diverged_at: race.lanes.iter().map(|r| r.diverged_at).collect(),
            first_grad_norms: race.lanes.iter().map(|r| r.grad_norms.first().copied()).collect(),
            steps: race.lanes.iter().map(|r| r.losses.len()).max().unwrap_or(0),
            done: race.is_done(),
        }
    }

    /// One sentence for the status line.
    pub fn summary(&self, total_steps: u64) -> String {
        let diverged = self.diverged_at.iter().flatten().count();
        let runs = if diverged == 1 { "run" } else { "runs" };
        match (self.done, diverged) {
            (false, _) if self.steps == 0 => String::new(),
            (false, 0) => format!("Training: step {} of {total_steps}.", self.steps),
            (false, d) => format!("Training: step {} of {total_steps}; {d} {runs} diverged.", self.steps),
            (true, 0) => format!("Finished: all four runs took {total_steps} steps."),
            (true, d) => format!("Finished; {d} {runs} diverged and stopped early."),
        }
    }
}

fn depth_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, MAX_LAYERS as f64), "Use a whole number of layers from 1 to 12.")
}

fn warmup_rule(v: f64) -> Result<(), String> {
    rule(
        is_whole_in(v, 0.0, RaceSettings::default().total_steps as f64),
        "Use a whole number of steps from 0 to 200.",
    )
}

/// The widget.
#[component]
pub fn NormPlacementLab() -> impl IntoView {
    let settings = RwSignal::new(RaceSettings::default());
    let rate_index = RwSignal::new(DEFAULT_RATE);
    let race = StoredValue::new(None::<NormRace>);
    let snapshot = RwSignal::new(Snapshot::default());
    let running = RwSignal::new(false);
    let problem = RwSignal::new(String::new());
    // The reference losses of this text, from the engine: (letter frequencies, diverged line).
    let references = RwSignal::new((0.0f32, 0.0f32));

    let reset = move || {
        running.set(false);
        match NormRace::new(settings.get_untracked()) {
            Ok(r) => {
                references.set((r.unigram_loss, r.divergence_threshold()));
                snapshot.set(Snapshot::of(&r));
                race.set_value(Some(r));
                problem.set(String::new());
            }
            Err(e) => {
                race.set_value(None);
                snapshot.set(Snapshot::default());
                problem.set(format!("These settings cannot run: {e}."));
            }
        }
    };
    reset();
    // Any change of setting starts four fresh runs.
    Effect::new(move |first: Option<()>| {
        settings.track();
        if first.is_some() {
            reset();
        }
    });

    // Train for up to TICK_BUDGET_MS, then show what happened.
    let tick = move || {
        let start = now_ms();
        let shown = race.try_update_value(|slot| {
            let r = slot.as_mut()?;
            while now_ms() - start < TICK_BUDGET_MS && r.step() {}
            Some(Snapshot::of(r))
        });
        match shown.flatten() {
            Some(s) => {
                if s.done {
                    running.set(false);
                }
                snapshot.set(s);
            }
            None => running.set(false),
        }
    };
    use_interval(running, std::time::Duration::from_millis(16), tick);

    let last_step = Signal::derive(move || settings.get().total_steps.saturating_sub(1) as f64);
    let curves = Signal::derive(move || {
        snapshot.with(|s| {
            s.losses
                .iter()
                .zip(&s.diverged_at)
                .enumerate()
                .map(|(i, (l, stop))| Series::steps(l, format!("series-{i}")).stopped(stop.is_some()))
                .collect::<Vec<_>>()
        })
    });
    let y_cap = Signal::derive(move || references.get().1 as f64);
    let lane_labels: Vec<&'static str> =
        engine::labs::norm_placement_lab::LANES.iter().map(|l| l.label()).collect();
    let rate_text = move || format!("{}", LEARNING_RATES[rate_index.get()]);

    view! {
        <WidgetFrame class="norm-lab" label="Pre-norm against post-norm, with and without warmup" title="Live: where the layer norm goes" badge="CPU · engine::labs::norm_placement_lab">
            <p class="widget-note">{format!(
                "Four copies of one transformer (d_model {D_MODEL}, 2 heads, context {CONTEXT}, batches of {BATCH} windows) with the same initial weights, trained with AdamW on the same batches of a small made-up text, one character at a time."
            )}</p>
            <div class="xor-controls">
                <label class="slider">
                    <span>"peak learning rate"</span>
                    <input type="range" data-name="norm-lr" min="0" max=LEARNING_RATES.len() - 1 step="1"
                        aria-valuetext=rate_text
                        prop:value=move || rate_index.get().to_string()
                        on:input=move |ev| {
                            let chosen = event_target_value(&ev).parse::<usize>().ok().and_then(|i| Some((i, *LEARNING_RATES.get(i)?)));
                            if let Some((i, lr)) = chosen {
                                rate_index.set(i);
                                settings.update(|s| s.max_lr = lr);
                            }
                        } />
                    <output data-value="norm-lr">{rate_text}</output>
                </label>
                <ConfigField label="warmup steps" name="norm-warmup" config=settings get=|s| s.warmup_steps as f64 set=|s, v| s.warmup_steps = v as u64 check=warmup_rule />
                <ConfigField label="layers" name="norm-depth" config=settings get=|s| s.n_layers as f64 set=|s, v| s.n_layers = v as usize check=depth_rule />
                <ConfigField label="seed" name="norm-seed" config=settings get=|s| s.seed as f64 set=|s, v| s.seed = v as u64 check=number_field::seed />
            </div>
            <div class="bp-controls">
                <button class="primary" disabled=move || snapshot.with(|s| s.done) || race.with_value(Option::is_none)
                    on:click=move |_| running.update(|r| *r = !*r)>
                    {move || if running.get() { "Pause" } else if snapshot.with(|s| s.done) { "Done (Reset to rerun)" } else if snapshot.with(|s| s.steps == 0) { "Run the four" } else { "Resume" }}
                </button>
                <button on:click=move |_| reset()>"Reset"</button>
                <span class="epoch-count" data-value="norm-steps">{move || snapshot.with(|s| s.steps)}</span>
                {move || format!(" of {} steps", settings.get().total_steps)}
            </div>
            <p class="bp-status" role="status" data-status="norm">{move || {
                let p = problem.get();
                if p.is_empty() { snapshot.with(|s| s.summary(settings.get().total_steps)) } else { p }
            }}</p>
            <figure class="bp-curve">
                <Chart class="race-chart" series=curves x_span=last_step y_cap=y_cap x_label="step" aria_label="Training loss of the four runs" />
                <ul class="race-legend">
                    {lane_labels.iter().enumerate().map(|(i, label)| view! {
                        <li><svg class="race-swatch" viewBox="0 0 28 10" aria-hidden="true"><path class=format!("series series-{i}") d="M1,5H27" /></svg>{*label}</li>
                    }).collect_view()}
                </ul>
            </figure>
            <table class="grad-check norm-results">
                <thead><tr><th>"run"</th><th>{format!("final loss (mean of last {FINAL_WINDOW} steps)")}</th><th>"gradient norm at step 0"</th></tr></thead>
                <tbody>
                    {lane_labels.iter().enumerate().map(|(i, label)| view! {
                        <tr>
                            <td>{*label}</td>
                            <td data-value=format!("norm-final-{i}")>{move || snapshot.with(|s| match (s.diverged_at.get(i).copied().flatten(), s.finals.get(i).copied().flatten()) {
                                (Some(step), _) => format!("diverged at step {step}"),
                                (None, Some(loss)) => format!("{loss:.4}"),
                                (None, None) => "–".to_string(),
                            })}</td>
                            <td data-value=format!("norm-grad0-{i}")>{move || snapshot.with(|s| s.first_grad_norms.get(i).copied().flatten().map(|g| format!("{g:.3}")).unwrap_or_else(|| "–".into()))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="widget-note" data-value="norm-references">{move || {
                let (unigram, line) = references.get();
                format!("For scale: knowing only how often each character occurs gives a loss of {unigram:.3}. A run whose loss passes {line:.3}, twice that of a uniform guess, or stops being a finite number, is stopped as diverged.")
            }}</p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slider_starts_at_the_default_and_ends_at_the_engines_maximum() {
        assert_eq!(LEARNING_RATES[DEFAULT_RATE], RaceSettings::default().max_lr);
        assert_eq!(LEARNING_RATES[LEARNING_RATES.len() - 1], engine::labs::norm_placement_lab::MAX_LR);
        assert!(LEARNING_RATES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn fields_refuse_what_the_engine_would() {
        assert!(depth_rule(0.0).is_err() && depth_rule(13.0).is_err() && depth_rule(2.5).is_err());
        assert!(depth_rule(12.0).is_ok());
        assert!(warmup_rule(-1.0).is_err() && warmup_rule(201.0).is_err() && warmup_rule(0.0).is_ok());
        assert!(number_field::seed(-1.0).is_err() && number_field::seed(7.0).is_ok());
    }

    #[test]
    fn the_summary_counts_diverged_runs() {
        let mut s =
            Snapshot { steps: 12, diverged_at: vec![None, Some(1), None, Some(3)], ..Snapshot::default() };
        assert_eq!(s.summary(200), "Training: step 12 of 200; 2 runs diverged.");
        s.done = true;
        assert_eq!(s.summary(200), "Finished; 2 runs diverged and stopped early.");
        s.diverged_at = vec![None; 4];
        assert_eq!(s.summary(200), "Finished: all four runs took 200 steps.");
        assert_eq!(Snapshot::default().summary(200), "");
    }
}
