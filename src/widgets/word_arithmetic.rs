//! Chapter 9's word arithmetic on GloVe's vectors: a − b + c with its ten nearest words, the
//! input words left out or kept in, and word2vec's analogy questions scored in the page,
//! category by category.

use std::time::Duration;

use engine::models::word_vectors::AnalogyScore;
use leptos::prelude::*;

use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::hooks::word_vectors::{use_word_vectors, Glove, GloveState};
use crate::plot::word_map::bar_percent;

/// Questions scored per timer tick: each is a pass over all 20,000 words.
const QUESTIONS_PER_TICK: usize = 60;

/// One of the ten nearest words: the word, its cosine, and whether it is an input.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub word: String,
    pub cosine: f32,
    pub is_input: bool,
}

/// The ten nearest words to a − b + c.
pub fn nearest_to(glove: &Glove, words: [&str; 3], exclude_inputs: bool) -> Result<Vec<Row>, String> {
    let v = &glove.vectors;
    let ids = [v.id(words[0])?, v.id(words[1])?, v.id(words[2])?];
    Ok(v.solve(ids, 10, exclude_inputs)
        .into_iter()
        .map(|n| Row { word: v.word(n.id).to_string(), cosine: n.cosine, is_input: ids.contains(&n.id) })
        .collect())
}

/// How far the scoring of the analogy set has got.
#[derive(Clone, Debug, Default, PartialEq)]
struct Scoring {
    category: usize,
    question: usize,
    scores: Vec<AnalogyScore>,
}

impl Scoring {
    /// Scores up to `budget` more questions; returns false once every question is scored.
    fn advance(&mut self, glove: &Glove, budget: usize) -> bool {
        self.scores.resize(glove.categories.len(), AnalogyScore::default());
        for _ in 0..budget {
            let Some(category) = glove.categories.get(self.category) else { return false };
            match category.questions.get(self.question) {
                Some(&q) => {
                    self.scores[self.category].add(&glove.vectors, q);
                    self.question += 1;
                }
                None => {
                    self.category += 1;
                    self.question = 0;
                }
            }
        }
        self.category < glove.categories.len()
    }
}

fn percent(rate: f32) -> String {
    format!("{:.1}%", rate * 100.0)
}

