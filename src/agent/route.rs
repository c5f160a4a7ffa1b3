//! One search entry for every front end: a query goes the way its intent says ([`crate::intent`]). A
//! definition question answers with the definitions of the name, a uses question with the definitions
//! the uses sit in (the use lines as their match), a bare identifier with its definitions ahead of the
//! hybrid search's results, and everything else with the hybrid search. When a name route finds
//! nothing, the hybrid search answers and the note says why. Results keep the shape of search hits.

use std::time::Instant;

use anyhow::Result;

use super::references::{RefQuery, references};
use super::{Files, lookup};
use crate::chunk::ChunkKind;
use crate::graph::RefKind;
use crate::ids::ChunkId;
use crate::index::Workspace;
use crate::intent::{Intent, Route};
use crate::query::{SearchHit, SearchRequest, SearchResponse};
use crate::search::Signals;
use crate::syntax::Language;

/// The chunk id of a hit that does not come from one indexed unit (a definition or a use's enclosing
/// definition found by name).
pub const NO_CHUNK: ChunkId = ChunkId(u32::MAX);

/// A routed search's answer: the response and the route taken.
pub struct Routed {
    /// The results (and index state, mode, note) as a search gives them.
    pub response: SearchResponse,
    /// The route taken.
    pub route: Route,
}

/// Runs `req` along its route: `intent` when given, else the one guessed from the query. `search` runs
/// a plain search (the workspace's, or a live folder's with its unsaved buffers).
pub fn search(
    ws: &Workspace,
    req: &SearchRequest,
    intent: Option<Intent>,
    search: impl Fn(&SearchRequest) -> Result<SearchResponse>,
) -> Result<Routed> {
    let route = match intent {
        Some(i) => crate::intent::given(i, &req.query),
        None => crate::intent::guess(&req.query),
    };
    let t = Instant::now();
    let fallback = |why: String| -> Result<SearchResponse> {
        let mut r = search(req)?;
        r.note = Some(match r.note.take() {
            Some(n) => format!("{why}; {n}"),
            None => why,
        });
        Ok(r)
    };
    let response = match (route.intent, route.name.as_deref()) {
        (Intent::Search, _) | (_, None) => search(req)?,
        (Intent::Symbol, Some(name)) => {
            let mut r = search(req)?;
            definitions_first(&mut r.hits, name);
            r
        }
        (Intent::Definition, Some(name)) => match definition_hits(ws, req, name)? {
            Ok(hits) if !hits.is_empty() => answered(ws, req, hits, t)?,
            Ok(_) => fallback(format!(
                "no definition named {name} passes the filters: searched instead"
            ))?,
            Err(why) => fallback(format!("{why}: searched instead"))?,
        },
        (Intent::References, Some(name)) => {
            let hits = use_hits(ws, req, name, route.calls_only)?;
            match hits {
                Ok(hits) if !hits.is_empty() => answered(ws, req, hits, t)?,
                Ok(_) => fallback(format!(
                    "no {} of {name} is indexed: searched instead",
                    if route.calls_only { "call" } else { "use" }
                ))?,
                Err(why) => fallback(format!("{why}: searched instead"))?,
            }
        }
    };
    Ok(Routed { response, route })
}

/// A response holding `hits`.
fn answered(
    ws: &Workspace,
    req: &SearchRequest,
    hits: Vec<SearchHit>,
    t: Instant,
) -> Result<SearchResponse> {
    Ok(SearchResponse {
        hits,
        mode: req.mode,
        elapsed: t.elapsed(),
        status: ws.status()?,
        note: None,
    })
}

/// Moves the hits that define `name` (as written, last part of a qualified name) ahead of the others,
/// keeping both groups' order, and raises their scores to the best of the rest, so that a merge by score
/// (several folders) keeps them first.
fn definitions_first(hits: &mut Vec<SearchHit>, name: &str) {
    let last = lookup::split(name).name;
    let (mut defs, rest): (Vec<SearchHit>, Vec<SearchHit>) = std::mem::take(hits)
        .into_iter()
        .partition(|h| h.kind.is_definition() && h.symbol.as_deref() == Some(last));
    let best_rest = rest.first().map_or(0.0, |h| h.score);
    for d in &mut defs {
        d.score = d.score.max(best_rest);
    }
    defs.extend(rest);
    *hits = defs;
}

/// The request's language and kind filters and path globs (compiled once per search).
struct Filters<'a> {
    req: &'a SearchRequest,
    globs: Option<globset::GlobSet>,
}

impl<'a> Filters<'a> {
    fn new(req: &'a SearchRequest) -> Result<Self> {
        Ok(Filters {
            req,
            globs: crate::query::build_globs(&req.paths)?,
        })
    }

    /// Whether a hit at `path` of `kind` passes them.
    fn pass(&self, path: &str, kind: ChunkKind) -> bool {
        let lang = Language::from_path(std::path::Path::new(path));
        (self.req.languages.is_empty() || self.req.languages.contains(&lang))
            && (self.req.kinds.is_empty() || self.req.kinds.contains(&kind))
            && self.globs.as_ref().is_none_or(|g| g.is_match(path))
    }
}

