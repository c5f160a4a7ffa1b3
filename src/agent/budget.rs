//! Code fitted to a token budget: results keep their whole definitions while the budget allows, in rank
//! order, and every later result keeps at least its signature and the lines that matched. Pure: no I/O.
//!
//! Tokens are estimated as bytes / 4 (rounded up), the usual rate for source code with the tokenizers of
//! today's language models; the estimate is cheap and errs on the safe side for ASCII code.

/// The estimated token count of `text`: its bytes divided by 4, rounded up.
pub fn tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// One result's code before fitting.
#[derive(Clone, Debug)]
pub struct Piece<'a> {
    /// The definition's text: lines `start_line..=end_line` of its file, joined with `\n`.
    pub text: &'a str,
    /// The definition's first line, 1-based.
    pub start_line: u32,
    /// The definition's name, if it has one (its signature is the line that names it).
    pub symbol: Option<&'a str>,
    /// The lines that matched, 1-based inclusive, inside the definition.
    pub match_lines: (u32, u32),
    /// A line to centre the matched lines on when they are too many (1-based), if one is known.
    pub focus: Option<u32>,
}

/// How much of a result's code was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// The whole definition.
    Whole,
    /// Its signature and the lines that matched; the rest is replaced by lines saying what was left out.
    Trimmed,
    /// No code: the budget was spent (the range still says where it is).
    Omitted,
}

impl Shown {
    /// The name used on the wire: `whole`, `trimmed`, `omitted`.
    pub fn name(self) -> &'static str {
        match self {
            Shown::Whole => "whole",
            Shown::Trimmed => "trimmed",
            Shown::Omitted => "omitted",
        }
    }
}

/// One result's code after fitting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fitted {
    /// The code kept (empty when omitted).
    pub code: String,
    /// How much of it.
    pub shown: Shown,
}

/// Most matched lines a trimmed result keeps.
pub const MAX_MATCH_LINES: usize = 12;
/// Most lines a signature takes.
pub const MAX_SIGNATURE_LINES: usize = 4;

/// The 0-based line indices of the signature of a definition: from the first line that names it (or the
/// first line that is neither blank, a comment nor an attribute) through the line that opens its body, at
/// most [`MAX_SIGNATURE_LINES`].
pub fn signature_lines(lines: &[&str], symbol: Option<&str>) -> std::ops::Range<usize> {
    let is_preamble = |l: &str| {
        let t = l.trim_start();
        t.is_empty()
            || t.starts_with("//")
            || t.starts_with('#')
            || t.starts_with("/*")
            || t.starts_with('*')
            || t.starts_with("--")
            || t.starts_with('@')
            || t.starts_with("\"\"\"")
    };
    let named = symbol
        .filter(|s| !s.is_empty())
        .and_then(|s| lines.iter().position(|l| l.contains(s) && !is_preamble(l)));
    let start = named
        .or_else(|| lines.iter().position(|l| !is_preamble(l)))
        .unwrap_or(0);
    let mut end = start;
    while end < lines.len() && end - start < MAX_SIGNATURE_LINES {
        let t = lines[end].trim_end();
        end += 1;
        if t.ends_with('{')
            || t.ends_with(':')
            || t.ends_with(';')
            || t.ends_with("=>")
            || t.ends_with('=')
            || t.contains('{')
        {
            break;
        }
    }
    start
        ..end
            .min(lines.len())
            .max(start + usize::from(!lines.is_empty()))
}

/// A definition cut to its signature and (up to [`MAX_MATCH_LINES`] of) its matched lines, with a line
/// `⋯ lines A-B left out` for each gap.
pub fn trim(p: &Piece<'_>) -> String {
    let lines: Vec<&str> = p.text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let sig = signature_lines(&lines, p.symbol);
    let first = p.start_line;
    let rel = |line: u32| (line.saturating_sub(first) as usize).min(lines.len() - 1);
    let (mut ms, mut me) = (
        rel(p.match_lines.0),
        rel(p.match_lines.1.max(p.match_lines.0)),
    );
    if me + 1 - ms > MAX_MATCH_LINES {
        let focus = p
            .focus
            .map(rel)
            .filter(|f| (ms..=me).contains(f))
            .unwrap_or(ms);
        let lo = focus.saturating_sub(MAX_MATCH_LINES / 3).max(ms);
        let hi = (lo + MAX_MATCH_LINES - 1).min(me);
        (ms, me) = (hi + 1 - MAX_MATCH_LINES.min(hi + 1 - ms), hi);
    }
    let mut keep = vec![false; lines.len()];
    for i in sig.clone().chain(ms..=me) {
        keep[i] = true;
    }
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        if keep[i] {
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
            continue;
        }
        let gap_start = i;
        while i < lines.len() && !keep[i] {
            i += 1;
        }
        let (a, b) = (first + gap_start as u32, first + i as u32 - 1);
        if a == b {
            out.push_str(&format!("⋯ line {a} left out\n"));
        } else {
            out.push_str(&format!("⋯ lines {a}-{b} left out\n"));
        }
    }
    out
}

