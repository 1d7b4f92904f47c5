//! Chapter 1's live network: one training step of the 2-2-1 net, stage by stage.
//!
//! Every number comes from `engine::labs::backprop_stepper`. This file only lays the numbers out: as
//! equations with the values plugged in, as a diagram that lights up what each stage
//! computes, and as a loss curve when the reader trains.

use leptos::prelude::*;

use engine::labs::backprop_stepper::{train, Example, Step, TinyNet, PARAM_NAMES};

use crate::controls::number_field::{learning_rate, rule, ConfigField, NumberField, SignalField};
use crate::controls::widget_frame::WidgetFrame;
use crate::mathml::{block, factor, frac, mi, mo, mtext, num, sub, sup};
use crate::plot::chart::LineChart;
use crate::plot::network::{network_diagram, Edge, RADIUS};

/// The stages of one training step, in order.
pub const STAGES: [&str; 8] = [
    "Hidden layer",
    "Output",
    "Loss",
    "Output error",
    "Output gradients",
    "Hidden error",
    "Hidden gradients",
    "Update",
];

/// The chapter's example: x = [1.0, 0.5], y = 1.
pub const CHAPTER_EXAMPLE: Example = Example { x: [1.0, 0.5], y: 1.0 };
/// The chapter's learning rate.
pub const CHAPTER_LR: f64 = 0.5;
/// Steps per press of "Train".
pub const TRAIN_STEPS: usize = 200;
/// Step size for the finite-difference check.
const FD_STEP: f64 = 1e-5;

