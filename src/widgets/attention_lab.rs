//! Chapter 3's self-attention from scratch: edit X and the three projections, flip the
//! causal mask and the √d scaling, and see every intermediate from `engine::labs::attention_lab`.

use leptos::prelude::*;

use engine::labs::attention_lab::{self_attention, AttentionOptions};

use crate::controls::number_list::{parse_matrix, MatrixInput};
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::heatmap::MatrixView;

/// The chapter's four tokens: rows 0-3 of chapter 2's embedding table ("the cat sat on").
pub const DEFAULT_X: &str = "0.2 0.1 -0.3 0.5\n-0.1 0.4 0.2 -0.2\n0.3 -0.2 0.1 0.4\n0.1 0.3 -0.1 0.2";
/// Chapter 2's projections: the identity plus small perturbations.
pub const DEFAULT_WQ: &str = "1 0 0 0\n0.06 1 -0.02 -0.06\n-0.05 0.02 1 0.05\n0 0.04 0.04 1";
pub const DEFAULT_WK: &str = "1 0.1 0 0\n0 1 0.1 0\n0 0 1 0.1\n0.1 0 0 1";
pub const DEFAULT_WV: &str = "1 0 0 0\n-0.1 1 0 0\n0 -0.1 1 0\n0 0 -0.1 1";

/// The widget.
#[component]
pub fn AttentionLab() -> impl IntoView {
    let x = RwSignal::new(DEFAULT_X.to_string());
    let wq = RwSignal::new(DEFAULT_WQ.to_string());
    let wk = RwSignal::new(DEFAULT_WK.to_string());
    let wv = RwSignal::new(DEFAULT_WV.to_string());
    let causal = RwSignal::new(true);
    let scale = RwSignal::new(true);

    let result = Memo::new(move |_| {
        let x = parse_matrix("X", &x.get())?;
        let wq = parse_matrix("Wq", &wq.get())?;
        let wk = parse_matrix("Wk", &wk.get())?;
        let wv = parse_matrix("Wv", &wv.get())?;
        let options = AttentionOptions { causal: causal.get(), scale: scale.get(), key_is_padding: vec![] };
        self_attention(&x, &wq, &wk, &wv, &options).map_err(|e| e.to_string())
    });
    // Keep showing the last good trace while the reader's input is broken.
    let last_good = StoredValue::new(None);

    view! {
        <WidgetFrame class="attention" label="Self-attention from scratch" title="Live: self-attention, every matrix" badge="CPU · engine::labs::attention_lab">
            <div class="matrix-inputs">
                <MatrixInput name="X" text=x />
                <MatrixInput name="Wq" text=wq />
                <MatrixInput name="Wk" text=wk />
                <MatrixInput name="Wv" text=wv />
            </div>
            <div class="toggles">
                <label><input type="checkbox" data-name="causal" prop:checked=move || causal.get() on:change=move |ev| causal.set(event_target_checked(&ev)) />" causal mask"</label>
                <label><input type="checkbox" data-name="scale" prop:checked=move || scale.get() on:change=move |ev| scale.set(event_target_checked(&ev)) />" divide by √d"</label>
                <button on:click=move |_| { x.set(DEFAULT_X.into()); wq.set(DEFAULT_WQ.into()); wk.set(DEFAULT_WK.into()); wv.set(DEFAULT_WV.into()); causal.set(true); scale.set(true); }>"Reset"</button>
            </div>
            <p class="field-error" role="status" data-error-for="attention">
                {move || result.get().err().map(|e| format!("{e} Showing the last good result."))}
            </p>
            {move || {
                let trace = match result.get() {
                    Ok(trace) => {
                        last_good.set_value(Some(trace.clone()));
                        trace
                    }
                    Err(_) => match last_good.get_value() {
                        Some(trace) => trace,
                        None => return view! { <p>"Enter matrices to begin."</p> }.into_any(),
                    },
                };
                let labels: Vec<String> = (1..=trace.weights.rows()).map(|i| format!("t{i}")).collect();
                view! {
                    <div class="matrices">
                        <MatrixView title="Q = X·Wq".into() matrix=trace.q.clone() labels=labels.clone() />
                        <MatrixView title="K = X·Wk".into() matrix=trace.k.clone() labels=labels.clone() />
                        <MatrixView title="V = X·Wv".into() matrix=trace.v.clone() labels=labels.clone() />
                        <MatrixView title="scores = Q·Kᵀ".into() matrix=trace.scores.clone() heat=true key_columns=true labels=labels.clone() />
                        <MatrixView title="scaled scores".into() matrix=trace.scaled_scores.clone() heat=true key_columns=true labels=labels.clone() />
                        <MatrixView title="mask".into() matrix=trace.mask.clone() key_columns=true labels=labels.clone() />
                        <MatrixView title="masked scores".into() matrix=trace.masked_scores.clone() heat=true key_columns=true labels=labels.clone() />
                        <MatrixView title="attention weights (softmax of each row)".into() matrix=trace.weights.clone() heat=true row_sums=true key_columns=true labels=labels.clone() />
                        <MatrixView title="output = weights·V".into() matrix=trace.output.clone() labels=labels />
                    </div>
                }.into_any()
            }}
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_run() {
        let x = parse_matrix("X", DEFAULT_X).unwrap();
        assert_eq!(x.shape, vec![4, 4]);
        let w = |t| parse_matrix("W", t).unwrap();
        let options = AttentionOptions { causal: true, ..AttentionOptions::default() };
        let trace = self_attention(&x, &w(DEFAULT_WQ), &w(DEFAULT_WK), &w(DEFAULT_WV), &options).unwrap();
        assert_eq!(trace.weights.data[0], 1.0, "the first token sees only itself");
    }
}
