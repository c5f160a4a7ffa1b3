//! The JSON shape of search results that sg prints and serves (`sg search --json`, the `signals` of
//! `sg/search`): one place, so every front end speaks of a hit alike (see README).

use serde::Serialize;

use crate::query::{SearchHit, SearchResponse};
use crate::search::Signals;

/// A score's parts as JSON: `lexical`, `semantic`, `fused`, and each boost applied, by name.
pub fn signals_json(s: &Signals) -> serde_json::Value {
    let mut signals = serde_json::Map::new();
    if let Some(l) = s.lexical {
        signals.insert("lexical".into(), l.into());
    }
    if let Some(x) = s.semantic {
        signals.insert("semantic".into(), x.into());
    }
    signals.insert("fused".into(), s.fused.into());
    for (name, f) in &s.boosts {
        signals.insert((*name).into(), (*f).into());
    }
    signals.into()
}

/// A search result as printed by `--json` (the wire shape; see README).
#[derive(Serialize)]
pub struct JsonHit {
    path: String,
    start_line: u32,
    end_line: u32,
    match_start_line: u32,
    match_end_line: u32,
    symbol: Option<String>,
    kind: &'static str,
    language: &'static str,
    score: f32,
    snippet: String,
    signals: serde_json::Value,
}

impl From<&SearchHit> for JsonHit {
    fn from(h: &SearchHit) -> Self {
        JsonHit {
            path: h.path.clone(),
            start_line: h.start_line,
            end_line: h.end_line,
            match_start_line: h.match_lines.0,
            match_end_line: h.match_lines.1,
            symbol: h.symbol.clone(),
            kind: h.kind.name(),
            language: h.language.name(),
            score: h.score,
            snippet: h.snippet.clone(),
            signals: signals_json(&h.signals),
        }
    }
}

#[derive(Serialize)]
struct JsonIndex {
    files: u64,
    chunks: u64,
    embedded: u64,
    /// Chunks searchable by meaning through the fast tier only (absent without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    embedded_fast: Option<u64>,
}

#[derive(Serialize)]
struct JsonResponse<'a> {
    query: &'a str,
    mode: &'static str,
    elapsed_ms: f64,
    index: JsonIndex,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    /// The route the query took (see [`crate::intent`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    intent: Option<&'a crate::intent::Route>,
    results: Vec<JsonHit>,
}

/// The `--json` line of one search: the query, the mode that answered, timing, the index's state, a note,
/// and the results.
pub fn to_json(query: &str, r: &SearchResponse, route: Option<&crate::intent::Route>) -> String {
    let resp = JsonResponse {
        query,
        mode: r.mode.name(),
        elapsed_ms: r.elapsed.as_secs_f64() * 1000.0,
        index: JsonIndex {
            files: r.status.files,
            chunks: r.status.chunks,
            embedded: r.status.embedded,
            embedded_fast: (r.status.embedded_fast > 0).then_some(r.status.embedded_fast),
        },
        note: r.note.as_deref(),
        intent: route,
        results: r.hits.iter().map(JsonHit::from).collect(),
    };
    serde_json::to_string(&resp).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
