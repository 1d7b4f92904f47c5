//! Chapter 4's memory calculator: a transformer's parameters counted tensor by tensor beside
//! 12·L·d², and the memory per GPU of training it, from `engine::labs::memory_calculator`.

use leptos::prelude::*;

use engine::labs::memory_calculator::{
    budget, Budget, Ffn, ModelShape, NormKind, ParamCount, Recompute, StateBytes, Training, ZeroStage,
    CARD_80_GB,
};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{is_whole_in, rule, with_commas, ConfigField};
use crate::controls::widget_frame::WidgetFrame;

/// The setup the widget opens with: LLaMA-7B's states on 8 GPUs, nothing sharded yet.
const START: Training = Training {
    micro_batch: 1,
    bytes: StateBytes::MIXED_16,
    recompute: Recompute::Selective,
    zero: ZeroStage::Zero0,
    gpus: 8,
};

/// Bytes in decimal gigabytes, e.g. "121.29 GB".
pub fn gigabytes(bytes: f64) -> String {
    format!("{:.2} GB", bytes / 1e9)
}

/// Bytes in binary gibibytes, e.g. "112.96 GiB".
pub fn gibibytes(bytes: f64) -> String {
    format!("{:.2} GiB", bytes / (1u64 << 30) as f64)
}

fn count_rule(max: f64, message: &'static str) -> impl Fn(f64) -> Result<(), String> {
    move |v| rule(is_whole_in(v, 1.0, max), message)
}

fn layers_rule(v: f64) -> Result<(), String> {
    count_rule(1_000.0, "Use a whole number of layers from 1 to 1,000.")(v)
}

fn width_rule(v: f64) -> Result<(), String> {
    count_rule(100_000.0, "Use a whole width from 1 to 100,000.")(v)
}

fn vocab_rule(v: f64) -> Result<(), String> {
    count_rule(10_000_000.0, "Use a whole vocabulary size from 1 to 10,000,000.")(v)
}

fn heads_rule(v: f64) -> Result<(), String> {
    count_rule(1_024.0, "Use a whole number of heads from 1 to 1,024.")(v)
}

fn hidden_rule(v: f64) -> Result<(), String> {
    count_rule(1_000_000.0, "Use a whole hidden size from 1 to 1,000,000.")(v)
}

fn seq_rule(v: f64) -> Result<(), String> {
    count_rule(1_048_576.0, "Use a whole sequence length from 1 to 1,048,576.")(v)
}

fn batch_rule(v: f64) -> Result<(), String> {
    count_rule(4_096.0, "Use a whole micro-batch from 1 to 4,096.")(v)
}

fn gpus_rule(v: f64) -> Result<(), String> {
    count_rule(100_000.0, "Use a whole number of GPUs from 1 to 100,000.")(v)
}

/// The presets, and "custom" once the reader has changed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Preset {
    Gpt2Small,
    Llama7b,
    Llama70b,
    Custom,
}

impl Preset {
    /// The preset's shape (none for custom).
    fn shape(self) -> Option<ModelShape> {
        match self {
            Preset::Gpt2Small => Some(ModelShape::GPT2_SMALL),
            Preset::Llama7b => Some(ModelShape::LLAMA_7B),
            Preset::Llama70b => Some(ModelShape::LLAMA2_70B),
            Preset::Custom => None,
        }
    }

    /// The preset a shape is, or custom.
    fn of(shape: &ModelShape) -> Preset {
        Preset::all().iter().copied().find(|p| p.shape().as_ref() == Some(shape)).unwrap_or(Preset::Custom)
    }
}

impl Choosable for Preset {
    fn all() -> &'static [Self] {
        &[Preset::Gpt2Small, Preset::Llama7b, Preset::Llama70b, Preset::Custom]
    }
    fn value(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "gpt2-small",
            Preset::Llama7b => "llama-7b",
            Preset::Llama70b => "llama2-70b",
            Preset::Custom => "custom",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Preset::Gpt2Small => "GPT-2 small",
            Preset::Llama7b => "LLaMA-7B",
            Preset::Llama70b => "LLaMA-2-70B",
            Preset::Custom => "custom (edited)",
        }
    }
}

/// The feed-forward block's kind; its hidden size is a field of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FfnKind {
    Mlp,
    SwiGlu,
}

