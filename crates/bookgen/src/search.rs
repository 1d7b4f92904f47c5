//! Full-text search over the book's sections.
//!
//! At build time [`sections_from_html`] cuts each rendered chapter into sections (one per
//! heading with an id) as plain text: formulas keep their symbols and numbers, highlighted
//! listings are left out (they are the engine's own source, not prose), and
//! [`IndexBuilder`] turns them into an inverted index that `build.rs` writes into the app as
//! constant arrays. In the page, [`search`] ranks sections with BM25 (a heading counts
//! [`HEADING_BOOST`] times), matching the last query word as a prefix, and [`snippet`] cuts the
//! passage to show with the matched words marked. Both sides use the same [`words`], so a
//! query is split exactly as the text was.

use std::collections::BTreeMap;

/// A section's heading counts this many times its body's words.
pub const HEADING_BOOST: f64 = 3.0;
/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's length normalisation.
const B: f64 = 0.75;
/// A prefix expands to at most this many index terms (the most frequent ones).
const MAX_EXPANSIONS: usize = 64;
/// A completion of the last word counts this much of an exact match.
const PREFIX_WEIGHT: f64 = 0.7;
/// A query is cut to this many words.
const MAX_QUERY_WORDS: usize = 12;

/// One section of a chapter as plain text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The heading's element id (the chapter title's for the text before the first section).
    pub id: String,
    /// The heading as plain text.
    pub heading: String,
    /// The section's text, whitespace collapsed.
    pub text: String,
}

/// The byte ranges of the words of `text`: runs of letters and digits.
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// A word as the index keeps it: lower case.
pub fn normalize(word: &str) -> String {
    word.to_lowercase()
}

/// The query's words, lower case, without repeats, at most [`MAX_QUERY_WORDS`]; and whether
/// the last one is still being typed (no space after it), so it matches as a prefix.
pub fn query_terms(query: &str) -> (Vec<String>, bool) {
    let mut terms: Vec<String> = Vec::new();
    for (s, e) in words(query) {
        let term = normalize(&query[s..e]);
        if !terms.contains(&term) && terms.len() < MAX_QUERY_WORDS {
            terms.push(term);
        }
    }
    let last_is_prefix = query.chars().last().is_some_and(char::is_alphanumeric);
    (terms, last_is_prefix)
}

/// Cuts a chapter's rendered HTML (its static segments joined) into sections at each heading
/// that has an id. Text before the first heading belongs to no section and is dropped.
pub fn sections_from_html(html: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut heading: Option<(String, String)> = None; // (closing tag, text so far) while inside one
    let mut skip: Option<(String, usize)> = None; // (tag, depth) whose content is left out
    let mut math_depth = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut sections, &mut heading, skip.is_some(), rest);
            break;
        };
        push_text(&mut sections, &mut heading, skip.is_some(), &rest[..lt]);
        let after = &rest[lt..];
        let end = tag_end(after);
        let tag = &after[1..end.saturating_sub(1).max(1)];
        rest = &after[end..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some((skip_name, depth)) = &mut skip {
            if name == *skip_name {
                if closing {
                    *depth -= 1;
                    if *depth == 0 {
                        skip = None;
                    }
                } else if !tag.ends_with('/') {
                    *depth += 1;
                }
            }
            continue;
        }
        let class = attribute(tag, "class").unwrap_or_default();
        let skipped = (name == "figure" && class.split(' ').any(|c| c == "code"))
            || (name == "a" && class.split(' ').any(|c| c == "anchor"))
            || name == "annotation"
            || name == "script"
            || name == "style";
        if !closing && skipped {
            skip = Some((name, 1));
            continue;
        }
        let is_heading = name.len() == 2 && name.starts_with('h') && name[1..].parse::<u8>().is_ok();
        if is_heading && !closing {
            if let Some(id) = attribute(tag, "id") {
                sections.push(Section { id, heading: String::new(), text: String::new() });
                heading = Some((name.clone(), String::new()));
                continue;
            }
        }
        if is_heading && closing {
            if let Some((open, text)) = &heading {
                if *open == name {
                    let text = collapse(text);
                    if let Some(section) = sections.last_mut() {
                        section.heading = text;
                    }
                    heading = None;
                    continue;
                }
            }
        }
        if name == "math" {
            math_depth = if closing { math_depth.saturating_sub(1) } else { math_depth + 1 };
        }
        // Inside a formula every element is its own symbol; elsewhere only blocks separate words.
        let separates = math_depth > 0
            || name == "math"
            || matches!(
                name.as_str(),
                "p" | "br"
                    | "li"
                    | "div"
                    | "td"
                    | "th"
                    | "tr"
                    | "summary"
                    | "figcaption"
                    | "aside"
                    | "section"
                    | "details"
                    | "blockquote"
                    | "pre"
                    | "table"
                    | "ul"
                    | "ol"
                    | "hr"
            );
        if separates {
            push_text(&mut sections, &mut heading, false, " ");
        }
    }
    for section in &mut sections {
        section.text = collapse(&section.text);
    }
    sections
}

