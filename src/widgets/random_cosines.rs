//! Chapter 10's random cosines: histograms of the cosines between random unit vectors in 16,
//! 256 and 4,096 dimensions, filled in live, with their spread against 1/√d and the worst
//! pair, and the expected worst pair among any number of vectors, from
//! `engine::labs::random_cosines`.

use leptos::prelude::*;

use engine::labs::random_cosines::{expected_max_abs_cosine, CosineRun, BINS};

use crate::controls::number_field::{self, is_whole_in, rule, with_commas, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::plot::describe::DataTable;
use crate::plot::histogram::{describe, equal_bins, table};

/// The dimensions compared.
pub const DIMS: [usize; 3] = [16, 256, 4096];
/// Multiply-adds one animation tick may spend on new cosines.
const WORK_PER_TICK: usize = 4_000_000;
const HIST_W: f64 = 440.0;
const HIST_H: f64 = 60.0;

/// The cosines bin `i` of [`BINS`] holds, e.g. "−0.025 to 0.000".
fn bin_label(i: usize) -> String {
    let edge = |k: usize| -1.0 + 2.0 * k as f64 / BINS as f64;
    format!("{:.3} to {:.3}", edge(i), edge(i + 1)).replace('-', "−")
}

fn vectors_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 2.0, 1000.0), "A whole number of vectors from 2 to 1,000.")
}
fn many_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 2.0, 1e12), "A whole number of vectors from 2 to 10¹².")
}
fn dim_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 3.0, 1e6), "A whole number of dimensions from 3 to 1,000,000.")
}

/// One dimension's numbers as the page shows them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Row {
    dim: usize,
    vectors: usize,
    pairs: u64,
    bins: Vec<u64>,
    mean: f64,
    std: f64,
    max_abs: f64,
}

fn row(run: &CosineRun) -> Row {
    Row {
        dim: run.dim,
        vectors: run.vectors(),
        pairs: run.pairs,
        bins: run.bins.clone(),
        mean: run.mean(),
        std: run.std(),
        max_abs: run.max_abs,
    }
}