impl FfnKind {
    fn of(ffn: Ffn) -> FfnKind {
        match ffn {
            Ffn::Mlp { .. } => FfnKind::Mlp,
            Ffn::SwiGlu { .. } => FfnKind::SwiGlu,
        }
    }

    fn with_hidden(self, hidden: u64) -> Ffn {
        match self {
            FfnKind::Mlp => Ffn::Mlp { hidden },
            FfnKind::SwiGlu => Ffn::SwiGlu { hidden },
        }
    }
}

fn hidden_of(ffn: Ffn) -> u64 {
    match ffn {
        Ffn::Mlp { hidden } | Ffn::SwiGlu { hidden } => hidden,
    }
}

impl Choosable for FfnKind {
    fn all() -> &'static [Self] {
        &[FfnKind::Mlp, FfnKind::SwiGlu]
    }
    fn value(self) -> &'static str {
        match self {
            FfnKind::Mlp => "mlp",
            FfnKind::SwiGlu => "swiglu",
        }
    }
    fn label(self) -> &'static str {
        match self {
            FfnKind::Mlp => "MLP (2 matrices)",
            FfnKind::SwiGlu => "SwiGLU (3 matrices)",
        }
    }
}

/// The two byte accountings of the chapter's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Accounting(StateBytes);

impl Choosable for Accounting {
    fn all() -> &'static [Self] {
        &[Accounting(StateBytes::MIXED_16), Accounting(StateBytes::MIXED_FP32_GRADIENTS)]
    }
    fn value(self) -> &'static str {
        if self.0 == StateBytes::MIXED_16 {
            "16"
        } else {
            "18"
        }
    }
    fn label(self) -> &'static str {
        if self.0 == StateBytes::MIXED_16 {
            "16 (BF16 gradients)"
        } else {
            "18 (FP32 gradients)"
        }
    }
}

impl Choosable for Recompute {
    fn all() -> &'static [Self] {
        &[Recompute::None, Recompute::Selective, Recompute::Full]
    }
    fn value(self) -> &'static str {
        match self {
            Recompute::None => "none",
            Recompute::Selective => "selective",
            Recompute::Full => "full",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Recompute::None => "none (keep everything)",
            Recompute::Selective => "selective (attention scores)",
            Recompute::Full => "full (keep layer inputs)",
        }
    }
}

impl Choosable for ZeroStage {
    fn all() -> &'static [Self] {
        &[ZeroStage::Zero0, ZeroStage::Zero1, ZeroStage::Zero2, ZeroStage::Zero3]
    }
    fn value(self) -> &'static str {
        match self {
            ZeroStage::Zero0 => "0",
            ZeroStage::Zero1 => "1",
            ZeroStage::Zero2 => "2",
            ZeroStage::Zero3 => "3",
        }
    }
    fn label(self) -> &'static str {
        match self {
            ZeroStage::Zero0 => "0 (nothing sharded)",
            ZeroStage::Zero1 => "1 (optimizer states)",
            ZeroStage::Zero2 => "2 (+ gradients)",
            ZeroStage::Zero3 => "3 (+ weights)",
        }
    }
}

/// What the preset decides and the fields do not: positions, norms and biases.
fn fixed_parts(shape: &ModelShape) -> String {
    let positions = if shape.learned_positions { "learned positions" } else { "rotary positions (no table)" };
    let norm = match shape.norm {
        NormKind::LayerNorm => "LayerNorm (gain and bias)",
        NormKind::RmsNorm => "RMSNorm (gain only)",
    };
    let biases = match (shape.attention_bias, shape.ffn_bias) {
        (true, true) => "biases everywhere",
        (false, true) => "feed-forward biases only",
        (true, false) => "attention biases only",
        (false, false) => "no biases",
    };
    format!("From the preset: {positions}, {norm}, {biases}.")
}

/// One row of the per-GPU table: the term, its bytes in GB and GiB.
fn memory_row(term: &'static str, name: &'static str, bytes: Signal<f64>) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{term}</th>
            <td data-value=format!("{name}-gb")>{move || gigabytes(bytes.get())}</td>
            <td data-value=format!("{name}-gib")>{move || gibibytes(bytes.get())}</td>
        </tr>
    }
}

