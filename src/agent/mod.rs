//! Structural answers over a workspace for programs that read code, such as coding assistants: search
//! results with their code fitted to a token budget, definitions by name, a file's outline, and the
//! definition that encloses a line. Front ends (the MCP server today) only translate their protocol to
//! these calls. Paths are workspace-relative; every file is read through [`crate::vfs::read_text`]
//! (inside the workspace, no links followed, bounded) and only if discovery would index it.

pub mod budget;
pub mod lookup;
pub mod outline;
pub mod references;
pub mod route;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use serde::Serialize;

use crate::confine::Confinement;
use crate::index::Workspace;
use crate::query::SearchHit;
use crate::symbols::SymbolEntry;

/// A result with its code.
#[derive(Clone, Debug, Serialize)]
pub struct CodeHit {
    /// Path relative to the workspace root.
    pub path: String,
    /// The definition's first line, 1-based.
    pub start_line: u32,
    /// Its last line, 1-based, inclusive.
    pub end_line: u32,
    /// The lines that matched inside it (search results only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_lines: Option<[u32; 2]>,
    /// The definition's name (none for top-level code and line windows).
    pub symbol: Option<String>,
    /// The definition it lies in, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// What it defines.
    pub kind: &'static str,
    /// The language.
    pub language: &'static str,
    /// The search score (search results only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// How much of the code is shown: `whole`, `trimmed` (signature and matched lines) or `omitted`.
    pub shown: &'static str,
    /// The code.
    pub code: String,
}

/// Lines `start..=end` (1-based) of `text`, joined with `\n` and ending with one.
pub fn lines_of(text: &str, start: u32, end: u32) -> String {
    let mut out = String::new();
    for l in text
        .lines()
        .skip(start.saturating_sub(1) as usize)
        .take((end + 1).saturating_sub(start.max(1)) as usize)
    {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// A workspace's files as tools name them: paths from outside are confined to the workspace and
/// files are read once per call.
pub struct Files<'a> {
    ws: &'a Workspace,
    confine: Confinement,
    cache: HashMap<String, Option<String>>,
}

impl<'a> Files<'a> {
    /// The files of `ws`.
    pub fn new(ws: &'a Workspace) -> Self {
        let mut confine = Confinement::new(ws.root());
        for d in ws.private_dirs() {
            confine = confine.with_private(d);
        }
        Files {
            ws,
            confine,
            cache: HashMap::new(),
        }
    }

    /// The workspace-relative key of `path` (relative to the root, or absolute inside it); an error
    /// that says why otherwise.
    pub fn rel(&self, path: &str) -> Result<String> {
        let p = Path::new(path.trim());
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.confine.root().join(p)
        };
        self.confine.rel(&abs).map_err(|why| {
            anyhow!(
                "path {path:?} is refused: {why}; give a path relative to the workspace root {}",
                self.ws.root().display()
            )
        })
    }

    /// The text of the file `rel`, if discovery would index it and it can be read.
    pub fn text(&mut self, rel: &str) -> Option<&str> {
        if !self.cache.contains_key(rel) {
            let cfg = self.ws.config();
            let text = crate::vfs::is_indexable(self.ws.root(), rel, &cfg)
                .then(|| crate::vfs::read_text(self.ws.root(), rel, cfg.max_file_size).ok())
                .flatten();
            self.cache.insert(rel.to_string(), text);
        }
        self.cache.get(rel).and_then(|t| t.as_deref())
    }
}

/// Search hits with their code, fitted to `max_tokens` (see [`budget::fit`]). A hit whose file can no
/// longer be read keeps its range and no code.
pub fn with_code(
    ws: &Workspace,
    hits: &[SearchHit],
    query: &str,
    max_tokens: usize,
) -> Vec<CodeHit> {
    let mut files = Files::new(ws);
    let texts: Vec<String> = hits
        .iter()
        .map(|h| {
            files
                .text(&h.path)
                .map(|t| lines_of(t, h.start_line, h.end_line))
                .unwrap_or_default()
        })
        .collect();
    let focus: Vec<Option<u32>> = texts
        .iter()
        .zip(hits)
        .map(|(t, h)| crate::query::best_line(t, query).map(|i| h.start_line + i as u32))
        .collect();
    let pieces: Vec<budget::Piece<'_>> = hits
        .iter()
        .zip(&texts)
        .zip(&focus)
        .map(|((h, t), f)| budget::Piece {
            text: t,
            start_line: h.start_line,
            symbol: h.symbol.as_deref(),
            match_lines: h.match_lines,
            focus: *f,
        })
        .collect();
    let fitted = budget::fit(&pieces, max_tokens);
    hits.iter()
        .zip(fitted)
        .map(|(h, f)| CodeHit {
            path: h.path.clone(),
            start_line: h.start_line,
            end_line: h.end_line,
            match_lines: Some([h.match_lines.0, h.match_lines.1]),
            symbol: h.symbol.clone(),
            container: None,
            kind: h.kind.name(),
            language: h.language.name(),
            score: Some(h.score),
            shown: f.shown.name(),
            code: f.code,
        })
        .collect()
}

