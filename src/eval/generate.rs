//! Doc-to-code specs generated from any folder: each documented function's first doc sentence is a
//! query, its doc is blanked in the indexed copy (lines kept), and the function is the target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::spec::{LineSpan, Spec, SpecQuery, Target};
use crate::chunk::ChunkKind;
use crate::syntax::Language;

/// A generated query: a documented function whose doc's first sentence becomes the query.
#[derive(Clone, Debug, PartialEq)]
struct DocQuery {
    path: String,
    query: String,
    language: String,
    /// The function's lines, 1-based inclusive.
    target: (u32, u32),
    /// The doc's lines, 0-based: blanked in the indexed copy.
    doc_lines: Vec<usize>,
}

/// The line comment markers of a language's docs (inner docs such as Rust's `//!` are not a function's).
fn line_markers(lang: Language) -> &'static [&'static str] {
    match lang {
        Language::Python | Language::Ruby | Language::Bash | Language::Elixir => &["#"],
        Language::Lua | Language::Haskell | Language::Sql => &["--"],
        _ => &["///", "//"],
    }
}

/// Whether a language writes `/* ... */` block comments.
fn has_block_comments(lang: Language) -> bool {
    !matches!(
        lang,
        Language::Python
            | Language::Ruby
            | Language::Bash
            | Language::Elixir
            | Language::Lua
            | Language::Haskell
    )
}

/// The text of a line comment, or `None` when the line is not one (or is an inner doc, a shebang, an
/// attribute or a preprocessor line).
fn line_comment(lang: Language, line: &str) -> Option<&str> {
    let t = line.trim();
    if t.starts_with("//!") || t.starts_with("#!") || t.starts_with("#[") {
        return None;
    }
    line_markers(lang)
        .iter()
        .find_map(|m| t.strip_prefix(m))
        .map(|r| r.trim_start_matches(['/', '#', '-']).trim())
}

/// Lines between a definition and its doc that belong to neither: attributes, decorators, annotations.
fn is_attribute(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("#[") || t.starts_with('@')
}

/// The text of each line of a `/* ... */` block (lines `first..=last`): markers and leading `*` removed.
fn block_text(lines: &[&str], first: usize, last: usize) -> Vec<String> {
    (first..=last)
        .map(|l| {
            let mut t = lines[l].trim();
            if l == first {
                t = t.trim_start_matches('/').trim_start_matches(['*', '!']);
            }
            if l == last {
                t = t.strip_suffix("*/").unwrap_or(t);
            }
            t.trim().trim_start_matches('*').trim().to_string()
        })
        .collect()
}

/// A Python docstring: the first statement after the signature (which may span lines) is a string in
/// triple quotes. Returns its lines' texts and their indexes.
fn docstring(lines: &[&str], def: usize, end: usize) -> Option<(Vec<String>, Vec<usize>)> {
    let last = end.min(lines.len().saturating_sub(1));
    // The signature ends at the first line whose code ends with `:`.
    let sig_end = (def..=last.min(def + 30)).find(|&l| {
        let code = lines[l].split(" #").next().unwrap_or("").trim_end();
        code.ends_with(':')
    })?;
    let body = (sig_end + 1..=last).find(|&l| !lines[l].trim().is_empty())?;
    let t = lines[body].trim_start();
    let prefix_len = t
        .find(['"', '\''])
        .filter(|&i| i <= 2 && t[..i].chars().all(|c| "rRuUbB".contains(c)))?;
    let quote = t[prefix_len..]
        .get(..3)
        .filter(|q| *q == "\"\"\"" || *q == "'''")?;
    let mut texts = Vec::new();
    let mut at = Vec::new();
    for (l, line) in lines.iter().enumerate().take(last + 1).skip(body) {
        let line = line.trim();
        let inner = if l == body {
            &line[prefix_len + 3..]
        } else {
            line
        };
        at.push(l);
        match inner.find(quote) {
            Some(p) => {
                texts.push(inner[..p].trim().to_string());
                return Some((texts, at));
            }
            None => texts.push(inner.trim().to_string()),
        }
    }
    None
}