/// Everything one stage shows, computed from the engine's step.
pub struct StageView {
    /// Equations with numbers plugged in, as MathML.
    pub equations: Vec<String>,
    /// A sentence on what this stage does.
    pub explanation: String,
    /// (name, value) pairs the page lists with full precision (and tests read back).
    pub values: Vec<(&'static str, f64)>,
    /// Rows of (parameter, analytic gradient, finite-difference gradient), if any.
    pub gradient_check: Vec<(&'static str, f64, f64)>,
}

fn w1(i: usize, j: usize) -> String {
    format!("<msubsup><mi>W</mi><mn>{}{}</mn><mn>[1]</mn></msubsup>", i + 1, j + 1)
}

fn layer(name: &str, layer: u8, index: Option<usize>) -> String {
    match index {
        Some(i) => format!("<msubsup><mi>{name}</mi><mn>{}</mn><mn>[{layer}]</mn></msubsup>", i + 1),
        None => format!("<msup><mi>{name}</mi><mn>[{layer}]</mn></msup>"),
    }
}

fn delta(l: u8, index: Option<usize>) -> String {
    layer("δ", l, index)
}

fn d_loss(of: &str) -> String {
    frac("<mi>∂</mi><mi>ℒ</mi>", &format!("<mi>∂</mi>{of}"))
}

/// Builds the view of `stage` (0-based) for the given network, example and step.
pub fn stage_view(
    stage: usize,
    net: &TinyNet,
    ex: &Example,
    lr: f64,
    step: &Step,
    numeric: &[f64; 9],
) -> StageView {
    let f = &step.forward;
    let b = &step.backward;
    let x = |j: usize| sub(&mi("x"), &(j + 1).to_string());
    let p = 4;
    let analytic = b.grads.to_params();
    let check =
        |indices: &[usize]| indices.iter().map(|&k| (PARAM_NAMES[k], analytic[k], numeric[k])).collect();
    match stage {
        0 => StageView {
            equations: (0..2)
                .flat_map(|i| {
                    [
                        block(&[
                            layer("z", 1, Some(i)), mo("="),
                            w1(i, 0), x(0), mo("+"), w1(i, 1), x(1), mo("+"), layer("b", 1, Some(i)), mo("="),
                            num(net.w1[i][0], p), mo("·"), factor(ex.x[0], p), mo("+"),
                            num(net.w1[i][1], p), mo("·"), factor(ex.x[1], p), mo("+"), factor(net.b1[i], p),
                            mo("="), num(f.z1[i], p),
                        ]),
                        block(&[
                            layer("a", 1, Some(i)), mo("="), mi("max"), mo("("), num(0.0, 0), mo(","),
                            num(f.z1[i], p), mo(")"), mo("="), num(f.a1[i], p),
                        ]),
                    ]
                })
                .collect(),
            explanation: "Each hidden unit weighs the two inputs, adds its bias, and passes the sum through ReLU, which keeps positive values and turns negative ones into 0.".into(),
            values: vec![("z1_1", f.z1[0]), ("z1_2", f.z1[1]), ("a1_1", f.a1[0]), ("a1_2", f.a1[1])],
            gradient_check: vec![],
        },
        1 => StageView {
            equations: vec![
                block(&[
                    layer("z", 2, None), mo("="),
                    num(net.w2[0], p), mo("·"), factor(f.a1[0], p), mo("+"),
                    num(net.w2[1], p), mo("·"), factor(f.a1[1], p), mo("+"), factor(net.b2, p),
                    mo("="), num(f.z2, p),
                ]),
                block(&[
                    mi("ŷ"), mo("="), mi("σ"), mo("("), layer("z", 2, None), mo(")"), mo("="),
                    frac(&num(1.0, 0), &format!("{}{}{}", num(1.0, 0), mo("+"), sup(&mi("e"), &format!("<mrow><mo>−</mo>{}</mrow>", factor(f.z2, p))))),
                    mo("="), num(f.y_hat, 6),
                ]),
            ],
            explanation: format!(
                "The output unit combines the hidden activations and squashes the sum into a probability. Here e^(−z) = {:.6}.",
                f.exp_neg_z2()
            ),
            values: vec![("z2", f.z2), ("y_hat", f.y_hat)],
            gradient_check: vec![],
        },
        2 => StageView {
            equations: vec![block(&[
                mi("ℒ"), mo("="), mo("−"), mo("["), mi("y"), mi("ln"), mi("ŷ"), mo("+"), mo("("), num(1.0, 0), mo("−"), mi("y"), mo(")"),
                mi("ln"), mo("("), num(1.0, 0), mo("−"), mi("ŷ"), mo(")"), mo("]"), mo("="), num(f.loss, 6),
            ])],
            explanation: format!(
                "Binary cross-entropy charges −ln of the probability given to the true label (y = {}). The engine evaluates it from the logit z, which gives the same value without ever taking the log of a rounded 0.",
                crate::controls::number_field::format_value(ex.y)
            ),
            values: vec![("loss", f.loss)],
            gradient_check: vec![],
        },
        3 => StageView {
            equations: vec![block(&[
                delta(2, None), mo("="), d_loss(&layer("z", 2, None)), mo("="), mi("ŷ"), mo("−"), mi("y"), mo("="),
                num(f.y_hat, 6), mo("−"), factor(ex.y, p), mo("="), num(b.delta2, 6),
            ])],
            explanation: if b.delta2 < 0.0 {
                "The prediction is below the label, so the error is negative: every step downhill will push ŷ up.".into()
            } else if b.delta2 > 0.0 {
                "The prediction is above the label, so the error is positive: every step downhill will push ŷ down.".into()
            } else {
                "The prediction equals the label: there is nothing to correct.".into()
            },
            values: vec![("delta2", b.delta2)],
            gradient_check: vec![],
        },
        4 => StageView {
            equations: (0..2)
                .map(|i| {
                    block(&[
                        d_loss(&layer("W", 2, Some(i))), mo("="), delta(2, None), layer("a", 1, Some(i)), mo("="),
                        factor(b.delta2, p), mo("·"), factor(f.a1[i], p), mo("="), num(b.grads.w2[i], 6),
                    ])
                })
                .chain([block(&[d_loss(&layer("b", 2, None)), mo("="), delta(2, None), mo("="), num(b.grads.b2, 6)])])
                .collect(),
            explanation: "A weight's gradient is the error at the unit it feeds times the activation it carries. Beside each, a central finite difference (L(θ+h) − L(θ−h)) / 2h with h = 10⁻⁵ checks it.".into(),
            values: vec![("dW2_1", b.grads.w2[0]), ("dW2_2", b.grads.w2[1]), ("db2", b.grads.b2)],
            gradient_check: check(&[6, 7, 8]),
        },
        5 => StageView {
            equations: (0..2)
                .map(|i| {
                    block(&[
                        delta(1, Some(i)), mo("="), layer("W", 2, Some(i)), delta(2, None), mo("·"), mi("ReLU′"), mo("("), layer("z", 1, Some(i)), mo(")"),
                        mo("="), num(net.w2[i], p), mo("·"), factor(b.delta2, p), mo("·"), num(b.relu_slope[i], 0), mo("="), num(b.delta1[i], 6),
                    ])
                })
                .collect(),
            explanation: "The output error flows back along each outgoing weight; ReLU passes it through where the unit was active (slope 1) and blocks it where the unit was off (slope 0).".into(),
            values: vec![("delta1_1", b.delta1[0]), ("delta1_2", b.delta1[1])],
            gradient_check: vec![],
        },
        6 => StageView {
            equations: (0..2)
                .flat_map(|i| {
                    (0..2).map(move |j| (i, j))
                })
                .map(|(i, j)| {
                    block(&[
                        d_loss(&w1(i, j)), mo("="), delta(1, Some(i)), x(j), mo("="),
                        factor(b.delta1[i], p), mo("·"), factor(ex.x[j], p), mo("="), num(b.grads.w1[i][j], 6),
                    ])
                })
                .collect(),
            explanation: "The same rule one layer down: error at the hidden unit times the input on the wire. The bias gradients equal the hidden errors.".into(),
            values: vec![
                ("dW1_11", b.grads.w1[0][0]), ("dW1_12", b.grads.w1[0][1]),
                ("dW1_21", b.grads.w1[1][0]), ("dW1_22", b.grads.w1[1][1]),
                ("db1_1", b.grads.b1[0]), ("db1_2", b.grads.b1[1]),
            ],
            gradient_check: check(&[0, 1, 2, 3, 4, 5]),
        },
        _ => {
            let old = net.to_params();
            let new = step.updated.to_params();
            StageView {
                equations: vec![block(&[
                    mi("θ"), mo("←"), mi("θ"), mo("−"), mi("η"), d_loss(&mi("θ")), mo(","), mtext("  "), mi("η"), mo("="), num(lr, p),
                ])],
                explanation: "Every parameter moves against its gradient. Press “Apply this update” to make these the network's weights and start the next step from them.".into(),
                values: PARAM_NAMES.iter().zip(new).map(|(n, v)| (*n, v)).collect(),
                gradient_check: PARAM_NAMES.iter().enumerate().map(|(k, n)| (*n, old[k], new[k])).collect(),
            }
        }
    }
}

/// Which diagram parts a stage lights up: (input nodes, hidden nodes, output node, loss node,
/// input-to-hidden edges, hidden-to-output edges).
pub fn highlights(stage: usize) -> [bool; 6] {
    match stage {
        0 => [true, true, false, false, true, false],
        1 => [false, true, true, false, false, true],
        2 => [false, false, true, true, false, false],
        3 => [false, false, true, true, false, false],
        4 => [false, true, true, false, false, true],
        5 => [false, true, true, false, false, true],
        6 => [true, true, false, false, true, false],
        _ => [false, false, false, false, true, true],
    }
}

/// A range rule for weights and inputs.
fn moderate(v: f64) -> Result<(), String> {
    rule(v.abs() <= 1000.0, "Keep values between −1000 and 1000.")
}

fn label_rule(v: f64) -> Result<(), String> {
    rule((0.0..=1.0).contains(&v), "The label y is a probability: between 0 and 1.")
}

/// One edge of the diagram.
fn edge_view(e: Edge) -> impl IntoView {
    view! { <line x1=e.x1 y1=e.y1 x2=e.x2 y2=e.y2 /> }
}

/// One node of the diagram: its circle, its name, and its live value to four decimals.
fn node_view(
    at: (f64, f64),
    name: &'static str,
    value: impl Fn() -> f64 + Send + Sync + 'static,
) -> impl IntoView {
    let (x, y) = at;
    view! {
        <circle cx=x cy=y r=RADIUS /><text x=x y=y - 4.0>{name}</text>
        <text class="node-value" x=x y=y + 12.0>{move || format!("{:.4}", value())}</text>
    }
}

/// The widget.
#[component]
pub fn BackpropStepper() -> impl IntoView {
    let net = RwSignal::new(TinyNet::chapter_one());
    let example = RwSignal::new(CHAPTER_EXAMPLE);
    let lr = RwSignal::new(CHAPTER_LR);
    let stage = RwSignal::new(0usize);
    let losses = RwSignal::new(Vec::<f64>::new());
    let status = RwSignal::new(String::new());
    let training = RwSignal::new(false);

    let step = Memo::new(move |_| net.get().step(&example.get(), lr.get()));
    let numeric = Memo::new(move |_| net.get().numerical_gradient(&example.get(), FD_STEP));
    let view_now = Memo::new(move |_| {
        let s = step.get();
        let n = numeric.get();
        let v = stage_view(stage.get(), &net.get(), &example.get(), lr.get(), &s, &n);
        (v.equations.concat(), v.explanation, v.values, v.gradient_check)
    });

    let param = move |k: usize| Signal::derive(move || net.get().to_params()[k]);
    let set_param = move |k: usize| {
        Callback::new(move |v: f64| {
            net.update(|n| {
                let mut p = n.to_params();
                p[k] = v;
                *n = TinyNet::from_params(p);
            })
        })
    };
    let apply_update = move || {
        let s = step.get_untracked();
        losses.update(|l| l.push(s.forward.loss));
        if s.updated.is_finite() {
            net.set(s.updated);
            status.set(format!(
                "Applied. The loss was {:.6}; it is now {:.6}.",
                s.forward.loss,
                net.get_untracked().forward(&example.get_untracked()).loss
            ));
        } else {
            status.set("This update overflows: the weights would no longer be finite numbers. Lower the learning rate or reset.".into());
        }
    };
    let train_more = move || {
        if training.get_untracked() {
            return;
        }
        training.set(true);
        status.set(String::new());
        let remaining = StoredValue::new(TRAIN_STEPS);
        let handle = StoredValue::new(None::<leptos::prelude::IntervalHandle>);
        let tick = move || {
            let chunk = remaining.get_value().min(5);
            let (next, new_losses) =
                train(net.get_untracked(), &example.get_untracked(), lr.get_untracked(), chunk);
            let diverged = !next.is_finite() || new_losses.iter().any(|l| !l.is_finite());
            losses.update(|l| l.extend(new_losses));
            remaining.set_value(remaining.get_value() - chunk);
            if diverged {
                status.set("Training diverged: the weights overflowed. The last finite weights are kept; lower the learning rate or reset.".into());
            } else {
                net.set(next);
            }
            if diverged || remaining.get_value() == 0 {
                if let Some(h) = handle.get_value() {
                    h.clear();
                }
                training.set(false);
                if !diverged {
                    let loss = net.get_untracked().forward(&example.get_untracked()).loss;
                    status.set(format!("Trained {TRAIN_STEPS} steps. Loss now {loss:.6}."));
                }
            }
        };
        match set_interval_with_handle(tick, std::time::Duration::from_millis(30)) {
            Ok(h) => handle.set_value(Some(h)),
            Err(_) => {
                training.set(false);
                status.set("The browser refused to start a timer, so training could not run.".into());
            }
        }
    };
    let reset = move || {
        net.set(TinyNet::chapter_one());
        example.set(CHAPTER_EXAMPLE);
        lr.set(CHAPTER_LR);
        losses.set(Vec::new());
        stage.set(0);
        status.set("Reset to the chapter's values.".into());
    };

    let lit = move |part: usize| move || highlights(stage.get())[part];
    let shown = move |v: f64| format!("{v:.4}");
    let diagram = network_diagram(&[2, 2, 1]);
    // The diagram's numbers as its name: the stage, then every value it shows.
    let diagram_name = move || {
        let (x, f, k) = (example.get().x, step.get().forward, stage.get());
        format!(
            "The 2-2-1 network at stage {} of 8, {}, its parts for this stage highlighted: inputs x₁ = {}, x₂ = {}; hidden h₁ = {}, h₂ = {}; output ŷ = {}; loss {}.",
            k + 1,
            STAGES[k],
            shown(x[0]),
            shown(x[1]),
            shown(f.a1[0]),
            shown(f.a1[1]),
            shown(f.y_hat),
            shown(f.loss)
        )
    };
    let (inputs, hidden, output) = (diagram.nodes[0].clone(), diagram.nodes[1].clone(), diagram.nodes[2][0]);
    let (loss, loss_centre, labels) = (diagram.loss, diagram.loss_centre, diagram.weight_labels.clone());

    view! {
        <WidgetFrame class="backprop" label="Backpropagation, step by step" title="Live: one training step, every number" badge="CPU · engine::labs::backprop_stepper" badge_title="Computed by crates/engine, compiled to WebAssembly">
            <div class="bp-top">
                <svg class="bp-diagram" viewBox="0 0 470 220" role="img" aria-label=diagram_name>
                    <g class="edges" class:lit=lit(4)>{diagram.edges[0].iter().map(|&e| edge_view(e)).collect_view()}</g>
                    <g class="edges" class:lit=lit(5)>{diagram.edges[1].iter().map(|&e| edge_view(e)).collect_view()}</g>
                    <g class="edges" class:lit=lit(3)>{edge_view(diagram.loss_edge)}</g>
                    <g class="node" class:lit=lit(0)>
                        {node_view(inputs[0], "x₁", move || example.get().x[0])}
                        {node_view(inputs[1], "x₂", move || example.get().x[1])}
                    </g>
                    <g class="node" class:lit=lit(1)>
                        {node_view(hidden[0], "h₁", move || step.get().forward.a1[0])}
                        {node_view(hidden[1], "h₂", move || step.get().forward.a1[1])}
                    </g>
                    <g class="node" class:lit=lit(2)>
                        {node_view(output, "ŷ", move || step.get().forward.y_hat)}
                    </g>
                    <g class="node loss" class:lit=lit(3)>
                        <rect x=loss.0 y=loss.1 width=loss.2 height=loss.3 rx="8" /><text x=loss_centre.0 y=loss_centre.1 - 4.0>"ℒ"</text><text class="node-value" x=loss_centre.0 y=loss_centre.1 + 12.0>{move || shown(step.get().forward.loss)}</text>
                    </g>
                    <text class="edge-label" x=labels[0][0].0 y=labels[0][0].1>{move || format!("W¹₁₁ {}", shown(net.get().w1[0][0]))}</text>
                    <text class="edge-label" x=labels[0][1].0 y=labels[0][1].1>{move || format!("W¹₂₂ {}", shown(net.get().w1[1][1]))}</text>
                    <text class="edge-label" x=labels[1][0].0 y=labels[1][0].1>{move || format!("W²₁ {}", shown(net.get().w2[0]))}</text>
                    <text class="edge-label" x=labels[1][1].0 y=labels[1][1].1>{move || format!("W²₂ {}", shown(net.get().w2[1]))}</text>
                </svg>
                <div class="bp-fields">
                    <fieldset>
                        <legend>"Example"</legend>
                        <ConfigField label="x₁" name="x1" config=example get=|e| e.x[0] set=|e, v| e.x[0] = v check=moderate />
                        <ConfigField label="x₂" name="x2" config=example get=|e| e.x[1] set=|e, v| e.x[1] = v check=moderate />
                        <ConfigField label="y" name="y" config=example get=|e| e.y set=|e, v| e.y = v check=label_rule />
                        <SignalField label="η" name="lr" signal=lr check=learning_rate />
                    </fieldset>
                    <fieldset>
                        <legend>"Hidden layer"</legend>
                        <NumberField label="W¹₁₁" name="W1_11" value=param(0) on_change=set_param(0) check=moderate />
                        <NumberField label="W¹₁₂" name="W1_12" value=param(1) on_change=set_param(1) check=moderate />
                        <NumberField label="W¹₂₁" name="W1_21" value=param(2) on_change=set_param(2) check=moderate />
                        <NumberField label="W¹₂₂" name="W1_22" value=param(3) on_change=set_param(3) check=moderate />
                        <NumberField label="b¹₁" name="b1_1" value=param(4) on_change=set_param(4) check=moderate />
                        <NumberField label="b¹₂" name="b1_2" value=param(5) on_change=set_param(5) check=moderate />
                    </fieldset>
                    <fieldset>
                        <legend>"Output layer"</legend>
                        <NumberField label="W²₁" name="W2_1" value=param(6) on_change=set_param(6) check=moderate />
                        <NumberField label="W²₂" name="W2_2" value=param(7) on_change=set_param(7) check=moderate />
                        <NumberField label="b²" name="b2" value=param(8) on_change=set_param(8) check=moderate />
                    </fieldset>
                </div>
            </div>
            <ol class="bp-stages" aria-label="Stages of the step">
                {STAGES
                    .iter()
                    .enumerate()
                    .map(|(i, name)| view! {
                        <li>
                            <button
                                class:current=move || stage.get() == i
                                aria-current=move || (stage.get() == i).then_some("step")
                                on:click=move |_| stage.set(i)
                            >
                                <span class="stage-number">{i + 1}</span>
                                {*name}
                            </button>
                        </li>
                    })
                    .collect_view()}
            </ol>
            <div class="bp-stage" aria-live="polite" data-stage=move || stage.get().to_string()>
                <h4 class="stage-title">{move || format!("Stage {} of 8 · {}", stage.get() + 1, STAGES[stage.get()])}</h4>
                <p>{move || view_now.get().1}</p>
                <div class="equations" inner_html=move || view_now.get().0></div>
                <Show when=move || stage.get() == 3>
                    <details class="derivation">
                        <summary>"Why is the error just ŷ − y? Unfold the derivation with these numbers"</summary>
                        <div class="details-body" inner_html=move || derivation_html(&step.get(), &example.get())></div>
                    </details>
                </Show>
                <dl class="bp-values">
                    {move || view_now.get().2.into_iter().map(|(name, value)| view! {
                        <div><dt>{name}</dt><dd data-value=name>{format!("{value:.6}")}</dd></div>
                    }).collect_view()}
                </dl>
                {move || {
                    let rows = view_now.get().3;
                    let is_update = stage.get() == 7;
                    (!rows.is_empty()).then(|| view! {
                        <div class="table-wrap">
                            <table class="grad-check">
                                <thead><tr>
                                    <th>"Parameter"</th>
                                    <th>{if is_update { "Now" } else { "Backprop" }}</th>
                                    <th>{if is_update { "After the update" } else { "Finite difference" }}</th>
                                    <th>{if is_update { "Change" } else { "Difference" }}</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|(name, a, b)| view! {
                                        <tr>
                                            <td>{name}</td>
                                            <td>{format!("{a:.6}")}</td>
                                            <td data-check=name>{format!("{b:.6}")}</td>
                                            <td>{if is_update { format!("{:+.6}", b - a) } else { format!("{:.1e}", (a - b).abs()) }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })
                }}
            </div>
            <div class="bp-controls">
                <button on:click=move |_| stage.update(|s| *s = s.saturating_sub(1)) disabled=move || stage.get() == 0>"← Previous stage"</button>
                <button class="primary" on:click=move |_| stage.update(|s| *s = (*s + 1).min(7)) disabled=move || stage.get() == 7>"Next stage →"</button>
                <button on:click=move |_| apply_update() disabled=move || training.get()>"Apply this update"</button>
                <button on:click=move |_| train_more() disabled=move || training.get()>{format!("Train {TRAIN_STEPS} steps")}</button>
                <button on:click=move |_| reset() disabled=move || training.get()>"Reset"</button>
            </div>
            <p class="bp-status" role="status">{move || status.get()}</p>
            <Show when=move || !losses.get().is_empty()>
                <figure class="bp-curve">
                    <LineChart values=Signal::derive(move || losses.get()) x_label="step" aria_label="Loss at each training step" />
                    <figcaption>{move || {
                        let l = losses.get();
                        format!("Loss before each of {} steps: {:.6} → {:.6}", l.len(), l.first().copied().unwrap_or(0.0), l.last().copied().unwrap_or(0.0))
                    }}</figcaption>
                </figure>
            </Show>
        </WidgetFrame>
    }
}

/// The derivation of δ = ŷ − y with the current numbers in each line.
pub fn derivation_html(step: &Step, ex: &Example) -> String {
    let y_hat = step.forward.y_hat;
    let y = ex.y;
    let factors = step.forward.chain_factors(y);
    let (dl_dyhat, dyhat_dz) = (factors.dl_dyhat, factors.dyhat_dz);
    let z = layer("z", 2, None);
    [
        "<p>By the chain rule the error splits into two factors.</p>".to_string(),
        block(&[
            d_loss(&mi("ŷ")),
            mo("="),
            mo("−"),
            frac(&mi("y"), &mi("ŷ")),
            mo("+"),
            frac(
                &format!("{}{}{}", num(1.0, 0), mo("−"), mi("y")),
                &format!("{}{}{}", num(1.0, 0), mo("−"), mi("ŷ")),
            ),
            mo("="),
            num(dl_dyhat, 6),
        ]),
        block(&[
            frac(&format!("<mi>∂</mi>{}", mi("ŷ")), &format!("<mi>∂</mi>{z}")),
            mo("="),
            mi("ŷ"),
            mo("("),
            num(1.0, 0),
            mo("−"),
            mi("ŷ"),
            mo(")"),
            mo("="),
            num(dyhat_dz, 6),
        ]),
        "<p>Multiplying, the ŷ(1 − ŷ) cancels the denominators:</p>".to_string(),
        block(&[
            mo("("),
            mo("−"),
            frac(&mi("y"), &mi("ŷ")),
            mo("+"),
            frac(
                &format!("{}{}{}", num(1.0, 0), mo("−"), mi("y")),
                &format!("{}{}{}", num(1.0, 0), mo("−"), mi("ŷ")),
            ),
            mo(")"),
            mi("ŷ"),
            mo("("),
            num(1.0, 0),
            mo("−"),
            mi("ŷ"),
            mo(")"),
            mo("="),
            mo("−"),
            mi("y"),
            mo("("),
            num(1.0, 0),
            mo("−"),
            mi("ŷ"),
            mo(")"),
            mo("+"),
            mo("("),
            num(1.0, 0),
            mo("−"),
            mi("y"),
            mo(")"),
            mi("ŷ"),
            mo("="),
            mi("ŷ"),
            mo("−"),
            mi("y"),
        ]),
        block(&[
            num(dl_dyhat, 6),
            mo("×"),
            num(dyhat_dz, 6),
            mo("="),
            num(factors.product(), 6),
            mo("="),
            num(y_hat, 6),
            mo("−"),
            factor(y, 4),
        ]),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_view(stage: usize) -> StageView {
        let net = TinyNet::chapter_one();
        let step = net.step(&CHAPTER_EXAMPLE, CHAPTER_LR);
        let numeric = net.numerical_gradient(&CHAPTER_EXAMPLE, FD_STEP);
        stage_view(stage, &net, &CHAPTER_EXAMPLE, CHAPTER_LR, &step, &numeric)
    }

    #[test]
    fn every_stage_shows_equations_and_values() {
        for stage in 0..STAGES.len() {
            let v = seed_view(stage);
            assert!(!v.equations.is_empty(), "stage {stage}");
            assert!(!v.values.is_empty(), "stage {stage}");
            assert!(v.equations.iter().all(|e| e.starts_with("<div class=\"eq\"><math")));
        }
    }

    #[test]
    fn stages_show_the_engine_numbers() {
        let output = seed_view(1);
        assert!(output.equations[1].contains("<mn>0.764498</mn>"), "{}", output.equations[1]);
        assert!(output.explanation.contains("0.308048"), "{}", output.explanation);
        let hidden = seed_view(6);
        assert_eq!(hidden.values[1].0, "dW1_12");
        assert!((hidden.values[1].1 + 0.047100).abs() < 1e-6);
        for (_, analytic, numeric) in hidden.gradient_check {
            assert!((analytic - numeric).abs() < 1e-8);
        }
        let update = seed_view(7);
        let w2_1 = update.values.iter().find(|(n, _)| *n == "W2_1").unwrap().1;
        assert!((w2_1 - 0.470651).abs() < 1e-6);
    }

    #[test]
    fn the_derivation_multiplies_out_to_the_error() {
        let step = TinyNet::chapter_one().step(&CHAPTER_EXAMPLE, CHAPTER_LR);
        let html = derivation_html(&step, &CHAPTER_EXAMPLE);
        assert!(html.contains("<mn>1.308048</mn>"), "dL/dy_hat = -1/y_hat: {html}");
        assert!(html.contains("<mn>0.235502</mn>"), "{html}");
    }

    #[test]
    fn every_stage_has_a_highlight() {
        for stage in 0..STAGES.len() {
            assert!(highlights(stage).iter().any(|&on| on));
        }
    }
}
