//! Chapter 8's race: SGD, momentum, RMSProp, Adam and AdamW start from one point on a 2-D
//! loss surface and their paths are drawn over its contour lines, step by step. Every path
//! comes from `engine::labs::optimizer_race::race`, which drives `engine::core::optim::Optimizer`.

use leptos::prelude::*;

use crate::hooks::interval::use_interval;
use wasm_bindgen::JsCast;

use engine::core::optim::{Hyper, Method};
use engine::labs::optimizer_race::{race, Path, Racer, Surface};

use crate::controls::choice::{Choice, Choosable};
use crate::controls::number_field::{rule, NumberField};
use crate::controls::slider::Slider;
use crate::controls::widget_frame::WidgetFrame;
use crate::plot::contour::{contour, levels, Frame};
use crate::plot::describe::{number, DataTable, TableText};
use crate::plot::optimizer_class::{Kind, OptimizerClass};

/// Steps in one race.
pub const STEPS: usize = 200;
/// The SVG's size and the plot area inside it.
const VIEW: (f64, f64) = (480.0, 320.0);
const FRAME_BOX: (f64, f64, f64, f64) = (8.0, 8.0, 464.0, 304.0); // left, top, width, height
/// Samples per side for the contour grid.
const GRID: (usize, usize) = (73, 49);
/// Contour lines drawn.
const LEVELS: usize = 14;

/// One optimizer's settings as the page holds them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub lr: f64,
    /// Momentum's β, or Adam's β1.
    pub beta1: f64,
    /// RMSProp's β, or Adam's β2.
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub visible: bool,
}

impl Settings {
    /// The engine's update rule for `kind` with these settings.
    pub fn method(&self, kind: Kind) -> Method {
        kind.method(Hyper {
            beta1: self.beta1 as f32,
            beta2: self.beta2 as f32,
            eps: self.eps as f32,
            weight_decay: self.weight_decay as f32,
        })
    }
}

/// The settings each optimizer starts with on `surface`: the usual β's and ε, and a
/// learning rate at which that rule makes visible progress there without blowing up.
pub fn default_settings(surface: Surface, kind: Kind) -> Settings {
    let lr = match (surface, kind) {
        // The chapter's η = 0.07, just under the valley's limit of 0.08.
        (Surface::Valley, Kind::Sgd | Kind::Momentum) => 0.07,
        (Surface::Valley, _) => 0.3,
        // Rosenbrock's curvature near the start is about 1,900, so SGD needs η < 0.001.
        (Surface::Rosenbrock, Kind::Sgd | Kind::Momentum) => 0.0008,
        (Surface::Rosenbrock, _) => 0.05,
        (Surface::Saddle, _) => 0.1,
        (Surface::TwoBasins, Kind::Sgd | Kind::Momentum) => 0.05,
        (Surface::TwoBasins, _) => 0.1,
    };
    let beta2 = if kind == Kind::RmsProp { 0.9 } else { 0.999 };
    Settings { lr, beta1: 0.9, beta2, eps: 1e-8, weight_decay: 0.01, visible: true }
}

/// The engine's race for these settings (hidden optimizers are raced too; the page just
/// does not draw them).
pub fn run_race(surface: Surface, start: [f64; 2], settings: &[Settings; 5]) -> Vec<Path> {
    let racers: Vec<Racer> = Kind::ALL
        .iter()
        .zip(settings)
        .map(|(&kind, s)| Racer { method: s.method(kind), lr: s.lr as f32 })
        .collect();
    race(surface, start, &racers, STEPS)
}

/// What the legend says about a path after `shown` steps.
pub fn status(path: &Path, shown: usize) -> String {
    match path.diverged_at {
        Some(k) if shown >= k => format!("diverged at step {k}"),
        _ => format!("loss {}", format_loss(path.loss_at(shown))),
    }
}

fn format_loss(v: f64) -> String {
    if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

impl Choosable for Surface {
    fn all() -> &'static [Self] {
        &Surface::ALL
    }
    fn value(self) -> &'static str {
        self.key()
    }
    fn label(self) -> &'static str {
        self.name()
    }
}