/// The widget.
#[component]
pub fn WordArithmetic() -> impl IntoView {
    let glove = use_word_vectors();
    let texts = [
        RwSignal::new("king".to_string()),
        RwSignal::new("man".to_string()),
        RwSignal::new("woman".to_string()),
    ];
    let exclude = RwSignal::new(true);
    let last_good = RwSignal::new(Vec::<Row>::new());
    let answer = Memo::new(move |_| match glove.get() {
        GloveState::Ready(g) => {
            let words = texts.map(|t| t.get());
            Some(nearest_to(&g, [&words[0], &words[1], &words[2]], exclude.get()))
        }
        _ => None,
    });
    Effect::new(move |_| {
        if let Some(Ok(rows)) = answer.get() {
            last_good.set(rows);
        }
    });
    let error = move || match answer.get() {
        Some(Err(e)) => Some(format!("{e}. Showing the last answer.")),
        _ => None,
    };

    let scoring = RwSignal::new(Scoring::default());
    let running = RwSignal::new(false);
    use_interval(running, Duration::from_millis(30), move || {
        if let GloveState::Ready(g) = glove.get_untracked() {
            let mut more = true;
            scoring.update(|s| more = s.advance(&g, QUESTIONS_PER_TICK));
            if !more {
                running.set(false);
            }
        }
    });
    let total = move || AnalogyScore::combined(&scoring.with(|s| s.scores.clone()));
    let asked_of = move || match glove.get() {
        GloveState::Ready(g) => g.categories.iter().map(|c| c.questions.len()).sum::<usize>(),
        _ => 0,
    };

    let field = move |i: usize, name: &'static str| {
        view! {
            <input type="text" data-name=name spellcheck="false" autocomplete="off" aria-label=name
                prop:value=move || texts[i].get() on:input=move |ev| texts[i].set(event_target_value(&ev)) />
        }
    };
    let rows = move || {
        last_good.get().into_iter().enumerate().map(|(i, r)| {
            let width = format!("{:.1}%", bar_percent(r.cosine, 0.0, 1.0));
            view! {
                <tr class:is-input=r.is_input data-row=i>
                    <td>{i + 1}</td>
                    <td data-value=format!("wa-word-{i}")>{r.word.clone()}{if r.is_input { " (input)" } else { "" }}</td>
                    <td class="num" data-value=format!("wa-cos-{i}")>{format!("{:.4}", r.cosine)}</td>
                    <td class="bar-cell"><span class="cos-bar" style:width=width></span></td>
                </tr>
            }
        }).collect_view()
    };
    let table = move || {
        let GloveState::Ready(g) = glove.get() else { return ().into_any() };
        let scores = scoring.with(|s| s.scores.clone());
        g.categories
            .iter()
            .zip(scores.iter().chain(std::iter::repeat(&AnalogyScore::default())))
            .map(|(c, s)| {
                let [ex, inc, input] = s.rates();
                view! {
                    <tr>
                        <th scope="row">{c.name.clone()}</th>
                        <td class="num">{format!("{} / {}", s.asked, c.questions.len())}</td>
                        <td class="num">{percent(ex)}</td>
                        <td class="num">{percent(inc)}</td>
                        <td class="num">{percent(input)}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };

    view! {
        <WidgetFrame class="word-arithmetic" label="Word arithmetic" title="Live: word arithmetic on GloVe's vectors" badge="CPU · engine::models::word_vectors">
            {move || match glove.get() {
                GloveState::Loading => Some(view! { <p class="widget-note" role="status">"Downloading the word vectors (1.5 MB)…"</p> }.into_any()),
                GloveState::Failed(e) => Some(view! { <p class="field-error" role="status">{e}</p> }.into_any()),
                GloveState::Ready(_) => None,
            }}
            <div class="wa-equation">
                {field(0, "wa-a")}<span aria-hidden="true">" − "</span>{field(1, "wa-b")}<span aria-hidden="true">" + "</span>{field(2, "wa-c")}
            </div>
            <label class="toggles"><input type="checkbox" data-name="wa-exclude" prop:checked=move || exclude.get()
                on:change=move |ev| exclude.set(event_target_checked(&ev)) />" leave the three input words out of the answers"</label>
            <p class="field-error" data-error-for="wa" role="status">{error}</p>
            <div class="table-wrap">
                <table class="wa-table">
                    <thead><tr><th scope="col">"#"</th><th scope="col">"word"</th><th scope="col">"cosine"</th><th scope="col"><span class="visually-hidden">"bar"</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h4 class="lab-subtitle">"The analogy test set, scored here"</h4>
            <div class="bp-controls">
                <button class="primary" data-name="wa-score" disabled=move || !matches!(glove.get(), GloveState::Ready(_))
                    on:click=move |_| running.update(|r| *r = !*r)>{move || if running.get() { "Pause" } else { "Score the questions" }}</button>
                <button on:click=move |_| { running.set(false); scoring.set(Scoring::default()); }>"Reset"</button>
            </div>
            <dl class="bp-values">
                <div><dt>"questions scored"</dt><dd data-value="wa-asked">{move || format!("{} of {}", total().asked, asked_of())}</dd></div>
                <div><dt>"right, inputs left out"</dt><dd data-value="wa-right-excluding">{move || percent(total().rates()[0])}</dd></div>
                <div><dt>"right, inputs kept in"</dt><dd data-value="wa-right-including">{move || percent(total().rates()[1])}</dd></div>
                <div><dt>"nearest word is an input"</dt><dd data-value="wa-input-nearest">{move || percent(total().rates()[2])}</dd></div>
            </dl>
            <div class="table-wrap">
                <table class="wa-scores">
                    <thead><tr><th scope="col">"category"</th><th scope="col">"scored"</th><th scope="col">"right, inputs out"</th><th scope="col">"right, inputs in"</th><th scope="col">"nearest is an input"</th></tr></thead>
                    <tbody>{table}</tbody>
                </table>
            </div>
        </WidgetFrame>
    }
}