/// Where the tag starting at `s[0] == '<'` ends (one past its `>`), quotes respected.
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('>', None) => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// The value of attribute `name` in a tag's inside, e.g. `h2 id="step"`.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut search = tag;
    loop {
        let at = search.find(name)?;
        let before_ok = at > 0 && search.as_bytes()[at - 1].is_ascii_whitespace();
        let after = &search[at + name.len()..];
        if before_ok {
            if let Some(value) = after.strip_prefix("=\"") {
                return value.find('"').map(|end| decode_entities(&value[..end]));
            }
        }
        search = after;
    }
}

fn push_text(sections: &mut [Section], heading: &mut Option<(String, String)>, skip: bool, raw: &str) {
    if skip || raw.is_empty() {
        return;
    }
    let text = decode_entities(raw);
    match heading {
        Some((_, h)) => h.push_str(&text),
        None => {
            if let Some(section) = sections.last_mut() {
                section.text.push_str(&text);
            }
        }
    }
}

/// Decodes the character references the renderer writes (named ones for markup characters,
/// numeric ones for everything else); an unknown one stays as written.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &after[..semi];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whitespace collapsed to single spaces; invisible operators (MathML's function
/// application, zero-width spaces) dropped.
fn collapse(s: &str) -> String {
    let visible: String = s.chars().filter(|c| !matches!(c, '\u{2061}'..='\u{2064}' | '\u{200b}')).collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Collects sections' words into an inverted index.
#[derive(Default)]
pub struct IndexBuilder {
    terms: BTreeMap<String, Vec<[u16; 3]>>,
    lengths: Vec<u32>,
}

/// The index as plain arrays, the shape `build.rs` writes out.
#[derive(Debug, Default, PartialEq)]
pub struct OwnedIndex {
    pub terms: Vec<String>,
    pub starts: Vec<u32>,
    pub postings: Vec<[u16; 3]>,
    pub lengths: Vec<u32>,
}

impl IndexBuilder {
    /// Adds the next section (documents are numbered from 0 in the order added).
    pub fn add(&mut self, heading: &str, text: &str) {
        let doc = u16::try_from(self.lengths.len()).expect("fewer than 65,536 sections");
        let mut counts: BTreeMap<String, [u16; 2]> = BTreeMap::new();
        let mut length = 0u32;
        for (field, source) in [(1, heading), (0, text)] {
            for (s, e) in words(source) {
                let count = &mut counts.entry(normalize(&source[s..e])).or_default()[field];
                *count = count.saturating_add(1);
                length += if field == 1 { HEADING_BOOST as u32 } else { 1 };
            }
        }
        for (term, [body, head]) in counts {
            self.terms.entry(term).or_default().push([doc, body, head]);
        }
        self.lengths.push(length);
    }

    /// The finished index: terms sorted, each term's postings `[doc, body count, heading
    /// count]` from `postings[starts[t]..starts[t + 1]]`.
    pub fn finish(self) -> OwnedIndex {
        let mut index = OwnedIndex { lengths: self.lengths, ..OwnedIndex::default() };
        for (term, postings) in self.terms {
            index.terms.push(term);
            index.starts.push(index.postings.len() as u32);
            index.postings.extend(postings);
        }
        index.starts.push(index.postings.len() as u32);
        index
    }

    /// Borrowed view of an owned index, for tests and tools.
    pub fn view(index: &OwnedIndex) -> Index<'_, String> {
        Index {
            terms: &index.terms,
            starts: &index.starts,
            postings: &index.postings,
            lengths: &index.lengths,
        }
    }
}