/// Score of the `i`-th of a name route's hits: they are in order, so the score only keeps it.
fn rank_score(i: usize) -> f32 {
    1.0 / (1.0 + i as f32)
}

/// A hit for lines of a file found by name.
#[allow(clippy::too_many_arguments)]
fn hit(
    files: &mut Files<'_>,
    path: &str,
    (start_line, end_line): (u32, u32),
    match_lines: (u32, u32),
    symbol: Option<String>,
    kind: ChunkKind,
    snippet: Option<String>,
    i: usize,
) -> SearchHit {
    let text = files.text(path).unwrap_or("");
    let snippet = snippet.unwrap_or_else(|| {
        text.lines()
            .skip(start_line.saturating_sub(1) as usize)
            .take((end_line + 1 - start_line).min(3) as usize)
            .collect::<Vec<_>>()
            .join("\n")
    });
    SearchHit {
        chunk: NO_CHUNK,
        path: path.to_string(),
        start_line,
        end_line,
        match_lines,
        byte_range: (0, 0),
        symbol,
        enclosing: String::new(),
        kind,
        language: crate::vfs::detect_language(path, text),
        score: rank_score(i),
        snippet,
        signals: Signals::default(),
    }
}

/// The definitions of `name` as hits, or why there are none.
fn definition_hits(
    ws: &Workspace,
    req: &SearchRequest,
    name: &str,
) -> Result<Result<Vec<SearchHit>, String>> {
    let table = ws.symbol_table()?;
    let mut files = Files::new(ws);
    let found: Vec<(String, crate::symbols::SymbolEntry)> =
        match lookup::find(&table, name, usize::MAX) {
            Ok(f) => f
                .into_iter()
                .map(|f| (f.path.to_string(), f.entry.clone()))
                .collect(),
            Err(e) => {
                let modules = super::module_files(&mut files, &table, name, req.limit);
                if modules.is_empty() {
                    return Ok(Err(e.to_string()));
                }
                modules
            }
        };
    let filters = Filters::new(req)?;
    let mut out = Vec::new();
    for (path, e) in found {
        if out.len() >= req.limit {
            break;
        }
        if !filters.pass(&path, e.kind) {
            continue;
        }
        let lines = (e.start_line, e.end_line);
        out.push(hit(
            &mut files,
            &path,
            lines,
            lines,
            Some(e.name.clone()),
            e.kind,
            None,
            out.len(),
        ));
    }
    Ok(Ok(out))
}

/// Uses in one definition (or on one top-level line): path, lines, definition name and kind, and the
/// uses' lines with their text.
type UseGroup = (
    String,
    (u32, u32),
    Option<String>,
    ChunkKind,
    Vec<(u32, String)>,
);

/// The uses of `name` (calls only when asked) grouped by the definition they sit in, nearest the
/// current file first, as hits whose match is the use lines; or why there are none.
fn use_hits(
    ws: &Workspace,
    req: &SearchRequest,
    name: &str,
    calls_only: bool,
) -> Result<Result<Vec<SearchHit>, String>> {
    let q = RefQuery {
        name: name.to_string(),
        near: req.context.current_file.clone(),
        kinds: if calls_only {
            vec![RefKind::Call]
        } else {
            Vec::new()
        },
        limit: 10_000,
    };
    let found = match references(ws, &q) {
        Ok(f) => f,
        Err(e) => return Ok(Err(e.to_string())),
    };
    // Group by (path, enclosing definition or line), in the order of first appearance.
    let mut groups: Vec<UseGroup> = Vec::new();
    for u in found.references {
        let (span, symbol, kind) = match &u.enclosing {
            Some(e) => (
                (e.start_line, e.end_line),
                Some(e.symbol.clone()),
                ChunkKind::from_name(e.kind).unwrap_or(ChunkKind::Block),
            ),
            None => ((u.line, u.line), None, ChunkKind::Block),
        };
        match groups.iter_mut().find(|g| g.0 == u.path && g.1 == span) {
            Some(g) => g.4.push((u.line, u.text)),
            None => groups.push((u.path, span, symbol, kind, vec![(u.line, u.text)])),
        }
    }
    let mut files = Files::new(ws);
    let filters = Filters::new(req)?;
    let mut out = Vec::new();
    for (path, span, symbol, kind, uses) in groups {
        if out.len() >= req.limit {
            break;
        }
        if !filters.pass(&path, kind) {
            continue;
        }
        let first = uses.first().map_or(span.0, |u| u.0);
        let last = uses.last().map_or(span.0, |u| u.0);
        let snippet = uses
            .iter()
            .take(3)
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        out.push(hit(
            &mut files,
            &path,
            span,
            (first, last),
            symbol,
            kind,
            Some(snippet),
            out.len(),
        ));
    }
    Ok(Ok(out))
}
