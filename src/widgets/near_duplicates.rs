//! Chapter 4's near-duplicate search: two editable passages as shingle sets, their exact
//! Jaccard beside the MinHash estimate, the banding curve 1 − (1 − s^r)^b with the pair on it,
//! and the search run over every speech of the Shakespeare text, from
//! `engine::labs::near_duplicates`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use engine::labs::near_duplicates::{
    candidate_pairs, candidate_probability, check_banding, estimate, jaccard, quality_of_scored,
    rank_candidates, shingles, speeches, MinHasher, ShingleIndex,
};

use crate::controls::number_field::{is_whole_in, rule, ConfigField};
use crate::controls::widget_frame::WidgetFrame;
use crate::hooks::interval::use_interval;
use crate::plot::chart::{describe_series, series_table, Series};
use crate::plot::describe::{number, DataTable};
use crate::plot::scatter::{dots, path_through, to_pixel, LEFT, PLOT_H, PLOT_W, TOP};

/// The seed of the hash functions.
const SEED: u64 = 1;
/// The longest passage the widget takes, in characters.
const MAX_CHARS: usize = 20_000;
/// Milliseconds of work per tick of the corpus search, so the page stays responsive.
const BUDGET_MS: f64 = 12.0;
const TICK: Duration = Duration::from_millis(16);
/// Candidate pairs listed under the search.
const LISTED: usize = 8;
/// Points along the banding curve.
const CURVE_POINTS: usize = 100;

/// Hamlet's soliloquy, as the corpus prints it.
pub const PASSAGE_A: &str = "To be, or not to be,--that is the question:--
Whether 'tis nobler in the mind to suffer
The slings and arrows of outrageous fortune
Or to take arms against a sea of troubles,
And by opposing end them?--To die,--to sleep,--
No more; and by a sleep to say we end
The heartache, and the thousand natural shocks
That flesh is heir to,--'tis a consummation
Devoutly to be wish'd. To die,--to sleep;--
To sleep! perchance to dream:--ay, there's the rub;
For in that sleep of death what dreams may come,
When we have shuffled off this mortal coil,
Must give us pause: there's the respect
That makes calamity of so long life;";

/// The same lines with three words changed.
pub const PASSAGE_B: &str = "To be, or not to be,--that is the question:--
Whether 'tis nobler in the mind to bear
The slings and arrows of outrageous fortune
Or to take arms against a sea of troubles,
And by opposing end them?--To die,--to sleep,--
No more; and by a sleep to say we end
The heartache, and the thousand natural shocks
That flesh is heir to,--'tis a consummation
Devoutly to be wished. To die,--to sleep;--
To sleep! perchance to dream:--ay, there's the rub;
For in that sleep of death what dreams may come,
When we have shaken off this mortal coil,
Must give us pause: there's the respect
That makes calamity of so long life;";

/// The search's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Settings {
    /// Words per shingle.
    k: usize,
    /// Hash functions in a signature.
    hashes: usize,
    bands: usize,
    rows: usize,
    /// The exact Jaccard at which a pair counts as a near-duplicate.
    threshold: f64,
}

const START: Settings = Settings { k: 5, hashes: 100, bands: 20, rows: 5, threshold: 0.5 };

fn k_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 2.0, 10.0), "Use a whole shingle size from 2 to 10 words.")
}

fn hashes_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 1.0, 500.0), "Use a whole number of hashes from 1 to 500.")
}

/// Bands and rows: 0 is let through for the banding check to explain.
fn band_rule(v: f64) -> Result<(), String> {
    rule(is_whole_in(v, 0.0, 500.0), "Use a whole number up to 500.")
}

fn threshold_rule(v: f64) -> Result<(), String> {
    rule(v > 0.0 && v <= 1.0, "Use a threshold above 0 and at most 1.")
}

/// Checks a passage: at least one word, at most 20,000 characters.
pub fn check_passage(text: &str) -> Result<(), String> {
    if text.split_whitespace().next().is_none() {
        return Err("Type at least one word.".to_string());
    }
    let chars = text.chars().count();
    rule(
        chars <= MAX_CHARS,
        &format!("This passage has {chars} characters; the widget takes at most 20,000."),
    )
}

