//! Chapter 4's parallelism lab: data, tensor and pipeline degrees for one of the memory
//! calculator's models, what each GPU holds and sends per step, and the pipeline step under
//! GPipe and 1F1B drawn as Gantt charts, from `engine::labs::parallelism`.

use leptos::prelude::*;

use engine::labs::memory_calculator::ModelShape;
use engine::labs::parallelism::{bubble_formula, simulate, Layout, PerGpuTraffic, Schedule, Timeline};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{is_whole_in, rule, with_commas, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::describe::DataTable;
use crate::plot::gantt::{self, gantt, LEFT, ROW, WIDTH};

/// A forward pass takes 1 unit of time, a backward pass 2 (it computes two gradients).
const FORWARD: f64 = 1.0;
const BACKWARD: f64 = 2.0;

/// The charts are drawn up to this many stages; past it the rows would be slivers.
const MAX_DRAWN_STAGES: u64 = 16;

/// The layout the widget opens with: 4 stages and 8 micro-batches, the chapter's example,
/// beside 2-way tensor and 2-way data parallelism (16 GPUs).
const START: Layout =
    Layout { data: 2, tensor: 2, pipeline: 4, micro_batches: 8, micro_batch_size: 1, seq_len: 2048 };

/// The models the memory calculator offers, under the same values and labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Preset {
    Gpt2Small,
    Llama7b,
    Llama70b,
}

impl Preset {
    fn shape(self) -> ModelShape {
        match self {
            Preset::Gpt2Small => ModelShape::GPT2_SMALL,
            Preset::Llama7b => ModelShape::LLAMA_7B,
            Preset::Llama70b => ModelShape::LLAMA2_70B,
        }
    }
}

impl Choosable for Preset {
    fn all() -> &'static [Self] {
        &[Preset::Gpt2Small, Preset::Llama7b, Preset::Llama70b]
    }
    fn value(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "gpt2-small",
            Preset::Llama7b => "llama-7b",
            Preset::Llama70b => "llama2-70b",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "GPT-2 small",
            Preset::Llama7b => "LLaMA-7B",
            Preset::Llama70b => "LLaMA-2-70B",
        }
    }
}

/// Whole numbers from 0 (which the layout check then explains) to `max`.
fn count(v: f64, max: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, max), &format!("Use a whole number up to {max}."))
}

fn degree_rule(v: f64) -> Result<(), String> {
    count(v, 1024.0)
}

fn micro_rule(v: f64) -> Result<(), String> {
    count(v, 64.0)
}

fn seq_rule(v: f64) -> Result<(), String> {
    count(v, 1_048_576.0)
}

/// Bytes as decimal megabytes or gigabytes, e.g. "402.65 MB", "1.21 GB".
pub fn bytes_text(bytes: f64) -> String {
    if bytes >= 1e9 {
        format!("{:.2} GB", bytes / 1e9)
    } else {
        format!("{:.2} MB", bytes / 1e6)
    }
}

/// A bubble fraction as a percentage, e.g. "27.27%".
pub fn percent(f: f64) -> String {
    format!("{:.2}%", 100.0 * f)
}

/// Peak micro-batches in flight per stage, e.g. "4, 3, 2, 1".
pub fn per_stage(peaks: &[usize]) -> String {
    peaks.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
}