/// The code of definitions found by name or line, fitted to `max_tokens` in order.
fn entries_with_code(
    files: &mut Files<'_>,
    found: &[(String, SymbolEntry)],
    max_tokens: usize,
) -> Vec<CodeHit> {
    let texts: Vec<String> = found
        .iter()
        .map(|(p, e)| {
            files
                .text(p)
                .map(|t| lines_of(t, e.start_line, e.end_line))
                .unwrap_or_default()
        })
        .collect();
    let pieces: Vec<budget::Piece<'_>> = found
        .iter()
        .zip(&texts)
        .map(|((_, e), t)| budget::Piece {
            text: t,
            start_line: e.start_line,
            symbol: Some(&e.name),
            match_lines: (e.start_line, e.start_line),
            focus: None,
        })
        .collect();
    let fitted = budget::fit(&pieces, max_tokens);
    found
        .iter()
        .zip(fitted)
        .map(|((p, e), f)| CodeHit {
            path: p.clone(),
            start_line: e.start_line,
            end_line: e.end_line,
            match_lines: None,
            symbol: Some(e.name.clone()),
            container: e.container.clone(),
            kind: e.kind.name(),
            language: crate::syntax::Language::from_path(Path::new(p)).name(),
            score: None,
            shown: f.shown.name(),
            code: f.code,
        })
        .collect()
}

/// The definitions named `name` (see [`lookup::find`]) with their code, at most `limit`, fitted to
/// `max_tokens`. An unknown name is an error naming the nearest names.
pub fn definitions(
    ws: &Workspace,
    name: &str,
    limit: usize,
    max_tokens: usize,
) -> Result<Vec<CodeHit>> {
    let table = ws.symbol_table()?;
    let mut files = Files::new(ws);
    let found: Vec<(String, SymbolEntry)> = match lookup::find(&table, name, limit) {
        Ok(found) => found
            .into_iter()
            .map(|f| (f.path.to_string(), f.entry.clone()))
            .collect(),
        Err(e @ lookup::LookupError::Unknown { .. }) => {
            let modules = module_files(&mut files, &table, name, limit);
            if modules.is_empty() {
                return Err(e.into());
            }
            modules
        }
        Err(e) => return Err(e.into()),
    };
    Ok(entries_with_code(&mut files, &found, max_tokens))
}

/// The files named after `name` as whole-file module definitions ([`lookup::files_named`]), at most
/// `limit`.
pub fn module_files(
    files: &mut Files<'_>,
    table: &crate::symbols::SymbolTable,
    name: &str,
    limit: usize,
) -> Vec<(String, SymbolEntry)> {
    lookup::files_named(table, name)
        .into_iter()
        .filter_map(|p| {
            let lines = files.text(p)?.lines().count().max(1) as u32;
            let stem = lookup::file_stem(p);
            Some((
                p.to_string(),
                SymbolEntry::new(stem, crate::chunk::ChunkKind::Module, None, 1, lines),
            ))
        })
        .take(limit)
        .collect()
}

/// One file's outline.
#[derive(Clone, Debug, Serialize)]
pub struct FileOutline {
    /// Path relative to the workspace root.
    pub path: String,
    /// Its definitions as a tree.
    pub definitions: Vec<outline::Node>,
}

/// Most files a folder's outline lists.
pub const MAX_OUTLINE_FILES: usize = 200;