/// A similarity to three decimals.
pub fn three(v: f64) -> String {
    format!("{v:.3}")
}

/// A speech shortened for a list: its first `words` words, with an ellipsis if cut.
pub fn excerpt(text: &str, words: usize) -> String {
    let all: Vec<&str> = text.split_whitespace().collect();
    if all.len() <= words {
        all.join(" ")
    } else {
        format!("{} …", all[..words].join(" "))
    }
}

/// The search over the speeches, run a slice at a time.
struct CorpusRun {
    k: usize,
    hashes: usize,
    documents: Vec<BTreeSet<u64>>,
    index: ShingleIndex,
    hasher: MinHasher,
    next_row: usize,
    scored: Vec<(usize, usize, f64)>,
    signatures: Vec<Vec<u64>>,
}

impl CorpusRun {
    fn new(texts: &[String], k: usize, hashes: usize) -> CorpusRun {
        let documents: Vec<BTreeSet<u64>> = texts.iter().map(|t| shingles(t, k)).collect();
        let index = ShingleIndex::new(&documents);
        CorpusRun {
            k,
            hashes,
            documents,
            index,
            hasher: MinHasher::new(hashes, SEED),
            next_row: 0,
            scored: Vec::new(),
            signatures: Vec::new(),
        }
    }

    /// Scores one more document's pairs or signs one more document; false once done.
    fn step(&mut self) -> bool {
        if self.next_row < self.documents.len() {
            self.scored.extend(self.index.pairs_after(&self.documents, self.next_row));
            self.next_row += 1;
            true
        } else if self.signatures.len() < self.documents.len() {
            let doc = &self.documents[self.signatures.len()];
            self.signatures.push(self.hasher.signature(doc));
            true
        } else {
            false
        }
    }

    fn done(&self) -> usize {
        self.next_row + self.signatures.len()
    }
}

/// A finished search: every pair with a nonzero Jaccard, and every speech's signature.
#[derive(Clone)]
struct Finished {
    k: usize,
    hashes: usize,
    scored: Arc<Vec<(usize, usize, f64)>>,
    signatures: Arc<Vec<Vec<u64>>>,
}