/// One schedule's chart, its simulated bubble and its peak activations in flight.
fn schedule_panel(
    name: &'static str,
    title: &'static str,
    timeline: Memo<Option<Timeline>>,
) -> impl IntoView {
    let chart = move || {
        timeline.with(|t| {
            let t = t.as_ref()?;
            if t.stages.len() as u64 > MAX_DRAWN_STAGES {
                return None;
            }
            let g = gantt(t);
            let rows = g
                .rows
                .iter()
                .map(|r| {
                    view! {
                        <rect class="gantt-idle" x=LEFT y=r.y + 1.0 width=g.axis_end - LEFT height=ROW - 2.0 />
                        <text class="tick" x=LEFT - 4.0 y=r.y + ROW / 2.0 + 4.0 text-anchor="end">{format!("S{}", r.stage)}</text>
                    }
                })
                .collect_view();
            let boxes = g
                .boxes
                .iter()
                .map(|b| {
                    let label = b.labelled.then(|| {
                        view! { <text class="gantt-label" x=b.x + b.width / 2.0 y=b.y + b.height / 2.0 + 3.5 text-anchor="middle">{b.micro_batch}</text> }
                    });
                    view! {
                        <rect class=if b.forward { "gantt-forward" } else { "gantt-backward" } x=b.x y=b.y width=b.width height=b.height rx="2" />
                        {label}
                    }
                })
                .collect_view();
            Some(view! {
                <svg viewBox=format!("0 0 {WIDTH} {}", g.height) role="img"
                    aria-label=gantt::describe(title, t)>
                    {rows}
                    {boxes}
                    <line class="axis" x1=LEFT x2=g.axis_end y1=g.axis_y y2=g.axis_y />
                    <text class="tick" x=LEFT y=g.axis_y + 13.0 text-anchor="start">"0"</text>
                    <text class="tick" x=g.axis_end y=g.axis_y + 13.0 text-anchor="end">{format!("{} (time)", t.makespan)}</text>
                </svg>
            })
        })
    };
    view! {
        <figure class="gantt" data-value=format!("par-{name}-chart")>
            <figcaption>{title}</figcaption>
            {chart}
            <DataTable table=Signal::derive(move || timeline.with(|t| t.as_ref().map(gantt::table).unwrap_or_default()))
                caption=format!("{title}: each stage's time") />
            <dl class="bp-values">
                <div><dt>"bubble"</dt><dd data-value=format!("par-{name}-bubble")>{move || timeline.with(|t| t.as_ref().map(|t| percent(t.bubble_fraction())))}</dd></div>
                <div><dt>"peak in flight per stage"</dt><dd data-value=format!("par-{name}-peak")>{move || timeline.with(|t| t.as_ref().map(|t| per_stage(&t.peak_in_flight())))}</dd></div>
            </dl>
        </figure>
    }
}

/// One row of the traffic table.
fn traffic_row(term: &'static str, name: &'static str, text: Signal<String>) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{term}</th>
            <td data-value=name>{move || text.get()}</td>
        </tr>
    }
}

