//! The answer box under an exercise: the reader types a number, and the engine's grader
//! (`engine::labs::exercises`) says whether it is right within the stated tolerance, names
//! the likely mistake when the number matches one, and refuses what is not a number. A right
//! answer marks the exercise solved in the reader's progress.

use leptos::prelude::*;

use engine::labs::exercises::{exercise, format_tolerance, format_value, parse_answer, Verdict};

use crate::hooks::exercise_progress::use_progress;

/// What the last Check said.
#[derive(Clone, Debug, PartialEq)]
enum Shown {
    Nothing,
    Invalid(String),
    Correct,
    Mistake(&'static str),
    Wrong,
}

/// An answer box for the exercise part `id` (one of `engine::labs::exercises::IDS`).
#[component]
pub fn AnswerCheck(
    /// The exercise part, `1.1a`.
    id: &'static str,
) -> impl IntoView {
    // The build refuses ids the grader does not know, and a test checks both lists agree.
    let Some(ex) = exercise(id) else {
        return view! { <p class="answer-check-missing">"This exercise cannot be checked here."</p> }
            .into_any();
    };
    let progress = use_progress();
    let draft = RwSignal::new(String::new());
    let shown = RwSignal::new(Shown::Nothing);
    let name = format!("answer-{id}");
    let input_id = format!("answer-input-{}", id.replace('.', "-"));
    let verdict_id = format!("{input_id}-verdict");
    let tolerance = format_tolerance(ex.tolerance);
    let value = format_value(ex.value);
    let grade = ex.clone();
    let check = move || {
        let next = match parse_answer(&draft.get_untracked()) {
            Err(message) => Shown::Invalid(message),
            Ok(answer) => match grade.grade(answer) {
                Verdict::Correct => {
                    progress.mark_solved(id);
                    Shown::Correct
                }
                Verdict::Mistake(message) => Shown::Mistake(message),
                Verdict::Wrong => Shown::Wrong,
            },
        };
        shown.set(next);
    };
    let message = {
        let tolerance = tolerance.clone();
        move || {
            match shown.get() {
            Shown::Nothing => ().into_any(),
            Shown::Invalid(message) => message.into_any(),
            Shown::Correct => view! {
                "Correct. The engine's value is "
                <span class="answer-value" data-value=value.clone()>{value.clone()}</span>
                {format!("; answers within ±{tolerance} count.")}
            }
            .into_any(),
            Shown::Mistake(message) => format!("Not quite. {message}").into_any(),
            Shown::Wrong => format!(
                "Not quite, and not one of the usual slips. Go through the steps again; answers within ±{tolerance} of the value count."
            )
            .into_any(),
        }
        }
    };
    let kind = move || match shown.get() {
        Shown::Nothing => "",
        Shown::Invalid(_) => "invalid",
        Shown::Correct => "correct",
        Shown::Mistake(_) => "mistake",
        Shown::Wrong => "wrong",
    };
    let solved = move || progress.is_solved(id);
    view! {
        <form
            class="answer-check"
            data-exercise=id
            class:solved=solved
            on:submit=move |ev| {
                ev.prevent_default();
                check();
            }
        >
            <label for=input_id.clone()>
                <span class="answer-id">{id}</span>
                {format!(" Your answer: {}", ex.prompt)}
            </label>
            <div class="answer-row">
                <input
                    id=input_id
                    type="text"
                    inputmode="decimal"
                    autocomplete="off"
                    spellcheck="false"
                    data-name=name.clone()
                    aria-describedby=verdict_id.clone()
                    aria-invalid=move || matches!(shown.get(), Shown::Invalid(_)).to_string()
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                />
                <button type="submit" class="primary">"Check"</button>
                <Show when=solved>
                    <span class="answer-solved" title="Solved; remembered in this browser">"✓ solved"</span>
                </Show>
            </div>
            <p
                class="answer-verdict"
                id=verdict_id
                role="status"
                data-verdict=kind
                data-error-for=move || matches!(shown.get(), Shown::Invalid(_)).then(|| name.clone())
            >
                {message}
            </p>
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use bookgen::directive::ANSWER_IDS;

    use crate::book::CHAPTERS;

    /// The build validates ids against bookgen's list; the grader must know exactly those, and
    /// the book must use each of them.
    #[test]
    fn the_build_and_the_grader_know_the_same_exercises() {
        assert_eq!(ANSWER_IDS, engine::labs::exercises::IDS);
        let used: Vec<&str> = CHAPTERS.iter().flat_map(|c| c.answer_ids()).collect();
        let mut sorted = used.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), used.len(), "an id is used twice: {used:?}");
        assert_eq!(used.len(), ANSWER_IDS.len(), "every graded exercise has a box: {used:?}");
    }
}