/// The index, borrowed: constant arrays in the app, an [`OwnedIndex`] in tests.
pub struct Index<'a, T> {
    /// Every word, sorted.
    pub terms: &'a [T],
    /// `starts[t]..starts[t + 1]` are term `t`'s postings.
    pub starts: &'a [u32],
    /// `[section, count in the body, count in the heading]`, by section.
    pub postings: &'a [[u16; 3]],
    /// Each section's length in words (heading words counted [`HEADING_BOOST`] times).
    pub lengths: &'a [u32],
}

/// A ranked section.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// The section's number in the index.
    pub section: usize,
    /// How many of the query's words it contains.
    pub matched: usize,
    /// Its BM25 score.
    pub score: f64,
}

impl<T: AsRef<str>> Index<'_, T> {
    fn postings_of(&self, t: usize) -> &[[u16; 3]] {
        let (Some(&s), Some(&e)) = (self.starts.get(t), self.starts.get(t + 1)) else {
            return &[];
        };
        self.postings.get(s as usize..e as usize).unwrap_or(&[])
    }

    /// The terms a query word stands for, each with its weight: the word itself, and when it
    /// is a prefix the most frequent words it begins.
    fn expand(&self, word: &str, prefix: bool) -> Vec<(usize, f64)> {
        let first = self.terms.partition_point(|t| t.as_ref() < word);
        let mut out = Vec::new();
        if self.terms.get(first).is_some_and(|t| t.as_ref() == word) {
            out.push((first, 1.0));
        }
        if prefix {
            let mut longer: Vec<usize> = (first..self.terms.len())
                .take_while(|&t| self.terms[t].as_ref().starts_with(word))
                .filter(|&t| self.terms[t].as_ref() != word)
                .collect();
            longer.sort_by_key(|&t| std::cmp::Reverse(self.postings_of(t).len()));
            out.extend(longer.into_iter().take(MAX_EXPANSIONS).map(|t| (t, PREFIX_WEIGHT)));
        }
        out
    }
}

/// The sections that best match `query`, best first, at most `limit`: those containing the
/// most of the query's words, ranked among themselves by BM25.
pub fn search<T: AsRef<str>>(index: &Index<'_, T>, query: &str, limit: usize) -> Vec<Hit> {
    let (terms, last_is_prefix) = query_terms(query);
    let n = index.lengths.len();
    if terms.is_empty() || n == 0 {
        return Vec::new();
    }
    let average = index.lengths.iter().map(|&l| f64::from(l)).sum::<f64>() / n as f64;
    let mut score = vec![0.0f64; n];
    let mut matched = vec![0usize; n];
    for (i, term) in terms.iter().enumerate() {
        let prefix = last_is_prefix && i + 1 == terms.len();
        let mut seen = vec![false; n];
        for (t, weight) in index.expand(term, prefix) {
            let postings = index.postings_of(t);
            let df = postings.len() as f64;
            let idf = libm::log(1.0 + (n as f64 - df + 0.5) / (df + 0.5));
            for &[doc, body, head] in postings {
                let doc = doc as usize;
                if doc >= n {
                    continue;
                }
                let tf = f64::from(body) + HEADING_BOOST * f64::from(head);
                let norm = K1 * (1.0 - B + B * f64::from(index.lengths[doc]) / average.max(1.0));
                score[doc] += weight * idf * tf * (K1 + 1.0) / (tf + norm);
                if !seen[doc] {
                    seen[doc] = true;
                    matched[doc] += 1;
                }
            }
        }
    }
    let best = matched.iter().copied().max().unwrap_or(0);
    if best == 0 {
        return Vec::new();
    }
    let mut hits: Vec<Hit> = (0..n)
        .filter(|&d| matched[d] == best)
        .map(|d| Hit { section: d, matched: best, score: score[d] })
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.section.cmp(&b.section)));
    hits.truncate(limit);
    hits
}