fn frame(surface: Surface) -> Frame {
    let b = surface.bounds();
    let (left, top, width, height) = FRAME_BOX;
    Frame { x: b.x, y: b.y, left, top, width, height }
}

fn coordinate(v: f64) -> Result<(), String> {
    rule(v.abs() <= 20.0, "Use a number from −20 to 20.")
}

/// The widget.
#[component]
pub fn OptimizerRace() -> impl IntoView {
    let surface = RwSignal::new(Surface::Valley);
    let start = RwSignal::new(Surface::Valley.default_start());
    let settings = RwSignal::new(Kind::ALL.map(|k| default_settings(Surface::Valley, k)));
    // Steps drawn so far: the whole race at first, replayed from 0 by Play.
    let shown = RwSignal::new(STEPS);
    let playing = RwSignal::new(false);

    let paths = Memo::new(move |_| run_race(surface.get(), start.get(), &settings.get()));
    let contours = Memo::new(move |_| {
        let s = surface.get();
        let values = s.grid(GRID.0, GRID.1);
        let f = frame(s);
        levels(&values, LEVELS)
            .into_iter()
            .map(|level| contour(&values, GRID.0, GRID.1, level, &f))
            .collect::<Vec<_>>()
    });

    let pick_surface = move |s: Surface| {
        surface.set(s);
        start.set(s.default_start());
        settings.update(|all| {
            for (k, slot) in Kind::ALL.iter().zip(all.iter_mut()) {
                *slot = Settings { visible: slot.visible, ..default_settings(s, *k) };
            }
        });
        shown.set(STEPS);
        playing.set(false);
    };
    // A new start replays the race from step 0, unless the reader asked for reduced
    // motion: then the whole race is drawn at once (Play still replays it on request).
    let set_start = move |p: [f64; 2]| {
        start.set(p);
        if crate::browser::prefers_reduced_motion() {
            playing.set(false);
            shown.set(STEPS);
        } else {
            shown.set(0);
            playing.set(true);
        }
    };
    // A click on the plot: from the pixel on screen, through the SVG's viewBox, to the plot.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(svg) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
            return;
        };
        let rect = svg.get_bounding_client_rect();
        if rect.width() <= 0.0 || rect.height() <= 0.0 {
            return;
        }
        let vx = (ev.client_x() as f64 - rect.left()) / rect.width() * VIEW.0;
        let vy = (ev.client_y() as f64 - rect.top()) / rect.height() * VIEW.1;
        let p = frame(surface.get_untracked()).to_plot(vx, vy);
        if surface.get_untracked().bounds().contains(p) {
            // Rounded to what the start fields show.
            set_start([(p[0] * 1000.0).round() / 1000.0, (p[1] * 1000.0).round() / 1000.0]);
        }
    };

    use_interval(playing, std::time::Duration::from_millis(40), move || {
        if shown.get_untracked() >= STEPS {
            playing.set(false);
        } else {
            shown.update(|s| *s = (*s + 2).min(STEPS));
        }
    });

    let at_end = move || shown.get() >= STEPS;
    let field = move |i: usize, which: usize| {
        move || {
            settings.with(|s| {
                let s = &s[i];
                [s.lr, s.beta1, s.beta2, s.eps, s.weight_decay][which]
            })
        }
    };
    let setter = move |i: usize, which: usize| {
        Callback::new(move |v: f64| {
            settings.update(|s| {
                let s = &mut s[i];
                match which {
                    0 => s.lr = v,
                    1 => s.beta1 = v,
                    2 => s.beta2 = v,
                    3 => s.eps = v,
                    _ => s.weight_decay = v,
                }
            })
        })
    };

    // Where each shown optimizer is after the steps drawn, as a sentence and as a table.
    let positions = move || {
        let (n, paths, s) = (shown.get(), paths.get(), settings.get());
        Kind::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| s[*i].visible)
            .map(|(i, kind)| {
                let points = &paths[i].points;
                let at = points.get(n.min(points.len().saturating_sub(1))).copied();
                (kind.name(), at, status(&paths[i], n))
            })
            .collect::<Vec<_>>()
    };
    let race_name = move || {
        let [x, y] = start.get();
        let each: Vec<String> =
            positions().into_iter().map(|(name, _, state)| format!("{name} {state}")).collect();
        format!(
            "Contour plot of the {} loss surface, the race starting at ({}, {}); after {} of {STEPS} steps: {}. Click to set the start.",
            surface.get().name(),
            number(x),
            number(y),
            shown.get(),
            if each.is_empty() { "no optimizer shown".to_string() } else { each.join("; ") }
        )
    };
    let race_table = Signal::derive(move || {
        let rows = positions()
            .into_iter()
            .map(|(name, at, state)| {
                let coordinate = |k: usize| at.map_or("–".to_string(), |p| number(f64::from(p[k])));
                vec![name.to_string(), coordinate(0), coordinate(1), state]
            })
            .collect();
        TableText { headers: ["optimizer", "x", "y", "now"].map(String::from).to_vec(), rows }
    });

    view! {
        <WidgetFrame class="race" label="Optimizer race on a loss surface" title="Live: five optimizers race on a loss surface" badge="CPU · engine::labs::optimizer_race::race">
            <div class="xor-controls">
                <Choice label="surface" name="race-surface" value=surface on_change=Callback::new(pick_surface) />
                <NumberField label="start x" name="race-x" value=Signal::derive(move || start.get()[0])
                    on_change=Callback::new(move |v| set_start([v, start.get_untracked()[1]])) check=coordinate />
                <NumberField label="start y" name="race-y" value=Signal::derive(move || start.get()[1])
                    on_change=Callback::new(move |v| set_start([start.get_untracked()[0], v])) check=coordinate />
            </div>
            <div class="bp-controls">
                <button class="primary" data-name="race-play" on:click=move |_| {
                    if !playing.get_untracked() && shown.get_untracked() >= STEPS { shown.set(0) }
                    playing.update(|p| *p = !*p)
                }>{move || if playing.get() { "Pause" } else { "Play" }}</button>
                <button data-name="race-step" disabled=move || playing.get() || at_end()
                    on:click=move |_| shown.update(|s| *s = (*s + 1).min(STEPS))>"Step"</button>
                <button data-name="race-reset" on:click=move |_| { playing.set(false); shown.set(0) }>"Reset"</button>
                <span class="epoch-count"><span data-value="race-shown">{move || shown.get()}</span>{format!(" / {STEPS} steps")}</span>
            </div>
            <div class="race-grid">
                <figure class="race-plot">
                    <svg viewBox=format!("0 0 {} {}", VIEW.0, VIEW.1) role="img"
                        aria-label=race_name
                        on:click=on_click>
                        <defs><clipPath id="race-clip"><rect x=FRAME_BOX.0 y=FRAME_BOX.1 width=FRAME_BOX.2 height=FRAME_BOX.3 /></clipPath></defs>
                        <rect class="race-bg" x=FRAME_BOX.0 y=FRAME_BOX.1 width=FRAME_BOX.2 height=FRAME_BOX.3 />
                        <g class="contours" clip-path="url(#race-clip)">
                            {move || contours.get().into_iter().map(|d| view! { <path d=d /> }).collect_view()}
                        </g>
                        <g clip-path="url(#race-clip)">
                            {move || {
                                let f = frame(surface.get());
                                let n = shown.get();
                                let paths = paths.get();
                                let s = settings.get();
                                Kind::ALL.iter().enumerate().filter(|(i, _)| s[*i].visible).map(|(i, kind)| {
                                    let points = &paths[i].points[..paths[i].points.len().min(n + 1)];
                                    let head = points.last().map(|p| f.to_pixel([p[0] as f64, p[1] as f64])).unwrap_or((0.0, 0.0));
                                    view! {
                                        <g class=format!("race-path {}", kind.class())>
                                            <path data-path=kind.key() d=f.path(points) />
                                            <circle cx=head.0 cy=head.1 r="4.5" />
                                        </g>
                                    }
                                }).collect_view()
                            }}
                        </g>
                        {move || {
                            let (x, y) = frame(surface.get()).to_pixel(start.get());
                            view! { <circle class="race-start" cx=x cy=y r="6" /> }
                        }}
                    </svg>
                    <figcaption>{move || {
                        let b = surface.get().bounds();
                        format!("x from {} to {}, y from {} to {}. Click anywhere on the plot to start the race there.", b.x.0, b.x.1, b.y.0, b.y.1)
                    }}</figcaption>
                    <DataTable table=race_table caption="Where each optimizer is after the steps shown" />
                </figure>
                <ul class="race-legend">
                    {Kind::ALL.iter().enumerate().map(|(i, &kind)| {
                        let uses = kind.uses();
                        let key = kind.key();
                        view! {
                            <li class=format!("race-entry {}", kind.class())>
                                <label class="race-toggle">
                                    <input type="checkbox" data-name=format!("race-show-{key}")
                                        prop:checked=move || settings.with(|s| s[i].visible)
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            settings.update(|s| s[i].visible = on);
                                        } />
                                    <svg class="swatch" viewBox="0 0 28 10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" /></svg>
                                    <strong>{kind.name()}</strong>
                                </label>
                                <span class="race-status" data-value=format!("race-status-{key}")>
                                    {move || if settings.with(|s| s[i].visible) { status(&paths.get()[i], shown.get()) } else { "hidden".to_string() }}
                                </span>
                                <div class="race-sliders">
                                    <Slider symbol=true label="η" name=format!("race-lr-{key}") min=-4.0 max=1.0 step=0.05 log=true value=Signal::derive(field(i, 0)) on_change=setter(i, 0) />
                                    {uses[0].then(|| view! { <Slider symbol=true label=if kind == Kind::Momentum { "β" } else { "β1" } name=format!("race-beta1-{key}") min=0.0 max=0.99 step=0.01 value=Signal::derive(field(i, 1)) on_change=setter(i, 1) /> })}
                                    {uses[1].then(|| view! { <Slider symbol=true label=if kind == Kind::RmsProp { "β" } else { "β2" } name=format!("race-beta2-{key}") min=0.5 max=0.9999 step=0.0001 value=Signal::derive(field(i, 2)) on_change=setter(i, 2) /> })}
                                    {uses[2].then(|| view! { <Slider symbol=true label="ε" name=format!("race-eps-{key}") min=-10.0 max=0.0 step=0.5 log=true value=Signal::derive(field(i, 3)) on_change=setter(i, 3) /> })}
                                    {uses[3].then(|| view! { <Slider symbol=true label="λ" name=format!("race-wd-{key}") min=0.0 max=0.5 step=0.01 value=Signal::derive(field(i, 4)) on_change=setter(i, 4) /> })}
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_race_runs_without_diverging() {
        for surface in Surface::ALL {
            let settings = Kind::ALL.map(|k| default_settings(surface, k));
            let paths = run_race(surface, surface.default_start(), &settings);
            for (kind, path) in Kind::ALL.iter().zip(&paths) {
                assert_eq!(path.diverged_at, None, "{kind:?} on {surface:?}");
                assert!(path.loss_at(STEPS) < path.losses[0], "{kind:?} on {surface:?} made no progress");
            }
        }
    }

    #[test]
    fn the_largest_rate_makes_sgd_diverge_and_the_legend_says_so() {
        let mut settings = Kind::ALL.map(|k| default_settings(Surface::Valley, k));
        settings[0].lr = 10.0;
        let paths = run_race(Surface::Valley, [10.0, 1.0], &settings);
        let k = paths[0].diverged_at.expect("η = 10 diverges on the valley");
        assert_eq!(status(&paths[0], STEPS), format!("diverged at step {k}"));
        assert!(status(&paths[0], 0).starts_with("loss 62.5"));
    }

    #[test]
    fn settings_build_the_engines_rules() {
        let s = default_settings(Surface::Valley, Kind::AdamW);
        assert_eq!(
            s.method(Kind::AdamW),
            Method::AdamW { beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }
        );
        assert_eq!(s.method(Kind::Momentum), Method::Momentum { beta: 0.9 });
        assert!(coordinate(21.0).is_err() && coordinate(-3.5).is_ok());
    }
}
