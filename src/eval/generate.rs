//! Doc-to-code specs generated from any folder: each documented function's first doc sentence is a
//! query, its doc is blanked in the indexed copy (lines kept), and the function is the target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::spec::{Spec, SpecQuery, Target};

/// A generated query: a documented function whose doc's first sentence becomes the query.
#[derive(Clone, Debug)]
struct DocQuery {
    path: String,
    query: String,
    language: String,
    target: (u32, u32),
    doc_lines: Vec<usize>,
}

const COMMENT_MARKERS: &[&str] = &["///", "//!", "//", "/**", "/*", "*/", "*", "#", "--", ";;"];

fn strip_comment(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.starts_with("#[")
        || t.starts_with("#include")
        || t.starts_with("#define")
        || t.starts_with("#!")
    {
        return None;
    }
    COMMENT_MARKERS
        .iter()
        .find_map(|m| t.strip_prefix(m))
        .map(|r| r.trim_start_matches(['/', '*', '!', '#', '-']).trim())
}

/// The first sentence of a doc text, if it makes a reasonable query (4 to 30 words, not a tag).
fn first_sentence(doc: &str) -> Option<String> {
    let text = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = text.find(". ").unwrap_or(text.len());
    let s = text[..end].trim_end_matches('.').trim();
    let words = s.split_whitespace().count();
    let bad = s.starts_with('@')
        || s.starts_with(':')
        || s.starts_with("TODO")
        || s.starts_with("FIXME")
        || s.contains("http://")
        || s.contains("https://")
        || s.starts_with('[')
        || s.starts_with('`');
    (!bad && (4..=30).contains(&words)).then(|| s.to_string())
}

/// Finds the doc of a definition starting at 0-based line `def` (ending at `end`): comment lines just
/// above it (attributes and decorators may sit between), or a docstring as its first statement.
fn find_doc(lines: &[&str], def: usize, end: usize) -> Option<(String, Vec<usize>)> {
    let mut doc_lines = Vec::new();
    let mut i = def;
    while i > 0 {
        i -= 1;
        let t = lines[i].trim();
        if t.starts_with("#[") || t.starts_with('@') {
            continue;
        }
        match strip_comment(lines[i]) {
            Some(_) if !t.is_empty() => doc_lines.push(i),
            _ => break,
        }
    }
    doc_lines.reverse();
    if !doc_lines.is_empty() {
        let text: Vec<&str> = doc_lines
            .iter()
            .filter_map(|&l| strip_comment(lines[l]))
            .collect();
        return Some((text.join(" "), doc_lines));
    }
    // A docstring: the first non-blank line after the signature starts with triple quotes.
    let last = end.min(lines.len().saturating_sub(1));
    let body = (def + 1..=last).find(|&l| !lines[l].trim().is_empty())?;
    let t = lines[body].trim_start();
    let quote = ["\"\"\"", "'''", "r\"\"\""]
        .into_iter()
        .find(|q| t.starts_with(q))?;
    let q = &quote[quote.len() - 3..];
    let mut text = String::new();
    let mut l = body;
    loop {
        let line = lines[l].trim();
        let inner = if l == body {
            &line[quote.len()..]
        } else {
            line
        };
        let (part, done) = match inner.find(q) {
            Some(p) => (&inner[..p], true),
            None => (inner, false),
        };
        text.push_str(part);
        text.push(' ');
        doc_lines.push(l);
        if done || l >= last {
            break;
        }
        l += 1;
    }
    Some((text, doc_lines))
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

/// Writes a CodeSearchNet-style evaluation of `root` into `out_dir`: a copy of its code files under
/// `out_dir/corpus` in which the chosen functions' docs are blanked (line numbers kept), and
/// `out_dir/spec.json` whose queries are those docs' first sentences and whose targets are the
/// functions' line spans. At most `max` queries, spread evenly over the candidates.
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
        let analysis = crate::chunk::analyze(lang, &text, &crate::chunk::ChunkConfig::default());
        let lines: Vec<&str> = text.lines().collect();
        for sym in analysis.symbols {
            if !matches!(
                sym.kind,
                crate::chunk::ChunkKind::Function | crate::chunk::ChunkKind::Method
            ) {
                continue;
            }
            let (def, end) = (sym.start_line as usize - 1, sym.end_line as usize - 1);
            if def >= lines.len() || end < def + 2 {
                continue;
            }
            let Some((doc, doc_lines)) = find_doc(&lines, def, end) else {
                continue;
            };
            let Some(query) = first_sentence(&doc) else {
                continue;
            };
            candidates.push(DocQuery {
                path: f.rel_path.clone(),
                query,
                language: lang.name().to_string(),
                target: (sym.start_line, sym.end_line),
                doc_lines,
            });
        }
        texts.insert(f.rel_path.clone(), text);
    }
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
                category: Some(q.language),
                relevant: vec![Target::Detailed {
                    path: q.path,
                    start_line: Some(q.target.0),
                    end_line: Some(q.target.1),
                    symbol: None,
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

    #[test]
    fn docs_are_found_and_blanked() {
        let src = "/// Opens the database file and checks its header.\n#[inline]\nfn open_db(p: &str) {\n    a();\n    b();\n}\n";
        let lines: Vec<&str> = src.lines().collect();
        let (doc, at) = find_doc(&lines, 2, 5).unwrap();
        assert_eq!(at, vec![0]);
        assert_eq!(
            first_sentence(&doc).unwrap(),
            "Opens the database file and checks its header"
        );
        assert_eq!(blank_line("    /// Opens it."), "    ///");
        let py = "def load(path):\n    \"\"\"Read the settings file into a dict.\n\n    More.\n    \"\"\"\n    return {}\n";
        let lines: Vec<&str> = py.lines().collect();
        let (doc, at) = find_doc(&lines, 0, 5).unwrap();
        assert_eq!(at, vec![1, 2, 3, 4]);
        assert_eq!(
            first_sentence(&doc).unwrap(),
            "Read the settings file into a dict"
        );
        assert_eq!(first_sentence("Short."), None);
    }
}