/// Whether a word of the text matches one of the query's words (the last as a prefix when
/// it is still being typed).
pub fn word_matches(word: &str, terms: &[String], last_is_prefix: bool) -> bool {
    let word = normalize(word);
    terms
        .iter()
        .enumerate()
        .any(|(i, t)| word == *t || (last_is_prefix && i + 1 == terms.len() && word.starts_with(t.as_str())))
}

/// About `width` characters of `text` around the densest run of matches, as pieces of text
/// each marked if it is a matched word. Cut at word boundaries, with `…` where text was cut.
pub fn snippet(text: &str, query: &str, width: usize) -> Vec<(String, bool)> {
    let (terms, last_is_prefix) = query_terms(query);
    let spans = words(text);
    let hits: Vec<usize> = (0..spans.len())
        .filter(|&i| word_matches(&text[spans[i].0..spans[i].1], &terms, last_is_prefix))
        .collect();
    // The match whose window (the snippet less a fifth of context before it) holds the most
    // distinct matched words.
    let context = width / 5;
    let mut start_word = 0;
    let mut best = 0;
    for &h in &hits {
        let begin = spans[h].0;
        let mut distinct: Vec<String> = Vec::new();
        for &o in hits.iter().filter(|&&o| o >= h && spans[o].1 <= begin + width - context) {
            let w = normalize(&text[spans[o].0..spans[o].1]);
            if !distinct.contains(&w) {
                distinct.push(w);
            }
        }
        if distinct.len() > best {
            best = distinct.len();
            start_word = h;
        }
    }
    // Whole words of context before the first match.
    let first = spans.get(start_word).map_or(0, |s| s.0);
    let start = spans.iter().map(|s| s.0).find(|&s| s + context >= first).unwrap_or(0);
    let start = if spans.first().is_some_and(|s| s.0 == start) { 0 } else { start };
    let mut end = text.len();
    if text.len() - start > width {
        end = spans
            .iter()
            .map(|s| s.1)
            .filter(|&e| e > start && e <= start + width)
            .max()
            .unwrap_or(text.len());
    }
    let mut pieces: Vec<(String, bool)> = Vec::new();
    if start > 0 {
        pieces.push(("…".to_string(), false));
    }
    let mut at = start;
    for &(s, e) in spans.iter().filter(|&&(s, e)| s >= start && e <= end) {
        if word_matches(&text[s..e], &terms, last_is_prefix) {
            if s > at {
                push_piece(&mut pieces, &text[at..s], false);
            }
            pieces.push((text[s..e].to_string(), true));
            at = e;
        }
    }
    if end > at {
        push_piece(&mut pieces, &text[at..end], false);
    }
    if end < text.len() {
        push_piece(&mut pieces, "…", false);
    }
    pieces
}

