//! Answers a search against a workspace: runs the lexical and semantic retrievers on a snapshot, hands
//! the candidates to [`crate::search::rank`], filters, and hydrates results with paths, ranges and
//! snippets.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::answer;
use crate::chunk::ChunkKind;
use crate::ids::{ChunkId, FileId};
use crate::index::{IndexStatus, Workspace};
use crate::lexical::LexQuery;
use crate::search::{self, CandidateInfo, Mode, RankConfig, SearchContext, Signals};
use crate::store::ChunkRecord;
use crate::syntax::Language;
use crate::vectors::VectorSet;

/// The longest query text a search accepts, in bytes. Queries are typed or selected by a person; a
/// longer one is almost certainly a whole buffer sent by mistake, and analysing and embedding it would
/// take minutes and gigabytes.
pub const MAX_QUERY_BYTES: usize = 4096;

/// A query longer than [`MAX_QUERY_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("query too long: {0} bytes, at most {MAX_QUERY_BYTES}")]
pub struct QueryTooLong(pub usize);

/// Refuses a query text longer than [`MAX_QUERY_BYTES`]. Every search entry point checks this first
/// ([`Workspace::search`] does); front ends may call it to answer with their own kind of error.
pub fn check_query(query: &str) -> Result<(), QueryTooLong> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(QueryTooLong(query.len()));
    }
    Ok(())
}

/// The retrieval mode named `name` (hybrid when none is given), for servers that receive it as text.
pub fn mode_named(name: Option<&str>) -> Result<Mode, String> {
    match name {
        None => Ok(Mode::Hybrid),
        Some(m) => Mode::from_name(m)
            .ok_or_else(|| format!("`mode` must be hybrid, lexical or semantic, not {m:?}")),
    }
}

/// The languages named in `names` (see [`Language::from_name`]); the first unknown one is an error.
pub fn languages_named(names: &[String]) -> Result<Vec<Language>, String> {
    names
        .iter()
        .map(|l| {
            Language::from_name(l).ok_or_else(|| format!("`languages`: unknown language {l:?}"))
        })
        .collect()
}

/// The kinds named in `names` (see [`ChunkKind::from_name`]); the first unknown one is an error that
/// lists the known kinds.
pub fn kinds_named(names: &[String]) -> Result<Vec<ChunkKind>, String> {
    names
        .iter()
        .map(|k| {
            ChunkKind::from_name(k).ok_or_else(|| {
                let known: Vec<&str> = ChunkKind::ALL.iter().map(|k| k.name()).collect();
                format!("`kinds`: unknown kind {k:?} (known: {})", known.join(", "))
            })
        })
        .collect()
}

/// A search request.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    /// The query text.
    pub query: String,
    /// How many results at most.
    pub limit: usize,
    /// Which retrievers.
    pub mode: Mode,
    /// Only paths matching one of these globs (all when empty).
    pub paths: Vec<String>,
    /// Only these languages (all when empty).
    pub languages: Vec<Language>,
    /// Only these kinds (all when empty).
    pub kinds: Vec<ChunkKind>,
    /// Editor context.
    pub context: SearchContext,
}

impl SearchRequest {
    /// A hybrid request for `query` with default settings.
    pub fn new(query: impl Into<String>, limit: usize) -> Self {
        SearchRequest {
            query: query.into(),
            limit,
            mode: Mode::Hybrid,
            paths: Vec::new(),
            languages: Vec::new(),
            kinds: Vec::new(),
            context: SearchContext::default(),
        }
    }
}

/// One result.
#[derive(Clone, Debug)]
pub struct SearchHit {
    /// The chunk.
    pub chunk: ChunkId,
    /// Path relative to the workspace root.
    pub path: String,
    /// First line of the definition that answers, 1-based (see [`crate::answer`]).
    pub start_line: u32,
    /// Its last line, 1-based, inclusive.
    pub end_line: u32,
    /// The lines that matched (the indexed unit), inside `start_line..=end_line`: the whole definition, or
    /// the piece of a large one that matched.
    pub match_lines: (u32, u32),
    /// Byte range of the lines that matched (`match_lines`).
    pub byte_range: (u32, u32),
    /// Symbol name.
    pub symbol: Option<String>,
    /// Enclosing symbols.
    pub enclosing: String,
    /// Kind.
    pub kind: ChunkKind,
    /// Language.
    pub language: Language,
    /// Final score.
    pub score: f32,
    /// A few lines of the chunk: the ones that best match the query.
    pub snippet: String,
    /// Score breakdown.
    pub signals: Signals,
}