/// Fits the results' code into `max_tokens`, in rank order: a result keeps its whole definition when that
/// still leaves room for every later result's trimmed form; otherwise its trimmed form when that fits;
/// otherwise no code.
pub fn fit(pieces: &[Piece<'_>], max_tokens: usize) -> Vec<Fitted> {
    let trimmed: Vec<String> = pieces.iter().map(trim).collect();
    let mut reserve: usize = trimmed.iter().map(|t| tokens(t)).sum();
    let mut left = max_tokens;
    let mut out = Vec::with_capacity(pieces.len());
    for (p, t) in pieces.iter().zip(trimmed) {
        let (whole, small) = (tokens(p.text), tokens(&t));
        reserve -= small;
        let fitted = if whole <= left.saturating_sub(reserve) || (whole <= small && whole <= left) {
            left -= whole;
            Fitted {
                code: p.text.to_string(),
                shown: Shown::Whole,
            }
        } else if small <= left {
            left -= small;
            Fitted {
                code: t,
                shown: Shown::Trimmed,
            }
        } else {
            Fitted {
                code: String::new(),
                shown: Shown::Omitted,
            }
        };
        out.push(fitted);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_fn(name: &str, body_lines: usize) -> String {
        let mut s = format!("/// Docs of {name}.\npub fn {name}(a: u32) -> u32 {{\n");
        for i in 0..body_lines {
            s.push_str(&format!("    let x{i} = a + {i};\n"));
        }
        s.push_str("}\n");
        s
    }

    #[test]
    fn tokens_are_bytes_over_four_rounded_up() {
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens("abcd"), 1);
        assert_eq!(tokens("abcde"), 2);
    }

    #[test]
    fn the_signature_is_the_line_naming_the_definition_through_its_opening() {
        let text = "/// Parses.\n#[inline]\npub fn parse(\n    a: u32,\n) -> u32 {\n    a\n}";
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(signature_lines(&lines, Some("parse")), 2..5);
        let py = ["@decorator", "def handle(self, req):", "    return 1"];
        assert_eq!(signature_lines(&py, Some("handle")), 1..2);
        assert_eq!(signature_lines(&py, None), 1..2);
    }

    #[test]
    fn a_trimmed_definition_keeps_signature_and_matched_lines_and_says_what_it_left_out() {
        let text = long_fn("compute", 30);
        // Lines: 10 doc, 11 signature, 12..=41 body, 42 brace. Matched: 20..=22.
        let p = Piece {
            text: &text,
            start_line: 10,
            symbol: Some("compute"),
            match_lines: (20, 22),
            focus: None,
        };
        let t = trim(&p);
        assert_eq!(
            t,
            "⋯ line 10 left out\npub fn compute(a: u32) -> u32 {\n⋯ lines 12-19 left out\n    let x8 = a + 8;\n    \
             let x9 = a + 9;\n    let x10 = a + 10;\n⋯ lines 23-42 left out\n"
        );
    }

    #[test]
    fn too_many_matched_lines_are_cut_around_the_focus() {
        let text = long_fn("big", 100);
        let p = Piece {
            text: &text,
            start_line: 1,
            symbol: Some("big"),
            match_lines: (1, 103),
            focus: Some(60),
        };
        let t = trim(&p);
        let kept: Vec<&str> = t.lines().filter(|l| l.starts_with("    let")).collect();
        assert_eq!(kept.len(), MAX_MATCH_LINES);
        assert!(t.contains("let x57 = a + 57;"), "{t}");
        assert!(t.contains("pub fn big"), "{t}");
    }

    fn piece<'a>(name: &'a str, text: &'a str) -> Piece<'a> {
        Piece {
            text,
            start_line: 1,
            symbol: Some(name),
            match_lines: (3, 4),
            focus: None,
        }
    }

    #[test]
    fn whole_definitions_first_then_trimmed_then_omitted() {
        let (a, b, c) = (
            long_fn("alpha", 5),
            long_fn("beta", 60),
            long_fn("gamma", 60),
        );
        let pieces = [piece("alpha", &a), piece("beta", &b), piece("gamma", &c)];
        let budget = tokens(&a) + tokens(&b) + 10;
        let fitted = fit(&pieces, budget);
        let shown: Vec<Shown> = fitted.iter().map(|f| f.shown).collect();
        // Beta whole would leave no room for gamma's trimmed form: both are trimmed.
        assert_eq!(shown, vec![Shown::Whole, Shown::Trimmed, Shown::Trimmed]);
        let used: usize = fitted.iter().map(|f| tokens(&f.code)).sum();
        assert!(used <= budget, "{used} > {budget}");
        // Plenty of room: everything whole.
        let all = fit(&pieces, 100_000);
        assert!(all.iter().all(|f| f.shown == Shown::Whole));
        assert_eq!(all[1].code, b);
        // No room at all: nothing but ranges.
        let none = fit(&pieces, 5);
        assert!(
            none.iter()
                .all(|f| f.shown == Shown::Omitted && f.code.is_empty())
        );
    }
}