/// Finds the doc of a definition on 0-based lines `def..=end`: a Python docstring, a `/* ... */` block
/// (Javadoc, JSDoc) or line comments (`///`, `//`, `#`) just above it (attributes, decorators and
/// annotations may sit between). Returns the doc's first paragraph, cleaned of markup, and the lines
/// the whole doc takes.
fn find_doc(
    lang: Language,
    lines: &[&str],
    def: usize,
    end: usize,
) -> Option<(String, Vec<usize>)> {
    let docstring = (lang == Language::Python)
        .then(|| docstring(lines, def, end))
        .flatten();
    let (texts, at) = match docstring {
        Some(found) => found,
        None => comment_above(lang, lines, def)?,
    };
    Some((clean_doc(&texts), at))
}

/// The comment just above 0-based line `def`, attributes skipped: its lines' texts and indexes.
fn comment_above(lang: Language, lines: &[&str], def: usize) -> Option<(Vec<String>, Vec<usize>)> {
    let mut j = def.min(lines.len());
    loop {
        j = j.checked_sub(1)?;
        if !is_attribute(lines[j]) {
            break;
        }
    }
    if has_block_comments(lang) && lines[j].trim().ends_with("*/") {
        let first = (j.saturating_sub(300)..=j)
            .rev()
            .find(|&l| lines[l].contains("/*"))?;
        if !lines[first].trim_start().starts_with("/*") {
            return None;
        }
        return Some((block_text(lines, first, j), (first..=j).collect()));
    }
    let mut at = Vec::new();
    let mut texts = Vec::new();
    while let Some(text) = line_comment(lang, lines[j]) {
        at.push(j);
        texts.push(text.to_string());
        match j.checked_sub(1) {
            Some(k) => j = k,
            None => break,
        }
    }
    if at.is_empty() {
        return None;
    }
    at.reverse();
    texts.reverse();
    Some((texts, at))
}

/// HTML tags docs use for markup (Javadoc, JSDoc), dropped from queries; other `<...>` text is kept.
const HTML_TAGS: &[&str] = &[
    "a", "b", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "tt", "ul",
];

