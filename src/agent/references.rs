//! Where a name is used: every reference the code graph holds for it (calls, type uses, imports, other
//! mentions), each with its line and its enclosing definition, nearest to a given file first. "Who calls
//! X" is the calls among them, grouped by their enclosing definitions. Resolution is by name (see
//! [`crate::graph`]); a qualifier narrows it.

use std::collections::HashSet;

use anyhow::{Result, bail};
use serde::Serialize;

use super::{Files, lookup};
use crate::graph::RefKind;
use crate::ids::FileId;
use crate::index::Workspace;

/// The definition a use sits in.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Enclosing {
    /// Its name.
    pub symbol: String,
    /// Its kind (`function`, `method`, ...).
    pub kind: &'static str,
    /// The definition it belongs to, if any (a method's class).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Its first line, 1-based.
    pub start_line: u32,
    /// Its last line, 1-based, inclusive.
    pub end_line: u32,
}

/// One use of the name.
#[derive(Clone, Debug, Serialize)]
pub struct UseSite {
    /// Path relative to the workspace root.
    pub path: String,
    /// Line, 1-based.
    pub line: u32,
    /// Column, 1-based, in bytes.
    pub column: u32,
    /// `call`, `type`, `import`, `use` or `field` (a member read, not called).
    pub kind: &'static str,
    /// The line's text, trimmed.
    pub text: String,
    /// The innermost definition holding the use (none at a file's top level).
    pub enclosing: Option<Enclosing>,
}

