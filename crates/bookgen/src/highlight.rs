//! A small syntax highlighter for the languages the book shows: Rust and WGSL.
//!
//! It runs at build time and wraps tokens in `<span class="hl-…">`; the colours live in the
//! stylesheet, so both themes work. It is a lexer, not a parser: good enough to make code
//! easy to read, and small enough to read itself.

const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
    "await",
];

const WGSL_KEYWORDS: &[&str] = &[
    "fn",
    "let",
    "var",
    "const",
    "struct",
    "if",
    "else",
    "for",
    "loop",
    "while",
    "return",
    "break",
    "continue",
    "true",
    "false",
    "override",
    "workgroup",
    "storage",
    "uniform",
    "read",
    "read_write",
    "private",
    "function",
    "switch",
    "case",
    "default",
];

/// Escapes text for HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Highlights `code` written in `lang` ("rust", "wgsl"; anything else is escaped as is).
pub fn highlight(lang: &str, code: &str) -> String {
    let keywords = match lang {
        "rust" | "rs" => RUST_KEYWORDS,
        "wgsl" => WGSL_KEYWORDS,
        "console" | "sh" | "shell" => return highlight_console(code),
        _ => return escape_html(code),
    };
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let class = if c == '/' && chars.get(i + 1) == Some(&'/') {
            i = find(&chars, i, |c| c == '\n');
            Some("com")
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .map_or(chars.len(), |j| j + 2);
            Some("com")
        } else if c == '"' {
            i = string_end(&chars, i);
            Some("str")
        } else if c == '\'' && char_literal_end(&chars, i).is_some() {
            i = char_literal_end(&chars, i).unwrap_or(i + 1);
            Some("str")
        } else if c.is_ascii_digit() {
            i = number_end(&chars, i);
            Some("num")
        } else if c == '#' && chars.get(i + 1).is_some_and(|&n| n == '[' || n == '!') {
            i = find(&chars, i, |c| c == ']').min(chars.len() - 1) + 1;
            Some("attr")
        } else if c == '@' {
            i = find(&chars, i + 1, |c| !(c.is_alphanumeric() || c == '_'));
            Some("attr")
        } else if c.is_alphabetic() || c == '_' {
            i = find(&chars, i, |c| !(c.is_alphanumeric() || c == '_'));
            let word: String = chars[start..i].iter().collect();
            let next = chars.get(i).copied();
            if keywords.contains(&word.as_str()) {
                Some("kw")
            } else if next == Some('!') && lang != "wgsl" {
                i += 1;
                Some("mac")
            } else if next == Some('(') {
                Some("fn")
            } else if word.starts_with(|c: char| c.is_uppercase()) {
                Some("ty")
            } else {
                None
            }
        } else {
            i += 1;
            None
        };
        let text: String = chars[start..i].iter().collect();
        match class {
            Some(class) => out.push_str(&format!("<span class=\"hl-{class}\">{}</span>", escape_html(&text))),
            None => out.push_str(&escape_html(&text)),
        }
    }
    out
}

/// The first index at or after `from` where `stop` holds, or the end.
fn find(chars: &[char], from: usize, stop: impl Fn(char) -> bool) -> usize {
    (from..chars.len()).find(|&j| stop(chars[j])).unwrap_or(chars.len())
}

fn string_end(chars: &[char], open: usize) -> usize {
    let mut j = open + 1;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 2,
            '"' => return j + 1,
            _ => j += 1,
        }
    }
    chars.len()
}

/// `'a'` and `'\n'` are character literals; `'a` in `&'a str` is a lifetime.
fn char_literal_end(chars: &[char], open: usize) -> Option<usize> {
    match (chars.get(open + 1), chars.get(open + 2), chars.get(open + 3)) {
        (Some('\\'), Some(_), _) => {
            (open + 3..chars.len().min(open + 12)).find(|&j| chars[j] == '\'').map(|j| j + 1)
        }
        (Some(_), Some('\''), _) => Some(open + 3),
        _ => None,
    }
}

/// Digits, underscores, exponents, suffixes and one decimal point (but not a `..` range).
fn number_end(chars: &[char], start: usize) -> usize {
    let mut j = start;
    while j < chars.len() {
        let c = chars[j];
        let is_point = c == '.' && chars.get(j + 1).is_some_and(|n| n.is_ascii_digit());
        let is_exp_sign = (c == '-' || c == '+') && j > start && matches!(chars[j - 1], 'e' | 'E');
        if c.is_ascii_alphanumeric() || c == '_' || is_point || is_exp_sign {
            j += 1;
        } else {
            break;
        }
    }
    j
}

fn highlight_console(code: &str) -> String {
    let mut out = String::new();
    for line in code.split_inclusive('\n') {
        match line.strip_prefix("$ ") {
            Some(command) => {
                out.push_str("<span class=\"hl-prompt\">$ </span><span class=\"hl-cmd\">");
                out.push_str(&escape_html(command.trim_end_matches('\n')));
                out.push_str("</span>");
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(&escape_html(line)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_tokens_get_classes() {
        let html = highlight("rust", "let x: f64 = 1.5e-3; // note\nprintln!(\"a<b\");");
        assert!(html.contains("<span class=\"hl-kw\">let</span>"), "{html}");
        assert!(html.contains("<span class=\"hl-num\">1.5e-3</span>"), "{html}");
        assert!(html.contains("<span class=\"hl-com\">// note</span>"), "{html}");
        assert!(html.contains("<span class=\"hl-mac\">println!</span>"), "{html}");
        assert!(html.contains("<span class=\"hl-str\">&quot;a&lt;b&quot;</span>"), "{html}");
    }

    #[test]
    fn ranges_lifetimes_and_chars_are_not_confused() {
        let html = highlight("rust", "for i in 0..4 { f(&'a s, 'x') }");
        assert!(html.contains("<span class=\"hl-num\">0</span>..<span class=\"hl-num\">4</span>"), "{html}");
        assert!(html.contains("&amp;'a s"), "{html}");
        assert!(html.contains("<span class=\"hl-str\">'x'</span>"), "{html}");
    }

    #[test]
    fn wgsl_attributes_and_unknown_languages() {
        let html = highlight("wgsl", "@compute @workgroup_size(64)\nfn main() {}");
        assert!(html.contains("<span class=\"hl-attr\">@compute</span>"), "{html}");
        assert_eq!(highlight("text", "a < b"), "a &lt; b");
        let console = highlight("console", "$ cargo test\nok\n");
        assert!(console.contains("<span class=\"hl-cmd\">cargo test</span>\nok\n"), "{console}");
    }

    #[test]
    fn highlighting_never_loses_text() {
        let code = "fn main() { let s = \"unterminated; /* open comment 1.2.3 'q #[x";
        let html = highlight("rust", code);
        let text = html
            .split('<')
            .map(|part| part.split_once('>').map_or(part, |(_, rest)| rest))
            .collect::<String>()
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        assert_eq!(text, code);
    }
}