/// The widget.
#[component]
pub fn RandomCosines() -> impl IntoView {
    let target = RwSignal::new(300.0);
    let seed = RwSignal::new(1.0);
    let runs = StoredValue::new(Vec::<CosineRun>::new());
    let shown = RwSignal::new(Vec::<Row>::new());
    let running = RwSignal::new(false);
    let many = RwSignal::new(100_000.0);
    let many_dim = RwSignal::new(4096.0);

    let start = move || {
        let s = seed.get_untracked() as u64;
        let fresh: Vec<CosineRun> =
            DIMS.iter().enumerate().map(|(i, &d)| CosineRun::new(d, s + i as u64)).collect();
        shown.set(fresh.iter().map(row).collect());
        runs.set_value(fresh);
        running.set(true);
    };
    Effect::new(move |_| {
        target.track();
        seed.track();
        start();
    });
    let tick = move || {
        let goal = target.get_untracked() as usize;
        let rows = runs.try_update_value(|runs| {
            let mut budget = WORK_PER_TICK;
            for r in runs.iter_mut() {
                while r.vectors() < goal && budget > 0 {
                    r.add_vector();
                    budget = budget.saturating_sub(r.dim * r.vectors().max(1));
                }
            }
            (runs.iter().map(row).collect::<Vec<_>>(), runs.iter().all(|r| r.vectors() >= goal))
        });
        if let Some((rows, done)) = rows {
            shown.set(rows);
            if done {
                running.set(false);
            }
        }
    };
    use_interval(running, std::time::Duration::from_millis(16), move || {
        if running.get_untracked() {
            tick();
        }
    });
    // The expected worst pair once every dimension has its full set of vectors.
    let expected = Memo::new(move |_| {
        let n = target.get() as u64;
        DIMS.map(|d| expected_max_abs_cosine(d, n))
    });
    let worst = Memo::new(move |_| expected_max_abs_cosine(many_dim.get() as usize, many.get() as u64));

    // One table for the three histograms, outside the figures redrawn at every tick, so that
    // an open fold stays open while the counts grow.
    let counts_table = Signal::derive(move || {
        shown.with(|rows| {
            let labels: Vec<String> = (0..BINS).map(bin_label).collect();
            let columns: Vec<(String, Vec<u64>)> =
                rows.iter().map(|r| (format!("d = {}", with_commas(r.dim as u64)), r.bins.clone())).collect();
            table("cosine", &labels, &columns)
        })
    });

    view! {
        <WidgetFrame class="cosines" label="Random cosines" title="Live: how orthogonal are random directions?" badge="CPU · engine::labs::random_cosines">
            <div class="xor-controls">
                <SignalField label="vectors per dimension" name="cos-vectors" signal=target check=vectors_rule />
                <SignalField label="seed" name="cos-seed" signal=seed check=number_field::seed />
            </div>
            <p class="bp-status" role="status" data-status="cos">{move || if running.get() { "Drawing vectors…" } else { "" }}</p>
            {move || shown.get().into_iter().zip(expected.get()).map(|(r, e)| {
                let d = r.dim;
                let bars = equal_bins(&r.bins, HIST_W, HIST_H);
                let root = 1.0 / libm::sqrt(d as f64);
                let labels: Vec<String> = (0..r.bins.len()).map(bin_label).collect();
                let name = describe(&format!("Histogram of the cosines between random directions in {} dimensions", with_commas(d as u64)), &labels, &r.bins, "pairs");
                view! {
                    <figure class="cos-hist" data-dim=d>
                        <svg viewBox=format!("0 0 {HIST_W} {}", HIST_H + 16.0) role="img" aria-label=name>
                            {bars.into_iter().map(|b| view! { <rect class="cos-bar" x=b.x y=b.y width=b.width height=b.height /> }).collect_view()}
                            <line class="axis" x1=0.0 x2=HIST_W y1=HIST_H y2=HIST_H />
                            <line class="axis" x1=HIST_W / 2.0 x2=HIST_W / 2.0 y1=HIST_H y2=HIST_H + 4.0 />
                            <text class="tick" x=2.0 y=HIST_H + 14.0>"−1"</text>
                            <text class="tick" x=HIST_W / 2.0 y=HIST_H + 14.0 text-anchor="middle">"0"</text>
                            <text class="tick" x=HIST_W - 2.0 y=HIST_H + 14.0 text-anchor="end">"1"</text>
                        </svg>
                        <figcaption>
                            <strong>{format!("d = {}", with_commas(d as u64))}</strong>
                            {format!(": {} vectors, {} pairs; mean ", r.vectors, with_commas(r.pairs))}
                            <span data-value=format!("cos-mean-{d}")>{format!("{:.4}", r.mean).replace('-', "−")}</span>
                            ", standard deviation "
                            <span data-value=format!("cos-std-{d}")>{format!("{:.4}", r.std)}</span>
                            {format!(" (1/√d = {root:.4}), largest |cos| ")}
                            <span data-value=format!("cos-max-{d}")>{format!("{:.4}", r.max_abs)}</span>
                            {format!(" (expected about {e:.4} with all {} vectors)", target.get_untracked())}
                        </figcaption>
                    </figure>
                }
            }).collect_view()}
            <DataTable table=counts_table caption="Cosine counts per bin in each dimension" />
            <h4 class="lab-subtitle">"The worst pair among many vectors"</h4>
            <div class="xor-controls">
                <SignalField label="vectors N" name="cos-many" signal=many check=many_rule />
                <SignalField label="dimensions d" name="cos-many-dim" signal=many_dim check=dim_rule />
            </div>
            <p class="widget-note">
                {move || format!("Among N(N − 1)/2 = {} pairs, the largest |cosine| is typically about ", with_commas((many.get() * (many.get() - 1.0) / 2.0) as u64))}
                <span data-value="cos-worst">{move || format!("{:.4}", worst.get())}</span>
                {move || format!(", or {:.1} times 1/√d.", worst.get() * libm::sqrt(many_dim.get()))}
                " (The median of the maximum, treating pairs as independent: the t at which N(N − 1)/2 · P(|cos| > t) = ln 2.)"
            </p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_grouping() {
        assert!(vectors_rule(1.0).is_err() && vectors_rule(1001.0).is_err() && vectors_rule(300.0).is_ok());
        assert!(many_rule(1.5).is_err() && dim_rule(2.0).is_err() && dim_rule(4096.0).is_ok());
        assert_eq!(with_commas(4_999_950_000_u64), "4,999,950,000");
        assert_eq!(with_commas(950), "950");
        assert_eq!(bin_label(0), "−1.000 to −0.975");
        assert_eq!(bin_label(BINS - 1), "0.975 to 1.000");
    }
}