/// A definition of the name, for orientation.
#[derive(Clone, Debug, Serialize)]
pub struct DefinitionSite {
    /// Path relative to the workspace root.
    pub path: String,
    /// Its first line, 1-based.
    pub start_line: u32,
    /// Its last line, 1-based, inclusive.
    pub end_line: u32,
    /// Its kind.
    pub kind: &'static str,
    /// The definition it belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// The answer to "where is X used".
#[derive(Clone, Debug, Serialize)]
pub struct References {
    /// The name looked up (its last part, for a qualified name).
    pub name: String,
    /// The uses, nearest first, at most the limit asked.
    pub references: Vec<UseSite>,
    /// How many uses there are in all (before the limit).
    pub total: usize,
    /// How many files use the name.
    pub files: usize,
    /// Where the name is defined.
    pub definitions: Vec<DefinitionSite>,
}

/// What to look up.
#[derive(Clone, Debug, Default)]
pub struct RefQuery {
    /// The name, plain (`parse_config`) or qualified (`Server::handle`, `config.parse`).
    pub name: String,
    /// The file to rank by nearness (same file, same folder, imports, shared folders).
    pub near: Option<String>,
    /// Only these kinds of use (when empty: all, except member reads of a name defined only as
    /// functions, which are fields of the same name).
    pub kinds: Vec<RefKind>,
    /// The most uses returned.
    pub limit: usize,
}

/// How near `path` is to `near`: 0 the same file, 1 the same folder, 2 related by imports, 3 else;
/// then more shared folders first.
fn nearness(path: &str, near: Option<&str>, related: &HashSet<String>) -> (u8, usize) {
    let Some(near) = near else {
        return (3, 0);
    };
    if path == near {
        return (0, 0);
    }
    let dir = |p: &str| {
        p.rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default()
    };
    let shared = path
        .split('/')
        .zip(near.split('/'))
        .take_while(|(a, b)| a == b)
        .count();
    if dir(path) == dir(near) {
        (1, usize::MAX - shared)
    } else if related.contains(path) {
        (2, usize::MAX - shared)
    } else {
        (3, usize::MAX - shared)
    }
}

/// The uses of `q.name` (see the module's documentation). A name that is neither used nor defined is
/// an error naming the nearest known names.
pub fn references(ws: &Workspace, q: &RefQuery) -> Result<References> {
    let qn = lookup::split(&q.name);
    if qn.name.is_empty() {
        bail!("give the name of a function, type, method or variable, e.g. `parse_config`");
    }
    let name = qn.name.to_string();
    let qualifier = qn.qualifier.last().map(|s| s.to_string());
    let refs = ws.ref_table()?;
    let table = ws.symbol_table()?;
    let files: Vec<FileId> = refs.files(&name).to_vec();
    let definitions: Vec<DefinitionSite> = table
        .iter()
        .filter(|(_, e)| e.name == name)
        .filter(|(_, e)| {
            qualifier
                .as_deref()
                .is_none_or(|c| e.container.as_deref() == Some(c))
        })
        .map(|(p, e)| DefinitionSite {
            path: p.to_string(),
            start_line: e.start_line,
            end_line: e.end_line,
            kind: e.kind.name(),
            container: e.container.clone(),
        })
        .collect();
    if files.is_empty() && definitions.is_empty() {
        let suggestions = lookup::suggest(&table, &name, 5);
        if suggestions.is_empty() {
            bail!("no use or definition of {name} is indexed");
        }
        bail!(
            "no use or definition of {name} is indexed; did you mean {}?",
            suggestions.join(", ")
        );
    }
    let near = match q.near.as_deref() {
        Some(p) if !p.trim().is_empty() => Some(Files::new(ws).rel(p)?),
        _ => None,
    };
    let related: HashSet<String> = match &near {
        Some(p) => ws.related_files(p, 64)?.into_iter().collect(),
        None => HashSet::new(),
    };
    // Files that mention the qualifier (or define it), for a qualified name.
    let qualified_files: HashSet<FileId> = match &qualifier {
        Some(c) => refs.files(c).iter().copied().collect(),
        None => HashSet::new(),
    };
    // A name defined only as functions is not what a member read (`x.name`, not called) refers to: that
    // is a field of the same name.
    let callable = !definitions.is_empty()
        && definitions
            .iter()
            .all(|d| matches!(d.kind, "function" | "method" | "macro"));
    let wanted = |k: RefKind| {
        if q.kinds.is_empty() {
            !(callable && k == RefKind::Field)
        } else {
            q.kinds.contains(&k)
        }
    };
    let mut found: Vec<(String, FileId, crate::graph::Reference)> = Vec::new();
    for &fid in &files {
        let Some(path) = table.path(fid) else {
            continue;
        };
        for r in ws.references_of(fid)? {
            if r.name == name && wanted(r.kind) {
                found.push((path.to_string(), fid, r));
            }
        }
    }
    let mut reader = Files::new(ws);
    let mut sites: Vec<((u8, usize), UseSite)> = Vec::with_capacity(found.len());
    for (path, fid, r) in found {
        let enclosing = table
            .entries_of(fid)
            .iter()
            .filter(|e| e.start_line <= r.line && r.line <= e.end_line)
            .min_by_key(|e| e.end_line - e.start_line)
            .map(|e| Enclosing {
                symbol: e.name.clone(),
                kind: e.kind.name(),
                container: e.container.clone(),
                start_line: e.start_line,
                end_line: e.end_line,
            });
        let text = reader
            .text(&path)
            .and_then(|t| t.lines().nth(r.line as usize - 1))
            .map(|l| l.trim().to_string())
            .unwrap_or_default();
        if let Some(c) = &qualifier {
            let in_scope = text.contains(c.as_str())
                || qualified_files.contains(&fid)
                || enclosing
                    .as_ref()
                    .is_some_and(|e| e.container.as_deref() == Some(c) || e.symbol == *c);
            if !in_scope {
                continue;
            }
        }
        let rank = nearness(&path, near.as_deref(), &related);
        sites.push((
            rank,
            UseSite {
                path,
                line: r.line,
                column: r.column,
                kind: r.kind.name(),
                text,
                enclosing,
            },
        ));
    }
    sites.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(
                crate::search::is_non_source_path(&a.1.path)
                    .cmp(&crate::search::is_non_source_path(&b.1.path)),
            )
            .then(a.1.path.cmp(&b.1.path))
            .then(a.1.line.cmp(&b.1.line))
            .then(a.1.column.cmp(&b.1.column))
    });
    let total = sites.len();
    let files = sites
        .iter()
        .map(|s| s.1.path.as_str())
        .collect::<HashSet<_>>()
        .len();
    let references = sites
        .into_iter()
        .take(q.limit.max(1))
        .map(|(_, s)| s)
        .collect();
    Ok(References {
        name,
        references,
        total,
        files,
        definitions,
    })
}