/// A search's answer.
#[derive(Clone, Debug)]
pub struct SearchResponse {
    /// Results, best first.
    pub hits: Vec<SearchHit>,
    /// The mode actually used (hybrid falls back to lexical without vectors).
    pub mode: Mode,
    /// Time spent.
    pub elapsed: Duration,
    /// Completeness of the index when the search ran.
    pub status: IndexStatus,
    /// Why the search was degraded, if it was (e.g. no embedder).
    pub note: Option<String>,
}

/// A query vector and `vs` scanned with it: the query's embedding, the top `k` chunks, and the
/// similarity's mean and standard deviation over the whole set.
type Scan = (Vec<f32>, Vec<(ChunkId, f32)>, f32, f32);

/// Embeds `query` with `model` and scans `vs` with it (see [`Scan`]).
fn scan(
    model: &dyn crate::embed::Embedder,
    vs: &VectorSet,
    query: &str,
    k: usize,
) -> anyhow::Result<Scan> {
    let q = model.embed_query(query)?;
    let (hits, mean, std) = vs.top_k_with_stats(&q, k);
    Ok((q, hits, mean, std))
}

/// Semantic candidates while two vector spaces share the work: chunks the main model has embedded are
/// scored in its space, the others in the fast tier's. Cosines of two models are not comparable, so each
/// list is put on the scale of its own space (standard scores over all of the space's vectors) before
/// the lists are merged.
fn two_tier(
    query: &str,
    k: usize,
    main: Option<(&dyn crate::embed::Embedder, &VectorSet)>,
    fast: (&dyn crate::embed::Embedder, &VectorSet),
) -> (Vec<(ChunkId, f32)>, Option<String>) {
    let mut merged: Vec<(ChunkId, f32)> = Vec::new();
    let mut note = None;
    let z = |hits: Vec<(ChunkId, f32)>, mean: f32, std: f32| {
        hits.into_iter()
            .map(move |(id, s)| (id, (s - mean) / std.max(1e-6)))
    };
    if let Some((model, vs)) = main.filter(|(_, vs)| !vs.is_empty()) {
        match scan(model, vs, query, k) {
            Ok((_, hits, mean, std)) => merged.extend(z(hits, mean, std)),
            Err(err) => note = Some(format!("semantic search unavailable: {err:#}")),
        }
    }
    match scan(fast.0, fast.1, query, k) {
        Ok((_, hits, mean, std)) => {
            let main_vs = main.map(|m| m.1);
            merged.extend(
                z(hits, mean, std).filter(|(id, _)| !main_vs.is_some_and(|vs| vs.contains(*id))),
            );
        }
        Err(err) => note = Some(format!("fast semantic tier unavailable: {err:#}")),
    }
    merged.sort_by(|a, b| b.1.total_cmp(&a.1));
    merged.truncate(k);
    (merged, note)
}