/// One row of the parameter table.
fn count_row(term: &'static str, name: &'static str, count: Signal<u64>) -> impl IntoView {
    view! {
        <tr>
            <th scope="row">{term}</th>
            <td data-value=name>{move || with_commas(count.get() as i128)}</td>
        </tr>
    }
}

/// The widget.
#[component]
pub fn MemoryCalculator() -> impl IntoView {
    // What the fields hold, which may not be a valid model (heads not dividing the width).
    let draft = RwSignal::new(ModelShape::LLAMA_7B);
    // The last shape the engine accepted: every number below comes from it.
    let shape = Memo::new(move |previous: Option<&ModelShape>| {
        let candidate = draft.get();
        match (candidate.check(), previous) {
            (Ok(()), _) => candidate,
            (Err(_), Some(last_good)) => *last_good,
            (Err(_), None) => ModelShape::LLAMA_7B,
        }
    });
    let shape_error = move || draft.get().check().err();
    let training = RwSignal::new(START);

    let params = Memo::new(move |_| shape.get().params());
    let memory = Memo::new(move |_| budget(&shape.get(), &training.get()));
    let count = move |pick: fn(&ParamCount) -> u64| Signal::derive(move || params.with(pick));
    let bytes = move |pick: fn(&Budget) -> f64| Signal::derive(move || memory.with(pick));

    view! {
        <WidgetFrame class="memory" label="Training memory calculator" title="Live: how much memory does training take?" badge="CPU · engine::labs::memory_calculator">
            <div class="xor-controls">
                <Choice label="model" name="mem-preset" value=Signal::derive(move || Preset::of(&draft.get()))
                    on_change=Callback::new(move |p: Preset| if let Some(s) = p.shape() { draft.set(s) }) />
            </div>
            <div class="xor-controls">
                <ConfigField label="layers L" name="mem-layers" config=draft get=|s| s.layers as f64 set=|s, v| s.layers = v as u64 check=layers_rule />
                <ConfigField label="width d" name="mem-width" config=draft get=|s| s.d_model as f64 set=|s, v| s.d_model = v as u64 check=width_rule />
                <ConfigField label="vocabulary" name="mem-vocab" config=draft get=|s| s.vocab as f64 set=|s, v| s.vocab = v as u64 check=vocab_rule />
                <ConfigField label="heads" name="mem-heads" config=draft get=|s| s.heads as f64 set=|s, v| s.heads = v as u64 check=heads_rule />
                <ConfigField label="KV heads" name="mem-kv-heads" config=draft get=|s| s.kv_heads as f64 set=|s, v| s.kv_heads = v as u64 check=heads_rule />
                <ConfigField label="FFN hidden" name="mem-hidden" config=draft get=|s| hidden_of(s.ffn) as f64
                    set=|s, v| s.ffn = FfnKind::of(s.ffn).with_hidden(v as u64) check=hidden_rule />
                <ConfigField label="sequence length" name="mem-seq" config=draft get=|s| s.context as f64 set=|s, v| s.context = v as u64 check=seq_rule />
            </div>
            <div class="xor-controls">
                <Choice label="feed-forward" name="mem-ffn" value=Signal::derive(move || FfnKind::of(draft.get().ffn))
                    on_change=Callback::new(move |k: FfnKind| draft.update(|s| s.ffn = k.with_hidden(hidden_of(s.ffn)))) />
                <label><input type="checkbox" data-name="mem-tied" prop:checked=move || draft.get().tied_embeddings
                    on:change=move |ev| draft.update(|s| s.tied_embeddings = event_target_checked(&ev)) />" output tied to the embedding"</label>
            </div>
            <p class="widget-note">{move || fixed_parts(&shape.get())}</p>
            <p class="field-error memory-error" role="status" data-value="mem-shape-error">
                {move || shape_error().map(|e| format!("{e} Showing the last model that made sense."))}
            </p>
            <div class="table-scroll">
                <table class="memory-table" data-value="mem-params">
                    <caption>"Parameters, tensor by tensor"</caption>
                    <tbody>
                        {count_row("token embedding", "mem-embedding", count(|p| p.token_embedding))}
                        {count_row("learned positions", "mem-positions", count(|p| p.position_embedding))}
                        {count_row("attention", "mem-attention", count(|p| p.attention))}
                        {count_row("feed-forward", "mem-feed-forward", count(|p| p.feed_forward))}
                        {count_row("norms", "mem-norms", count(|p| p.norms))}
                        {count_row("output layer", "mem-output", count(|p| p.output))}
                        <tr class="sum"><th scope="row">"total"</th><td data-value="mem-total">{move || with_commas(params.get().total() as i128)}</td></tr>
                        <tr><th scope="row">"estimate 12·L·d²"</th><td data-value="mem-12ld2">{move || with_commas(shape.get().twelve_l_d_squared() as i128)}</td></tr>
                        <tr><th scope="row">"total − estimate"</th><td data-value="mem-gap">{move || with_commas(shape.get().estimate_gap())}</td></tr>
                        <tr><th scope="row">"as a share of the total"</th><td data-value="mem-gap-share">{move || format!("{:.1}%", 100.0 * shape.get().estimate_gap_share())}</td></tr>
                    </tbody>
                </table>
            </div>
            <div class="xor-controls">
                <Choice label="bytes per parameter" name="mem-bytes" value=Signal::derive(move || Accounting(training.get().bytes))
                    on_change=Callback::new(move |a: Accounting| training.update(|t| t.bytes = a.0)) />
                <Choice label="recomputation" name="mem-recompute" value=Signal::derive(move || training.get().recompute)
                    on_change=Callback::new(move |r| training.update(|t| t.recompute = r)) />
                <Choice label="ZeRO stage" name="mem-zero" value=Signal::derive(move || training.get().zero)
                    on_change=Callback::new(move |z| training.update(|t| t.zero = z)) />
                <ConfigField label="GPUs" name="mem-gpus" config=training get=|t| t.gpus as f64 set=|t, v| t.gpus = v as u64 check=gpus_rule />
                <ConfigField label="micro-batch" name="mem-micro-batch" config=training get=|t| t.micro_batch as f64 set=|t, v| t.micro_batch = v as u64 check=batch_rule />
            </div>
            <div class="table-scroll">
                <table class="memory-table">
                    <caption>"Memory on each GPU"</caption>
                    <thead><tr><th scope="col"><span class="visually-hidden">"part"</span></th><th scope="col">"GB (10⁹)"</th><th scope="col">"GiB (2³⁰)"</th></tr></thead>
                    <tbody>
                        {memory_row("weights", "mem-weights", bytes(|b| b.states.weights))}
                        {memory_row("gradients", "mem-gradients", bytes(|b| b.states.gradients))}
                        {memory_row("optimizer (master + m + v)", "mem-optimizer", bytes(|b| b.states.optimizer))}
                        {memory_row("activations", "mem-activations", bytes(|b| b.activations))}
                        <tr class="sum">
                            <th scope="row">"total"</th>
                            <td data-value="mem-per-gpu-gb">{move || gigabytes(memory.get().total())}</td>
                            <td data-value="mem-per-gpu-gib">{move || gibibytes(memory.get().total())}</td>
                        </tr>
                    </tbody>
                </table>
            </div>
            <p class="memory-fits">"Fits an 80 GB card: "
                <strong data-value="mem-fits">{move || if memory.get().fits(CARD_80_GB) { "yes" } else { "no" }}</strong>
            </p>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_the_chapter_writes_them() {
        assert_eq!(with_commas(6_738_415_616_i64), "6,738,415,616");
        assert_eq!(with_commas(-1_000), "−1,000");
        assert_eq!(with_commas(999), "999");
        assert_eq!(with_commas(0), "0");
        assert_eq!(gigabytes(121_291_481_088.0), "121.29 GB");
        assert_eq!(gibibytes(121_291_481_088.0), "112.96 GiB");
    }

    #[test]
    fn presets_are_recognized_and_rules_refuse_bad_counts() {
        assert_eq!(Preset::of(&ModelShape::GPT2_SMALL), Preset::Gpt2Small);
        assert_eq!(Preset::of(&ModelShape { layers: 3, ..ModelShape::GPT2_SMALL }), Preset::Custom);
        assert!(layers_rule(0.0).is_err() && layers_rule(1.5).is_err() && layers_rule(32.0).is_ok());
        assert_eq!(Accounting::from_value("18"), Some(Accounting(StateBytes::MIXED_FP32_GRADIENTS)));
    }
}