/// The outline of a file, or of every indexed file under a folder (at most [`MAX_OUTLINE_FILES`], in
/// path order; the second value says whether more were left out). `""` or `.` is the whole workspace.
pub fn outline(ws: &Workspace, path: &str) -> Result<(Vec<FileOutline>, bool)> {
    let mut files = Files::new(ws);
    let table = ws.symbol_table()?;
    let trimmed = path.trim().trim_end_matches('/');
    let rel = if trimmed.is_empty() || trimmed == "." {
        String::new()
    } else {
        files.rel(trimmed)?
    };
    let indexed = !rel.is_empty() && table.paths().any(|p| p == rel);
    let is_file = indexed || crate::vfs::abs_path(ws.root(), &rel).is_file();
    if is_file {
        let entries = table.file_entries(&rel).to_vec();
        if entries.is_empty() && files.text(&rel).is_none() {
            bail!(
                "{rel} is not indexed (it does not exist, or discovery leaves it out: ignored, hidden, binary or too large)"
            );
        }
        let text = files.text(&rel).map(str::to_string);
        return Ok((
            vec![FileOutline {
                definitions: outline::build(&entries, text.as_deref()),
                path: rel,
            }],
            false,
        ));
    }
    let prefix = if rel.is_empty() {
        String::new()
    } else {
        format!("{rel}/")
    };
    let mut paths: Vec<&str> = table.paths().filter(|p| p.starts_with(&prefix)).collect();
    if paths.is_empty() {
        bail!(
            "no indexed file under {path:?}; give a file or folder relative to the workspace root"
        );
    }
    paths.sort_unstable();
    let more = paths.len() > MAX_OUTLINE_FILES;
    paths.truncate(MAX_OUTLINE_FILES);
    let out = paths
        .into_iter()
        .map(|p| FileOutline {
            path: p.to_string(),
            // Signatures only for a single file: a folder's outline stays short.
            definitions: outline::build(table.file_entries(p), None),
        })
        .collect();
    Ok((out, more))
}

/// Where to read.
#[derive(Clone, Debug)]
pub enum At {
    /// The definition enclosing this line (1-based).
    Line(u32),
    /// The definition with this name in the file.
    Symbol(String),
}

/// Lines of context shown around a line that no definition encloses.
pub const CONTEXT_LINES: u32 = 20;

/// The full text of the innermost definition of `path` that encloses a line, or the definition named
/// in it; a line outside every definition gives the lines around it.
pub fn read(ws: &Workspace, path: &str, at: &At) -> Result<CodeHit> {
    let mut files = Files::new(ws);
    let rel = files.rel(path)?;
    let Some(text) = files.text(&rel).map(str::to_string) else {
        bail!(
            "cannot read {rel}: it does not exist, or discovery leaves it out (ignored, hidden, binary or too large)"
        );
    };
    let table = ws.symbol_table()?;
    let entries = table.file_entries(&rel);
    let total = text.lines().count() as u32;
    let entry = match at {
        At::Line(0) => bail!("`line` is 1-based: the first line is 1"),
        At::Line(n) if *n > total.max(1) => {
            bail!("{rel} has {total} lines; line {n} is past its end")
        }
        At::Line(n) => entries
            .iter()
            .filter(|e| e.start_line <= *n && *n <= e.end_line)
            .min_by_key(|e| e.end_line - e.start_line)
            .cloned(),
        At::Symbol(name) => {
            let q = lookup::split(name);
            let named: Vec<&SymbolEntry> = entries
                .iter()
                .filter(|e| e.name == q.name)
                .filter(|e| {
                    q.qualifier
                        .last()
                        .is_none_or(|c| e.container.as_deref() == Some(*c))
                })
                .collect();
            match named.first() {
                Some(e) => Some((*e).clone()),
                None => {
                    let mut names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
                    names.sort_by_key(|n| {
                        lookup::levenshtein(&n.to_lowercase(), &q.name.to_lowercase())
                    });
                    names.dedup();
                    names.truncate(5);
                    if names.is_empty() {
                        bail!("{rel} has no definitions; read it by line instead");
                    }
                    bail!(
                        "{rel} defines no {name}; it defines {} (nearest first)",
                        names.join(", ")
                    );
                }
            }
        }
    };
    let language = crate::vfs::detect_language(&rel, &text).name();
    Ok(match entry {
        Some(e) => CodeHit {
            code: lines_of(&text, e.start_line, e.end_line),
            path: rel,
            start_line: e.start_line,
            end_line: e.end_line,
            match_lines: None,
            symbol: Some(e.name),
            container: e.container,
            kind: e.kind.name(),
            language,
            score: None,
            shown: budget::Shown::Whole.name(),
        },
        None => {
            let At::Line(n) = at else {
                unreachable!("a named definition was found above")
            };
            let (s, e) = (
                n.saturating_sub(CONTEXT_LINES).max(1),
                (n + CONTEXT_LINES).min(total.max(1)),
            );
            CodeHit {
                code: lines_of(&text, s, e),
                path: rel,
                start_line: s,
                end_line: e,
                match_lines: None,
                symbol: None,
                container: None,
                kind: crate::chunk::ChunkKind::Window.name(),
                language,
                score: None,
                shown: budget::Shown::Whole.name(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_one_based_and_inclusive() {
        let t = "a\nb\nc\nd";
        assert_eq!(lines_of(t, 2, 3), "b\nc\n");
        assert_eq!(lines_of(t, 1, 1), "a\n");
        assert_eq!(lines_of(t, 4, 9), "d\n");
        assert_eq!(lines_of(t, 0, 1), "a\n");
    }
}