/// The main model's similarity plus `weight` times the fast tier's, the latter put on the main model's
/// scale (z-scores over the whole set), for every chunk either tier ranks in its top `k`.
fn blend_tiers(
    query: &str,
    k: usize,
    main: (&dyn crate::embed::Embedder, &VectorSet),
    fast: (&dyn crate::embed::Embedder, &VectorSet),
    weight: f32,
) -> (Vec<(ChunkId, f32)>, Option<String>) {
    let (qm, main_hits, _, main_std) = match scan(main.0, main.1, query, k) {
        Ok(r) => r,
        Err(err) => {
            return (
                Vec::new(),
                Some(format!("semantic search unavailable: {err:#}")),
            );
        }
    };
    let (qf, fast_hits, fast_mean, fast_std) = match scan(fast.0, fast.1, query, k) {
        Ok(r) => r,
        Err(err) => {
            return (
                main_hits,
                Some(format!("fast semantic tier unavailable: {err:#}")),
            );
        }
    };
    // A fast set without spread (empty, or too few vectors yet) says nothing: the main model ranks alone.
    let scale = if fast_std > 1e-6 {
        weight * main_std / fast_std
    } else {
        0.0
    };
    let mut ids: Vec<ChunkId> = main_hits.iter().chain(&fast_hits).map(|h| h.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut merged: Vec<(ChunkId, f32)> = ids
        .into_iter()
        .filter_map(|id| {
            let m = crate::vectors::dot(main.1.get(id)?, &qm);
            let f = fast
                .1
                .get(id)
                .map_or(0.0, |v| crate::vectors::dot(v, &qf) - fast_mean);
            Some((id, m + scale * f))
        })
        .collect();
    merged.sort_by(|a, b| b.1.total_cmp(&a.1));
    merged.truncate(k);
    (merged, None)
}

/// Candidates taken from each retriever before fusion.
const CANDIDATES: usize = 100;
/// Most files the import graph adds to a query's editor context.
const RELATED_FILES: usize = 64;

/// Compiles path globs (relative to the workspace root; a glob without `/` also matches in any folder).
pub(crate) fn build_globs(globs: &[String]) -> Result<Option<GlobSet>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g).map_err(|e| anyhow::anyhow!("invalid path glob {g:?}: {e}"))?);
        if !g.contains('/') {
            b.add(
                Glob::new(&format!("**/{g}"))
                    .map_err(|e| anyhow::anyhow!("invalid path glob {g:?}: {e}"))?,
            );
        }
    }
    Ok(Some(b.build()?))
}

/// The index of the line of `text` sharing the most query terms (the first such line), if any shares one.
pub fn best_line(text: &str, query: &str) -> Option<usize> {
    let terms: Vec<String> = crate::lexical::query_terms(query);
    let score = |l: &str| {
        let lower = l.to_lowercase();
        terms.iter().filter(|t| lower.contains(t.as_str())).count()
    };
    text.lines()
        .enumerate()
        .map(|(i, l)| (score(l), i))
        .filter(|(s, _)| *s > 0)
        .max_by_key(|&(s, i)| (s, std::cmp::Reverse(i)))
        .map(|(_, i)| i)
}