fn push_piece(pieces: &mut Vec<(String, bool)>, text: &str, marked: bool) {
    match pieces.last_mut() {
        Some((last, false)) if !marked => last.push_str(text),
        _ => pieces.push((text.to_string(), marked)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        let text = "Adam's β₂ = 0.999, loss_and_grads!";
        let got: Vec<&str> = words(text).into_iter().map(|(s, e)| &text[s..e]).collect();
        assert_eq!(got, ["Adam", "s", "β₂", "0", "999", "loss", "and", "grads"]);
        assert_eq!(query_terms("Soft SOFT max"), (vec!["soft".to_string(), "max".to_string()], true));
        assert!(!query_terms("softmax ").1);
    }

    #[test]
    fn html_becomes_sections_of_plain_text() {
        let html = "<h1 id=\"t\">Title</h1>\n<p>Intro &amp; more.</p>\
            <h2 id=\"step-1\"><a class=\"anchor\" href=\"#step-1\" aria-label=\"Link to this section\">#</a>Step <code>one</code></h2>\
            <p>We compute <math><mi>x</mi><mo>=</mo><mi>max</mi><mo>\u{2061}</mo><mn>0.5</mn></math>here.</p>\
            <figure class=\"code\"><figcaption>src/a.rs</figcaption><pre><code><span class=\"hl-kw\">let</span> hidden = 1;</code></pre></figure>\
            <p>After&#8212;code &lt;b&gt;.</p>";
        let sections = sections_from_html(html);
        assert_eq!(sections.len(), 2);
        assert_eq!(
            sections[0],
            Section { id: "t".into(), heading: "Title".into(), text: "Intro & more.".into() }
        );
        assert_eq!(sections[1].id, "step-1");
        assert_eq!(sections[1].heading, "Step one");
        assert_eq!(sections[1].text, "We compute x = max 0.5 here. After—code <b>.");
    }

    fn index_of(sections: &[(&str, &str)]) -> OwnedIndex {
        let mut builder = IndexBuilder::default();
        for (h, t) in sections {
            builder.add(h, t);
        }
        builder.finish()
    }

    #[test]
    fn the_index_counts_words_per_section_and_heading() {
        let index = index_of(&[("Adam", "adam adam moments"), ("SGD", "no moments")]);
        assert_eq!(index.terms, ["adam", "moments", "no", "sgd"]);
        assert_eq!(index.starts, [0, 1, 3, 4, 5]);
        assert_eq!(index.postings, [[0, 2, 1], [0, 1, 0], [1, 1, 0], [1, 1, 0], [1, 0, 1]]);
        assert_eq!(index.lengths, [3 + 3, 2 + 3]);
    }

    #[test]
    fn bm25_ranks_by_rarity_frequency_and_heading() {
        let index = index_of(&[
            ("Momentum", "momentum keeps a running average of gradients"),
            ("Adam", "adam keeps two running averages: momentum and the squared gradients"),
            ("Weight decay", "decay shrinks every weight a little each step"),
        ]);
        let view = IndexBuilder::view(&index);
        let hits = search(&view, "momentum ", 10);
        assert_eq!(hits.iter().map(|h| h.section).collect::<Vec<_>>(), [0, 1], "the heading wins");
        // One hand-computed BM25 value: "decay" in section 2, df = 1, N = 3.
        // idf = ln(1 + (3 - 1 + 0.5) / 1.5) = ln(8/3); tf = 1 + 3·1 = 4; lengths 10, 13, 14
        // (headings ×3), average 37/3; norm = 1.2·(0.25 + 0.75·14/(37/3)).
        let hits = search(&view, "decay ", 10);
        let norm = 1.2 * (0.25 + 0.75 * 14.0 / (37.0 / 3.0));
        let expected = libm::log(8.0 / 3.0) * 4.0 * 2.2 / (4.0 + norm);
        assert_eq!(hits.len(), 1);
        assert!((hits[0].score - expected).abs() < 1e-12, "{} vs {expected}", hits[0].score);
        assert!((expected - 1.62193).abs() < 1e-5, "{expected}");
    }

    #[test]
    fn every_word_must_match_and_the_last_is_a_prefix() {
        let index = index_of(&[
            ("Adam", "adaptive moments"),
            ("AdamW", "adam with decoupled weight decay"),
            ("Dropout", "drop units at random"),
        ]);
        let view = IndexBuilder::view(&index);
        let sections = |q: &str| search(&view, q, 10).iter().map(|h| h.section).collect::<Vec<_>>();
        let mut ada = sections("ada");
        ada.sort();
        assert_eq!(ada, [0, 1], "prefix of adam, adamw, adaptive");
        assert_eq!(sections("ada "), Vec::<usize>::new(), "a finished word is matched exactly");
        assert_eq!(sections("ADAM deca"), [1], "both words, case-insensitive, the last a prefix");
        assert_eq!(sections("random zebra"), [2], "with no section holding every word, the most");
        assert!(sections("").is_empty() && sections("  !? ").is_empty() && sections("zebra").is_empty());
    }

    #[test]
    fn snippets_centre_on_the_matches_and_mark_them() {
        let text = "One two three four five six seven eight nine ten. The softmax turns scores \
            into probabilities, and softmax is smooth. Eleven twelve thirteen fourteen fifteen.";
        let pieces = snippet(text, "Softmax prob", 80);
        let marked: Vec<&str> = pieces.iter().filter(|p| p.1).map(|p| p.0.as_str()).collect();
        assert_eq!(marked, ["softmax", "probabilities", "softmax"]);
        let joined: String = pieces.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(joined, "…nine ten. The softmax turns scores into probabilities, and softmax is smooth…");
        let none = snippet("short text", "zebra", 60);
        assert_eq!(none, [("short text".to_string(), false)]);
    }
}