/// The first paragraph of a doc, as one line of plain words: it ends at a blank line or a block tag
/// (`@param`, `:param`); Javadoc/JSDoc inline tags keep their text (`{@link Foo#bar}` → `Foo#bar`,
/// `{@link Foo label}` → `label`), HTML tags, Markdown link targets and code ticks are dropped.
fn clean_doc(texts: &[String]) -> String {
    let mut para = Vec::new();
    for t in texts {
        let t = t.trim();
        if t.is_empty() {
            if para.is_empty() {
                continue;
            }
            break;
        }
        if t.starts_with('@') || t.starts_with(":param") || t.starts_with(":return") {
            break;
        }
        para.push(t);
    }
    let text = para.join(" ");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find(['{', '<', '`', '[', ']']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if let Some(inner) = tail.strip_prefix("{@") {
            // An inline tag: `{@link target label}` keeps the label, `{@code x}` the code.
            let close = inner.find('}').unwrap_or(inner.len());
            let mut words = inner[..close].split_whitespace();
            let tag = words.next().unwrap_or("");
            let args: Vec<&str> = words.collect();
            let kept = if tag.starts_with("link") && args.len() > 1 {
                args[1..].join(" ")
            } else {
                args.join(" ")
            };
            out.push_str(kept.trim_start_matches('#'));
            rest = inner.get(close + 1..).unwrap_or("");
        } else if let Some(close) = tail.find('>').filter(|&c| {
            let tag = tail[1..c].trim_start_matches('/');
            let name = tag.split(' ').next().unwrap_or("").to_ascii_lowercase();
            tail.starts_with('<') && HTML_TAGS.contains(&name.as_str())
        }) {
            rest = &tail[close + 1..];
        } else if let Some(target) = tail.strip_prefix("](") {
            // A Markdown link's target: dropped with its parentheses.
            rest = target.find(')').map(|c| &target[c + 1..]).unwrap_or("");
        } else if tail.starts_with(['`', '[', ']']) {
            rest = &tail[1..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first sentence of a doc text, if it makes a reasonable query (4 to 30 words, not a tag). A
/// leading `name` (Go's convention: `// Open opens ...`) is dropped, so the query does not name the
/// function it asks for.
fn first_sentence(doc: &str, name: &str) -> Option<String> {
    let text = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = text.find(". ").unwrap_or(text.len());
    let mut s = text[..end].trim_end_matches('.').trim();
    if !name.is_empty()
        && let Some(rest) = s.strip_prefix(name)
        && rest.starts_with(' ')
    {
        s = rest.trim_start();
    }
    let words = s.split_whitespace().count();
    let bad = s.starts_with('@')
        || s.starts_with(':')
        || s.starts_with("TODO")
        || s.starts_with("FIXME")
        || s.to_lowercase().starts_with("deprecated")
        || s.starts_with("nolint")
        || s.starts_with("go:")
        || s.contains("http://")
        || s.contains("https://");
    (!bad && (4..=30).contains(&words)).then(|| s.to_string())
}

/// Blanks the text of a doc line, keeping indentation, quotes and comment markers (so line numbers
/// and syntax survive).
fn blank_line(line: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let mut out = String::from(&line[..indent]);
    for c in line[indent..].chars() {
        out.push(if matches!(c, '"' | '\'' | '/' | '#' | '*' | '-' | ';') {
            c
        } else {
            ' '
        });
    }
    out.trim_end().to_string()
}

/// The documented functions and methods of one file, as candidate queries.
fn doc_queries(rel: &str, lang: Language, text: &str) -> Vec<DocQuery> {
    let analysis = crate::chunk::analyze(lang, text, &crate::chunk::ChunkConfig::default());
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for sym in analysis.symbols {
        if !matches!(sym.kind, ChunkKind::Function | ChunkKind::Method) {
            continue;
        }
        let (def, end) = (sym.start_line as usize - 1, sym.end_line as usize - 1);
        if def >= lines.len() || end < def + 2 {
            continue;
        }
        let Some((doc, doc_lines)) = find_doc(lang, &lines, def, end) else {
            continue;
        };
        let Some(query) = first_sentence(&doc, &sym.name) else {
            continue;
        };
        out.push(DocQuery {
            path: rel.to_string(),
            query,
            language: lang.name().to_string(),
            target: (sym.start_line, sym.end_line),
            doc_lines,
        });
    }
    out
}

/// Writes a CodeSearchNet-style evaluation of `root` into `out_dir`: a copy of its code files under
/// `out_dir/corpus` in which the chosen functions' docs are blanked (line numbers kept), and
/// `out_dir/spec.json` whose queries are those docs' first sentences (with their language) and whose
/// targets are the functions (the function rule, [`super::function_hit`]). At most `max` queries, spread evenly over the candidates.
pub fn generate_spec(root: &Path, out_dir: &Path, max: usize) -> Result<Spec> {
    let cfg = crate::config::IndexConfig {
        code_only: true,
        ..Default::default()
    };
    let files = crate::vfs::discover(root, &cfg)?;
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    let mut candidates: Vec<DocQuery> = Vec::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(&f.abs_path) else {
            continue;
        };
        if crate::vfs::classify_text(&bytes).is_err() {
            continue;
        }
        let text = crate::vfs::decode_text(bytes);
        let lang = crate::vfs::detect_language(&f.rel_path, &text);
        candidates.extend(doc_queries(&f.rel_path, lang, &text));
        texts.insert(f.rel_path.clone(), text);
    }
    // A query two functions share (overloads, copies) has no single answer.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for c in &candidates {
        *seen.entry(c.query.to_lowercase()).or_default() += 1;
    }
    candidates.retain(|c| seen[&c.query.to_lowercase()] == 1);
    anyhow::ensure!(
        !candidates.is_empty(),
        "no documented functions found under {}",
        root.display()
    );
    let step = (candidates.len() as f64 / max.max(1) as f64).max(1.0);
    let chosen: Vec<DocQuery> = (0..candidates.len().min(max))
        .map(|i| candidates[(i as f64 * step) as usize].clone())
        .collect();
    let corpus = out_dir.join("corpus");
    for (rel, text) in &texts {
        let blank: std::collections::HashSet<usize> = chosen
            .iter()
            .filter(|q| &q.path == rel)
            .flat_map(|q| q.doc_lines.iter().copied())
            .collect();
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if blank.contains(&i) {
                out.push_str(&blank_line(line.trim_end_matches(['\n', '\r'])));
                out.push('\n');
            } else {
                out.push_str(line);
            }
        }
        let dest = corpus.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap_or(&corpus))?;
        std::fs::write(&dest, out)?;
    }
    let spec = Spec {
        name: format!(
            "docs:{}",
            root.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ),
        root: PathBuf::from("corpus"),
        code_only: true,
        queries: chosen
            .into_iter()
            .map(|q| SpecQuery {
                query: q.query,
                category: Some("doc".into()),
                language: Some(q.language),
                relevant: vec![Target::Detailed {
                    path: q.path,
                    start_line: None,
                    end_line: None,
                    symbol: None,
                    function: Some(LineSpan {
                        start_line: q.target.0,
                        end_line: q.target.1,
                    }),
                    gain: None,
                }],
                context: None,
            })
            .collect(),
    };
    std::fs::write(
        out_dir.join("spec.json"),
        serde_json::to_string_pretty(&spec)?,
    )?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (query, function lines, doc lines 1-based) of each documented function of a file.
    fn found(rel: &str, text: &str) -> Vec<(String, (u32, u32), Vec<usize>)> {
        let lang = crate::vfs::detect_language(rel, text);
        doc_queries(rel, lang, text)
            .into_iter()
            .map(|q| {
                assert_eq!(q.language, lang.name());
                (
                    q.query,
                    q.target,
                    q.doc_lines.iter().map(|l| l + 1).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn python_docstrings_and_comments() {
        let src = r#"import os


def load(path):
    """Read the settings file into a dict.

    More.
    """
    return {}


@cached
def fetch(url,
          timeout=3) -> bytes:
    r'''Download a page over plain HTTP and return its body.'''
    return b""


# Compute the checksum of a byte string quickly.
def crc(data):
    x = 1
    return x


class Box:
    def put(self, item):
        """Store one item in the box, replacing any old one."""
        self.item = item
        return self
"#;
        let got = found("pkg/mod.py", src);
        assert_eq!(
            got,
            vec![
                (
                    "Read the settings file into a dict".to_string(),
                    (4, 9),
                    vec![5, 6, 7, 8]
                ),
                (
                    "Download a page over plain HTTP and return its body".to_string(),
                    (12, 16),
                    vec![15]
                ),
                (
                    "Compute the checksum of a byte string quickly".to_string(),
                    (20, 22),
                    vec![19]
                ),
                (
                    "Store one item in the box, replacing any old one".to_string(),
                    (26, 29),
                    vec![27]
                ),
            ]
        );
    }

    #[test]
    fn rust_doc_comments() {
        let src = r#"//! The module.

/// Opens the database file and checks its [`Header`](crate::Header).
///
/// More text.
#[inline]
pub fn open_db(p: &str) {
    a();
    b();
}

// Helper.
fn tidy() {
    a();
    b();
}
"#;
        let got = found("src/db.rs", src);
        assert_eq!(
            got,
            vec![(
                "Opens the database file and checks its Header".to_string(),
                (7, 10),
                vec![3, 4, 5]
            )]
        );
    }

    #[test]
    fn go_comments_drop_the_leading_name() {
        let src = r#"package store

// Open opens the store at path and replays its journal.
// It fails when the journal is damaged.
func Open(path string) (*Store, error) {
	s := &Store{}
	return s, nil
}

// Close flushes pending writes and releases the file lock.
func (s *Store) Close() error {
	s.flush()
	return nil
}
"#;
        let got = found("store/store.go", src);
        assert_eq!(
            got,
            vec![
                (
                    "opens the store at path and replays its journal".to_string(),
                    (5, 8),
                    vec![3, 4]
                ),
                (
                    "flushes pending writes and releases the file lock".to_string(),
                    (11, 14),
                    vec![10]
                ),
            ]
        );
    }

    #[test]
    fn jsdoc_and_line_comments_in_javascript_and_typescript() {
        let js = r#"/**
 * Splits a string into words, dropping {@link Punctuation} marks
 * @param {string} s the text
 * @returns {string[]}
 */
export function words(s) {
  const out = [];
  return out;
}

/** Capitalizes the first letter of every word in the string. */
function title(s) {
  const t = s;
  return t;
}
"#;
        assert_eq!(
            found("lib/words.js", js),
            vec![
                (
                    "Splits a string into words, dropping Punctuation marks".to_string(),
                    (6, 9),
                    vec![1, 2, 3, 4, 5]
                ),
                (
                    "Capitalizes the first letter of every word in the string".to_string(),
                    (12, 15),
                    vec![11]
                ),
            ]
        );
        let ts = r#"export class Queue<T> {
  // Removes and returns the oldest item, or undefined when empty.
  shift(): T | undefined {
    const x = this.items.shift();
    return x;
  }
}
"#;
        assert_eq!(
            found("src/queue.ts", ts),
            vec![(
                "Removes and returns the oldest item, or undefined when empty".to_string(),
                (3, 6),
                vec![2]
            )]
        );
    }

    #[test]
    fn javadoc_with_tags_and_annotations() {
        let src = r#"package org.example;

public class Strings {
    /**
     * Joins the <b>parts</b> with {@code sep} between them, like {@link String#join(CharSequence) join}.
     * <p>Null parts are skipped.
     *
     * @param sep the separator
     * @return the joined string
     */
    @Override
    public String join(String sep, String... parts) {
        StringBuilder b = new StringBuilder();
        return b.toString();
    }
}
"#;
        assert_eq!(
            found("src/main/java/org/example/Strings.java", src),
            vec![(
                "Joins the parts with sep between them, like join".to_string(),
                (11, 15),
                vec![4, 5, 6, 7, 8, 9, 10]
            )]
        );
    }

    #[test]
    fn unfit_sentences_are_refused_and_blanking_keeps_markers() {
        assert_eq!(first_sentence("Short.", ""), None);
        assert_eq!(first_sentence("@param x the thing to do", ""), None);
        assert_eq!(
            first_sentence("Deprecated: use the other one instead", ""),
            None
        );
        assert_eq!(
            clean_doc(&["Writes <prefix>.json, <i>then</i> `x`.".to_string()]),
            "Writes <prefix>.json, then x."
        );
        // Without its leading name, a Go doc of three words is too short.
        assert_eq!(first_sentence("Len returns the length.", "Len"), None);
        assert_eq!(blank_line("    /// Opens it."), "    ///");
        assert_eq!(blank_line("     * Joins {@code sep}."), "     *");
        assert_eq!(
            blank_line("    \"\"\"Read it.\"\"\""),
            "    \"\"\"        \"\"\""
        );
    }

    #[test]
    fn generated_specs_blank_the_docs_and_target_the_functions() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        let code = "/// Parses the version string into its numeric parts.\npub fn parse(v: &str) -> Vec<u32> {\n    let x = v;\n    todo!()\n}\n";
        std::fs::write(src.join("ver.rs"), code).unwrap();
        let out = dir.path().join("gen");
        let spec = generate_spec(&src, &out, 10).unwrap();
        assert_eq!(spec.queries.len(), 1);
        let q = &spec.queries[0];
        assert_eq!(q.query, "Parses the version string into its numeric parts");
        assert_eq!(q.language.as_deref(), Some("rust"));
        let Target::Detailed { path, function, .. } = &q.relevant[0] else {
            panic!("a detailed target")
        };
        assert_eq!(path, "ver.rs");
        assert_eq!(
            *function,
            Some(LineSpan {
                start_line: 2,
                end_line: 5
            })
        );
        let blanked = std::fs::read_to_string(out.join("corpus/ver.rs")).unwrap();
        assert_eq!(blanked.lines().count(), code.lines().count());
        assert_eq!(blanked.lines().next(), Some("///"));
        assert_eq!(blanked.lines().nth(1), code.lines().nth(1));
        let written: Spec =
            serde_json::from_str(&std::fs::read_to_string(out.join("spec.json")).unwrap()).unwrap();
        assert_eq!(written.queries[0].query, q.query);
    }
}