/// The lines of `text` that share the most words with the query, up to `max_lines` consecutive lines.
pub fn snippet(text: &str, query: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let first_code = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let start = best_line(text, query).unwrap_or(first_code);
    lines[start..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .take(max_lines)
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifier a query names, if it is one: `parse_config`, `HttpClient`, `Sinatra::Helpers`
/// (the last segment), `fmt.Println` (likewise).
fn named_identifier(query: &str) -> Option<&str> {
    let q = query.trim();
    if q.is_empty() || q.split_whitespace().count() > 1 {
        return None;
    }
    let last = q
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find(|s| !s.is_empty())?;
    (last.len() >= 3 && !last.chars().all(|c| c.is_ascii_digit())).then_some(last)
}

/// Keeps the first (best) hit of each answering definition, up to `limit`: several units can answer as one
/// definition (the pieces of a split function, a class's header and the glue between its methods).
pub(crate) fn each_definition_once(hits: Vec<SearchHit>, limit: usize) -> Vec<SearchHit> {
    let mut out: Vec<SearchHit> = Vec::with_capacity(limit.min(hits.len()));
    for h in hits {
        if out.len() >= limit {
            break;
        }
        if !out
            .iter()
            .any(|o| o.path == h.path && o.start_line == h.start_line && o.end_line == h.end_line)
        {
            out.push(h);
        }
    }
    out
}

impl Workspace {
    /// For a query naming an identifier, adds the chunks holding that identifier's definitions to the
    /// lexical candidates, scored as the best lexical hit: a definition is found even when its chunk's
    /// text mentions the name less often than its callers do.
    fn add_definitions(&self, query: &str, lexical: &mut Vec<(ChunkId, f32)>) -> Result<()> {
        let Some(name) = named_identifier(query) else {
            return Ok(());
        };
        let table = self.symbol_table()?;
        let defs: Vec<_> = table
            .search(name, 8, None)
            .into_iter()
            .filter(|h| h.matched <= crate::symbols::MatchKind::ExactIgnoreCase)
            .map(|h| (h.entry.file, h.entry.start_line))
            .collect();
        if defs.is_empty() {
            return Ok(());
        }
        let top = lexical.iter().map(|(_, s)| *s).fold(1.0f32, f32::max);
        let txn = self.store().read_txn()?;
        for (file, line) in defs {
            let Some(rec) = self.store().file(&txn, file)? else {
                continue;
            };
            for id in rec.chunks {
                let Some(c) = self.store().chunk(&txn, id)? else {
                    continue;
                };
                if c.start_line <= line && c.end_line >= line {
                    match lexical.iter_mut().find(|(i, _)| *i == id) {
                        Some(hit) => hit.1 = hit.1.max(top),
                        None => lexical.push((id, top)),
                    }
                    break;
                }
            }
        }
        Ok(())
    }

    /// The cosine similarity of the query's nearest chunk and the floor it must reach: in the main model's
    /// space when it has vectors, else in the fast tier's. `None` without vectors or when embedding fails.
    fn nearest_similarity(
        &self,
        query: &str,
        vectors: &VectorSet,
        fast_vectors: &VectorSet,
        rank_cfg: &RankConfig,
    ) -> Option<(f32, f32)> {
        let (model, vs, floor) = match (self.embedder(), self.fast_embedder()) {
            (Some(m), _) if !vectors.is_empty() => (m, vectors, rank_cfg.min_similarity),
            (_, Some(f)) if !fast_vectors.is_empty() => {
                (f, fast_vectors, rank_cfg.min_fast_similarity)
            }
            _ => return None,
        };
        // The query's vector was just computed: the embedder's query cache answers this call.
        let q = model.embed_query(query).ok()?;
        let (top, _, _) = vs.top_k_with_stats(&q, 1);
        top.first().map(|(_, s)| (*s, floor))
    }

    /// Runs a search on the current state of the index. A query longer than [`MAX_QUERY_BYTES`] is
    /// refused ([`QueryTooLong`]).
    pub fn search(&self, req: &SearchRequest, rank_cfg: &RankConfig) -> Result<SearchResponse> {
        check_query(&req.query)?;
        let t = Instant::now();
        let globs = build_globs(&req.paths)?;
        let filtered = globs.is_some() || !req.languages.is_empty() || !req.kinds.is_empty();
        let k = if filtered { CANDIDATES * 5 } else { CANDIDATES };
        let mut note = None;
        let mut mode = req.mode;

        // The two retrievers run side by side: the query embedding dominates a hybrid search's time.
        let vectors = self.vectors();
        let run_lexical = || -> Result<Vec<(ChunkId, f32)>> {
            // A semantic search asks the lexical index only whether any chunk shares a word with the query.
            let limit = if mode == Mode::Semantic { 1 } else { k };
            let mut hits: Vec<(ChunkId, f32)> = self
                .lexical()
                .searcher()
                .search(&LexQuery {
                    text: &req.query,
                    limit,
                })?
                .into_iter()
                .map(|h| (ChunkId(h.chunk_id), h.score))
                .collect();
            if mode != Mode::Semantic {
                self.add_definitions(&req.query, &mut hits)?;
            }
            Ok(hits)
        };
        let fast_vectors = self.fast_vectors();
        let run_semantic = || -> (Vec<(ChunkId, f32)>, Option<String>) {
            if mode == Mode::Lexical {
                return (Vec::new(), None);
            }
            // Until the main model has embedded every chunk the fast tier has, both answer.
            if let Some(fast) = self.fast_embedder()
                && fast_vectors.len() > vectors.len()
            {
                return two_tier(
                    &req.query,
                    k,
                    self.embedder().map(|e| (e.as_ref(), vectors.as_ref())),
                    (fast.as_ref(), fast_vectors.as_ref()),
                );
            }
            // Once it has, the fast tier's view of the whole chunk is blended in (an exact scan of both
            // sets; above the approximate tier's threshold the main model answers alone).
            if rank_cfg.fast_blend > 0.0
                && let (Some(fast), Some(main)) = (self.fast_embedder(), self.embedder())
                && !vectors.is_empty()
                && !self.ann_active(&vectors)
            {
                return blend_tiers(
                    &req.query,
                    k,
                    (main.as_ref(), vectors.as_ref()),
                    (fast.as_ref(), fast_vectors.as_ref()),
                    rank_cfg.fast_blend,
                );
            }
            match self.embedder() {
                Some(e) if !vectors.is_empty() => match e.embed_query(&req.query) {
                    Ok(q) => (self.vector_top_k(&vectors, &q, k), None),
                    Err(err) => (
                        Vec::new(),
                        Some(format!("semantic search unavailable: {err:#}")),
                    ),
                },
                Some(_) => (
                    Vec::new(),
                    Some("no chunk is embedded yet; lexical results only".into()),
                ),
                None => (
                    Vec::new(),
                    Some("no embedding model loaded; lexical results only".into()),
                ),
            }
        };
        let (lexical, (mut semantic, sem_note)) = rayon::join(run_lexical, run_semantic);
        let mut lexical = lexical?;
        let shares_a_word = !lexical.is_empty();
        if mode == Mode::Semantic {
            lexical.clear();
        }
        note = note.or(sem_note);
        // Nothing shares a word with the query: the semantic neighbours alone answer, and only when the
        // nearest is close enough in meaning (a query of nonsense has nearest neighbours too).
        if !shares_a_word
            && !semantic.is_empty()
            && let Some((best, floor)) =
                self.nearest_similarity(&req.query, &vectors, &fast_vectors, rank_cfg)
            && best < floor
        {
            semantic.clear();
            note = Some(format!(
                "nothing in the index shares a word with the query or is close to it in meaning \
                 (nearest similarity {best:.2}, at least {floor:.2} needed)"
            ));
        }
        if mode == Mode::Hybrid && semantic.is_empty() {
            mode = Mode::Lexical;
        }

        let txn = self.store().read_txn()?;
        let mut records: HashMap<ChunkId, ChunkRecord> = HashMap::new();
        let mut paths: HashMap<FileId, String> = HashMap::new();
        for (id, _) in lexical.iter().chain(&semantic) {
            if records.contains_key(id) {
                continue;
            }
            let Some(rec) = self.store().chunk(&txn, *id)? else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(slot) = paths.entry(rec.file) {
                match self.store().file(&txn, rec.file)? {
                    Some(f) => {
                        slot.insert(f.path);
                    }
                    None => continue,
                }
            }
            let path = &paths[&rec.file];
            if globs.as_ref().is_some_and(|g| !g.is_match(path))
                || (!req.languages.is_empty() && !req.languages.contains(&rec.language))
                || (!req.kinds.is_empty() && !req.kinds.contains(&rec.kind))
            {
                continue;
            }
            records.insert(*id, rec);
        }
        // Closed before the tables below are loaded: they open read transactions of their own, and LMDB
        // allows one per thread.
        drop(txn);
        let uses = self.ref_table()?;
        let info: HashMap<ChunkId, CandidateInfo<'_>> = records
            .iter()
            .map(|(id, r)| {
                (
                    *id,
                    CandidateInfo {
                        id: *id,
                        path: &paths[&r.file],
                        symbol: r.symbol.as_deref(),
                        kind: r.kind,
                        language: r.language,
                        start_line: r.start_line,
                        end_line: r.end_line,
                        used_by: r.symbol.as_deref().map_or(0, |n| uses.file_count(n) as u32),
                        text: &r.text,
                    },
                )
            })
            .collect();
        let mut context = std::borrow::Cow::Borrowed(&req.context);
        if let Some(cur) = &req.context.current_file
            && req.context.related_files.is_empty()
        {
            let related = self.related_files(cur, RELATED_FILES)?;
            if !related.is_empty() {
                context.to_mut().related_files = related;
            }
        }
        // Several units can answer as one definition (pieces of a split function, a class's header and
        // glue): rank a few more than asked, and keep each definition once.
        let ranked = search::rank(
            &req.query,
            mode,
            &lexical,
            &semantic,
            &info,
            &context,
            rank_cfg,
            req.limit.saturating_mul(2),
        );
        let txn = self.store().read_txn()?;
        let mut file_defs: HashMap<FileId, Vec<crate::store::SymbolRecord>> = HashMap::new();
        let mut hits: Vec<SearchHit> = Vec::with_capacity(ranked.len());
        for r in ranked {
            let rec = &records[&r.id];
            let defs = match file_defs.entry(rec.file) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(self.store().symbols_of(&txn, rec.file)?)
                }
            };
            let answer = answer::resolve(
                &answer::Unit {
                    start_line: rec.start_line,
                    end_line: rec.end_line,
                    symbol: rec.symbol.as_deref(),
                    kind: rec.kind,
                    enclosing: &rec.enclosing,
                },
                defs.iter().map(|d| answer::Def {
                    name: &d.name,
                    kind: d.kind,
                    start_line: d.start_line,
                    end_line: d.end_line,
                }),
            );
            hits.push(SearchHit {
                chunk: r.id,
                path: paths[&rec.file].clone(),
                start_line: answer.start_line,
                end_line: answer.end_line,
                match_lines: answer.match_lines,
                byte_range: (rec.start_byte, rec.end_byte),
                symbol: answer.symbol,
                enclosing: rec.enclosing.clone(),
                kind: answer.kind,
                language: rec.language,
                score: r.score,
                snippet: snippet(&rec.text, &req.query, 3),
                signals: r.signals,
            });
        }
        drop(txn);
        let hits = each_definition_once(hits, req.limit);
        Ok(SearchResponse {
            hits,
            mode,
            elapsed: t.elapsed(),
            status: self.status()?,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_prefers_matching_lines() {
        let text = "/// Doc.\nfn retry_request(n: u32) {\n    let backoff = 2;\n    sleep(backoff);\n    send()\n}\n";
        assert_eq!(
            snippet(text, "backoff sleep", 2),
            "    sleep(backoff);\n    send()"
        );
        assert_eq!(
            snippet(text, "zzz", 2),
            "/// Doc.\nfn retry_request(n: u32) {"
        );
        assert_eq!(snippet("", "x", 3), "");
    }

    #[test]
    fn identifiers_named_by_queries() {
        assert_eq!(named_identifier("parse_config"), Some("parse_config"));
        assert_eq!(named_identifier("Sinatra::Helpers"), Some("Helpers"));
        assert_eq!(named_identifier("fmt.Println()"), Some("Println"));
        assert_eq!(named_identifier("retry http requests"), None);
        assert_eq!(named_identifier("42"), None);
    }

    #[test]
    fn blending_lets_the_fast_tier_see_past_the_main_models_cut() {
        use crate::embed::{Embedder, FakeEmbedder};
        let (main, fast) = (FakeEmbedder::new(512), FakeEmbedder::new(384));
        // (chunk, what the main model reads: the first word pieces, what the fast tier reads: all of it)
        let chunks = [
            (
                ChunkId(1),
                "retry backoff socket open connect",
                "retry backoff socket open connect",
            ),
            (
                ChunkId(2),
                "retry backoff header parse fields tokens",
                "retry backoff header parse fields tokens with timeout",
            ),
            (
                ChunkId(3),
                "render html template page",
                "render html template page",
            ),
        ];
        let (mut mv, mut fv) = (VectorSet::new(512), VectorSet::new(384));
        for (id, cut, full) in chunks {
            mv.insert(id, &main.embed_query(cut).unwrap());
            fv.insert(id, &fast.embed_query(full).unwrap());
        }
        let top = |fv: &VectorSet, w: f32| {
            let (hits, note) = blend_tiers(
                "retry with backoff timeout",
                10,
                (&main as &dyn Embedder, &mv),
                (&fast as &dyn Embedder, fv),
                w,
            );
            assert_eq!(note, None);
            hits.iter().map(|h| h.0.0).collect::<Vec<_>>()
        };
        // The main model alone prefers the chunk whose opening matches best; the fast tier, which also
        // reads the end of chunk 2, turns the order.
        assert_eq!(top(&fv, 0.0)[..2], [1, 2]);
        assert_eq!(top(&fv, 0.7)[..2], [2, 1]);
        // A chunk only the fast tier knows is left out: the main model has the last word on membership.
        fv.insert(
            ChunkId(4),
            &fast.embed_query("retry with backoff timeout").unwrap(),
        );
        assert!(!top(&fv, 0.7).contains(&4));
        // No fast vectors yet: the main model's order.
        assert_eq!(top(&VectorSet::new(384), 0.7)[..2], [1, 2]);
    }

    #[test]
    fn bad_globs_are_errors() {
        assert!(build_globs(&["src/[".into()]).is_err());
        let g = build_globs(&["*.rs".into()]).unwrap().unwrap();
        assert!(g.is_match("src/deep/a.rs"));
        assert!(!g.is_match("src/a.py"));
    }
}