/// The widget.
#[component]
pub fn NearDuplicates() -> impl IntoView {
    let draft = RwSignal::new(START);
    // The last settings whose banding fits the signature.
    let settings = Memo::new(move |previous: Option<&Settings>| {
        let s = draft.get();
        match (check_banding(s.hashes, s.bands, s.rows), previous) {
            (Ok(()), _) => s,
            (Err(_), Some(last)) => *last,
            (Err(_), None) => START,
        }
    });
    let banding_error = move || {
        let s = draft.get();
        check_banding(s.hashes, s.bands, s.rows).err()
    };

    // The two passages: what the boxes hold, and the last good text of each.
    let text_a = RwSignal::new(PASSAGE_A.to_string());
    let text_b = RwSignal::new(PASSAGE_B.to_string());
    let good_a = RwSignal::new(PASSAGE_A.to_string());
    let good_b = RwSignal::new(PASSAGE_B.to_string());
    let error_a = move || check_passage(&text_a.get()).err();
    let error_b = move || check_passage(&text_b.get()).err();
    let on_text = move |box_: RwSignal<String>, good: RwSignal<String>| {
        move |ev: leptos::ev::Event| {
            let text = event_target_value(&ev);
            if check_passage(&text).is_ok() {
                good.set(text.clone());
            }
            box_.set(text);
        }
    };

    let pair = Memo::new(move |_| {
        let s = settings.get();
        let (a, b) = (shingles(&good_a.get(), s.k), shingles(&good_b.get(), s.k));
        let hasher = MinHasher::new(s.hashes, SEED);
        let exact = jaccard(&a, &b);
        let estimated = estimate(&hasher.signature(&a), &hasher.signature(&b));
        (a.len(), b.len(), exact, estimated, candidate_probability(exact, s.bands, s.rows))
    });

    // The curve and the pair's point on it, in the unit square.
    let range = (0.0, 1.0);
    let curve = Memo::new(move |_| {
        let s = settings.get();
        (0..=CURVE_POINTS)
            .map(|i| {
                let x = i as f64 / CURVE_POINTS as f64;
                (x as f32, candidate_probability(x, s.bands, s.rows) as f32)
            })
            .collect::<Vec<_>>()
    });
    let marker = move || {
        let (_, _, exact, _, p) = pair.get();
        dots(&[(exact as f32, p as f32)], range)[0]
    };
    let threshold_x = move || to_pixel(settings.get().threshold as f32, 0.0, range).0;
    // The curve as text: its course, the two passages' place on it, and the threshold.
    let curve_series = move || {
        let points = curve.with(|c| c.iter().map(|&(x, p)| (f64::from(x), f64::from(p))).collect());
        vec![Series { points, name: "The chance".into(), ..Series::default() }]
    };
    let curve_name = move || {
        let s = settings.get();
        let (_, _, exact, _, p) = pair.get();
        let title = format!(
            "Chance of becoming candidates, 1 − (1 − s^{})^{}, against Jaccard similarity s",
            s.rows, s.bands
        );
        format!(
            "{} The two passages, at s = {}, have chance {}; the threshold is {}.",
            describe_series(&title, &curve_series(), "s"),
            number(exact),
            number(p),
            number(s.threshold)
        )
    };
    let curve_table = Signal::derive(move || series_table(&curve_series(), "Jaccard s"));

    // The speeches, fetched when the reader asks for the search.
    let texts = StoredValue::new(None::<Arc<Vec<String>>>);
    let load = RwSignal::new(None::<Result<usize, String>>);
    let run = StoredValue::new(None::<CorpusRun>);
    let progress = RwSignal::new((0usize, 0usize));
    let finished = RwSignal::new(None::<Finished>);
    let running = RwSignal::new(false);

    let start = move || {
        let Some(all) = texts.get_value() else { return };
        let s = settings.get_untracked();
        run.set_value(Some(CorpusRun::new(&all, s.k, s.hashes)));
        progress.set((0, 2 * all.len()));
        finished.set(None);
        running.set(true);
    };
    let tick = move || {
        let t0 = crate::browser::now_ms();
        let mut done = None;
        run.update_value(|r| {
            let Some(r) = r.as_mut() else { return };
            let mut more = true;
            while more && crate::browser::now_ms() - t0 < BUDGET_MS {
                more = r.step();
            }
            progress.set((r.done(), 2 * r.documents.len()));
            if !more {
                done = Some(Finished {
                    k: r.k,
                    hashes: r.hashes,
                    scored: Arc::new(std::mem::take(&mut r.scored)),
                    signatures: Arc::new(std::mem::take(&mut r.signatures)),
                });
            }
        });
        if let Some(f) = done {
            run.set_value(None);
            finished.set(Some(f));
            running.set(false);
        }
    };
    use_interval(running, TICK, tick);
    let search = move |_| {
        if texts.get_value().is_some() {
            start();
            return;
        }
        load.set(Some(Err("Downloading the play text …".to_string())));
        spawn_local(async move {
            match crate::hooks::play_text::play_text().await {
                Ok(text) => {
                    let all = speeches(&text);
                    load.set(Some(Ok(all.len())));
                    texts.set_value(Some(Arc::new(all)));
                    start();
                }
                Err(e) => load.set(Some(Err(e))),
            }
        });
    };
    // A new shingle size or hash count needs a new search; bands, rows and threshold do not.
    let stale = move || {
        let s = settings.get();
        finished.with(|f| f.as_ref().is_some_and(|f| f.k != s.k || f.hashes != s.hashes))
    };
    Effect::new(move |_| {
        if stale() && !running.get_untracked() {
            start();
        }
    });
    let result = Memo::new(move |_| {
        let s = settings.get();
        finished.with(|f| {
            let f = f.as_ref().filter(|f| f.k == s.k && f.hashes == s.hashes)?;
            let candidates = candidate_pairs(&f.signatures, s.bands, s.rows);
            let quality = quality_of_scored(&f.scored, &candidates, s.threshold);
            let top: Vec<(usize, usize, f64)> =
                rank_candidates(&f.scored, &candidates).into_iter().take(LISTED).collect();
            Some((quality, top))
        })
    });
    let listed = move || {
        // The result first, so the list follows it even before the text has arrived.
        let (_, top) = result.get()?;
        let all = texts.get_value()?;
        Some(
            top.into_iter()
                .map(|(i, j, s)| {
                    view! {
                        <li><span class="nd-j">{three(s)}</span>" #"{i + 1}" “"{excerpt(&all[i], 10)}"” · #"{j + 1}" “"{excerpt(&all[j], 10)}"”"</li>
                    }
                })
                .collect_view(),
        )
    };
    let status = move || match (load.get(), running.get(), result.get().is_some()) {
        (None, _, _) => "Not run yet: the play text downloads when you press Search.".to_string(),
        (Some(Err(e)), _, _) => e,
        (Some(Ok(n)), true, _) => {
            let (done, total) = progress.get();
            format!("Searching {n} speeches: {done} of {total} steps (exact pairs, then signatures) …")
        }
        (Some(Ok(n)), false, true) => format!("Searched all {n} speeches of the six tragedies."),
        (Some(Ok(_)), false, false) => "Press Search to run again with these settings.".to_string(),
    };

    view! {
        <WidgetFrame class="near-dup" label="Near-duplicate search" title="Live: MinHash and banding find near-duplicates" badge="CPU · engine::labs::near_duplicates">
            <div class="nd-passages">
                <label class="bpe-corpus">"passage A"
                    <textarea data-name="nd-a" rows="6" spellcheck="false" prop:value=move || text_a.get() on:input=on_text(text_a, good_a)
                        aria-invalid=move || error_a().is_some().to_string()></textarea>
                </label>
                <p class="field-error" data-error-for="nd-a" role="status">{move || error_a().map(|e| format!("{e} Using the last good passage."))}</p>
                <label class="bpe-corpus">"passage B"
                    <textarea data-name="nd-b" rows="6" spellcheck="false" prop:value=move || text_b.get() on:input=on_text(text_b, good_b)
                        aria-invalid=move || error_b().is_some().to_string()></textarea>
                </label>
                <p class="field-error" data-error-for="nd-b" role="status">{move || error_b().map(|e| format!("{e} Using the last good passage."))}</p>
            </div>
            <div class="xor-controls">
                <ConfigField label="shingle size k" name="nd-k" config=draft get=|s| s.k as f64 set=|s, v| s.k = v as usize check=k_rule />
                <ConfigField label="hashes" name="nd-hashes" config=draft get=|s| s.hashes as f64 set=|s, v| s.hashes = v as usize check=hashes_rule />
                <ConfigField label="bands b" name="nd-bands" config=draft get=|s| s.bands as f64 set=|s, v| s.bands = v as usize check=band_rule />
                <ConfigField label="rows r" name="nd-rows" config=draft get=|s| s.rows as f64 set=|s, v| s.rows = v as usize check=band_rule />
                <ConfigField label="threshold" name="nd-threshold" config=draft get=|s| s.threshold set=|s, v| s.threshold = v check=threshold_rule />
            </div>
            <p class="field-error memory-error" role="status" data-value="nd-error">
                {move || banding_error().map(|e| format!("{e} Showing the last banding that fits."))}
            </p>
            <dl class="bp-values">
                <div><dt>"shingles in A"</dt><dd data-value="nd-size-a">{move || pair.get().0}</dd></div>
                <div><dt>"in B"</dt><dd data-value="nd-size-b">{move || pair.get().1}</dd></div>
                <div><dt>"exact Jaccard"</dt><dd data-value="nd-exact">{move || three(pair.get().2)}</dd></div>
                <div><dt>"MinHash estimate"</dt><dd data-value="nd-estimate">{move || three(pair.get().3)}</dd></div>
                <div><dt>"chance of becoming candidates"</dt><dd data-value="nd-probability">{move || format!("{:.4}", pair.get().4)}</dd></div>
            </dl>
            <figure class="fit-plot nd-curve">
                <svg viewBox=format!("0 0 {} {}", LEFT + PLOT_W + 10.0, TOP + PLOT_H + 22.0) role="img" aria-label=curve_name>
                    <line class="axis" x1=LEFT x2=LEFT + PLOT_W y1=TOP + PLOT_H y2=TOP + PLOT_H />
                    <line class="axis" x1=LEFT x2=LEFT y1=TOP y2=TOP + PLOT_H />
                    <text class="tick" x=LEFT - 4.0 y=TOP + 8.0 text-anchor="end">"1"</text>
                    <text class="tick" x=LEFT - 4.0 y=TOP + PLOT_H text-anchor="end">"0"</text>
                    <text class="tick" x=LEFT y=TOP + PLOT_H + 16.0 text-anchor="middle">"0"</text>
                    <text class="tick" x=LEFT + PLOT_W / 2.0 y=TOP + PLOT_H + 16.0 text-anchor="middle">"Jaccard s"</text>
                    <text class="tick" x=LEFT + PLOT_W y=TOP + PLOT_H + 16.0 text-anchor="middle">"1"</text>
                    <line class="nd-threshold" x1=threshold_x x2=threshold_x y1=TOP y2=TOP + PLOT_H />
                    <path class="fitted" d=move || curve.with(|c| path_through(c, range)) />
                    <circle class="val-point" data-value="nd-marker" cx=move || marker().0 cy=move || marker().1 r="5" />
                </svg>
                <figcaption>{move || { let s = settings.get(); format!("1 − (1 − s^{})^{}: the dot is the two passages, the dashed line the threshold.", s.rows, s.bands) }}</figcaption>
                <DataTable table=curve_table caption="Chance of becoming candidates at evenly spaced Jaccard similarities" />
            </figure>
            <div class="bp-controls">
                <button class="primary" data-name="nd-search" disabled=move || running.get() on:click=search>"Search the speeches"</button>
            </div>
            <p class="bp-status" role="status" data-status="nd">{status}</p>
            <p class="widget-note">"Every speech of the six tragedies is a document. Exact Jaccard is computed for every pair that shares a shingle (every other pair scores 0), so precision and recall are measured against all pairs. Hash functions use seed 1."</p>
            <dl class="bp-values">
                <div><dt>"near-duplicate pairs (exact)"</dt><dd data-value="nd-similar">{move || result.get().map(|r| r.0.similar)}</dd></div>
                <div><dt>"candidate pairs"</dt><dd data-value="nd-candidates">{move || result.get().map(|r| r.0.candidates)}</dd></div>
                <div><dt>"found"</dt><dd data-value="nd-found">{move || result.get().map(|r| r.0.found)}</dd></div>
                <div><dt>"precision"</dt><dd data-value="nd-precision">{move || result.get().map(|r| three(r.0.precision))}</dd></div>
                <div><dt>"recall"</dt><dd data-value="nd-recall">{move || result.get().map(|r| three(r.0.recall))}</dd></div>
            </dl>
            {move || result.with(|r| r.is_some()).then(|| view! {
                <p class="widget-note">{format!("The first {LISTED} candidates, most similar first, each speech numbered in play order:")}</p>
            })}
            <ol class="nd-list" data-value="nd-list">{listed}</ol>
        </WidgetFrame>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_passages() {
        let (a, b) = (shingles(PASSAGE_A, 5), shingles(PASSAGE_B, 5));
        // Three changed words: 107 shingles each, 92 shared, 122 in all.
        assert_eq!((a.len(), b.len()), (107, 107));
        assert_eq!(jaccard(&a, &b), 92.0 / 122.0);
        assert_eq!(three(jaccard(&a, &b)), "0.754");
        assert_eq!(format!("{:.4}", candidate_probability(92.0 / 122.0, 20, 5)), "0.9963");
        let hasher = MinHasher::new(100, SEED);
        let estimated = estimate(&hasher.signature(&a), &hasher.signature(&b));
        assert!((estimated - 92.0 / 122.0).abs() < 0.15, "{estimated}");
    }

    #[test]
    fn passages_and_settings_are_checked() {
        assert!(check_passage("  ").is_err());
        assert!(check_passage(&"a ".repeat(10_001)).unwrap_err().contains("20,000"));
        assert!(k_rule(1.0).is_err() && k_rule(5.0).is_ok() && threshold_rule(0.0).is_err());
        assert_eq!(excerpt("one two three", 2), "one two …");
        assert_eq!(excerpt("one two", 2), "one two");
    }
}