/// The widget.
#[component]
pub fn ParallelismLab() -> impl IntoView {
    let preset = RwSignal::new(Preset::Llama7b);
    let draft = RwSignal::new(START);
    // The last layout the engine accepted for the chosen model: every number below uses it.
    let layout = Memo::new(move |previous: Option<&(Preset, Layout)>| {
        let (p, candidate) = (preset.get(), draft.get());
        match (candidate.check(&p.shape()), previous) {
            (Ok(()), _) => (p, candidate),
            (Err(_), Some(last_good)) => *last_good,
            (Err(_), None) => (Preset::Llama7b, START),
        }
    });
    let error = move || draft.get().check(&preset.get().shape()).err();
    let traffic = Memo::new(move |_| {
        let (p, l) = layout.get();
        l.traffic(&p.shape())
    });
    let run = move |schedule| {
        Memo::new(move |_| {
            let (_, l) = layout.get();
            simulate(schedule, l.pipeline as usize, l.micro_batches as usize, FORWARD, BACKWARD)
        })
    };
    let gpipe = run(Schedule::GPipe);
    let one_f_one_b = run(Schedule::OneFOneB);
    let text = move |pick: fn(&PerGpuTraffic) -> f64| Signal::derive(move || bytes_text(traffic.with(pick)));
    let too_many = move || layout.get().1.pipeline > MAX_DRAWN_STAGES;

    view! {
        <WidgetFrame class="parallelism" label="Parallelism lab" title="Live: splitting a training step across GPUs" badge="CPU · engine::labs::parallelism">
            <div class="xor-controls">
                <Choice label="model" name="par-preset" value=preset on_change=Callback::new(move |p| preset.set(p)) />
                <ConfigField label="data" name="par-data" config=draft get=|l| l.data as f64 set=|l, v| l.data = v as u64 check=degree_rule />
                <ConfigField label="tensor" name="par-tensor" config=draft get=|l| l.tensor as f64 set=|l, v| l.tensor = v as u64 check=degree_rule />
                <ConfigField label="pipeline stages p" name="par-pipeline" config=draft get=|l| l.pipeline as f64 set=|l, v| l.pipeline = v as u64 check=degree_rule />
                <ConfigField label="micro-batches m" name="par-micro" config=draft get=|l| l.micro_batches as f64 set=|l, v| l.micro_batches = v as u64 check=micro_rule />
                <ConfigField label="micro-batch size" name="par-micro-size" config=draft get=|l| l.micro_batch_size as f64 set=|l, v| l.micro_batch_size = v as u64 check=degree_rule />
                <ConfigField label="sequence length" name="par-seq" config=draft get=|l| l.seq_len as f64 set=|l, v| l.seq_len = v as u64 check=seq_rule />
            </div>
            <p class="field-error memory-error" role="status" data-value="par-error">
                {move || error().map(|e| format!("{e} Showing the last layout that worked."))}
            </p>
            <dl class="bp-values">
                <div><dt>"GPUs"</dt><dd data-value="par-gpus">{move || layout.get().1.gpus()}</dd></div>
                <div><dt>"layers per stage"</dt><dd data-value="par-layers">{move || { let (p, l) = layout.get(); format!("{} of {}", l.layers_per_stage(&p.shape()), p.shape().layers) }}</dd></div>
                <div><dt>"heads per GPU"</dt><dd data-value="par-heads">{move || { let (p, l) = layout.get(); format!("{} of {}", l.heads_per_gpu(&p.shape()), p.shape().heads) }}</dd></div>
            </dl>
            <div class="table-scroll">
                <table class="memory-table">
                    <caption>"Each GPU, per training step (16-bit gradients and activations; embeddings counted as spread over the stages like the layers)"</caption>
                    <tbody>
                        <tr><th scope="row">"parameters held"</th><td data-value="par-params">{move || with_commas(traffic.get().params as u64)}</td></tr>
                        {traffic_row("sent: gradient all-reduce (data)", "par-data-bytes", text(|t| t.data_bytes))}
                        {traffic_row("sent: all-reduces inside layers (tensor)", "par-tensor-bytes", text(|t| t.tensor_bytes))}
                        {traffic_row("sent: activations to the next stage (pipeline)", "par-pipeline-bytes", text(|t| t.pipeline_bytes))}
                    </tbody>
                </table>
            </div>
            <p class="widget-note">"A forward pass takes 1 unit of time and a backward pass 2. Forward boxes are numbered by micro-batch; grey is idle time, the bubble. The textbook bubble "
                <span class="math-inline">"(p − 1)/(m + p − 1)"</span>" = "
                <strong data-value="par-formula">{move || { let (_, l) = layout.get(); percent(bubble_formula(l.pipeline as usize, l.micro_batches as usize)) }}</strong>"."
            </p>
            {move || too_many().then(|| view! { <p class="widget-note">{format!("The charts are drawn for up to {MAX_DRAWN_STAGES} stages; the numbers under them hold for any.")}</p> })}
            <div class="gantt-pair">
                {schedule_panel("gpipe", "GPipe: all forwards, then all backwards", gpipe)}
                {schedule_panel("1f1b", "1F1B: one forward, one backward", one_f_one_b)}
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_cleanly() {
        assert_eq!(with_commas(20_739_968), "20,739,968");
        assert_eq!(bytes_text(402_653_184.0), "402.65 MB");
        assert_eq!(bytes_text(1.5e9), "1.50 GB");
        assert_eq!(percent(3.0 / 11.0), "27.27%");
        assert_eq!(per_stage(&[4, 3, 2, 1]), "4, 3, 2, 1");
    }

    #[test]
    fn the_starting_layout_fits_every_preset_and_zero_is_left_to_the_check() {
        for p in Preset::all() {
            assert_eq!(START.check(&p.shape()), Ok(()), "{p:?}");
        }
        assert!(degree_rule(0.0).is_ok() && degree_rule(1.5).is_err() && micro_rule(65.0).is_err());
        let zero = Layout { tensor: 0, ..START };
        assert!(zero.check(&ModelShape::LLAMA_7B).is_err());
    }
}
