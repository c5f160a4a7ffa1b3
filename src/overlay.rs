//! Unsaved editor buffers searched over a workspace's index. A language server that cannot write the
//! shared index (another process holds the writer), or has not yet written its buffers into it, still
//! finds its own edits at once: its buffers are chunked as files are, matched lexically with the
//! index's term statistics (so scores compare), and ranked together with the index's results. For a
//! buffered file the index's results count only where a chunk's text is unchanged in the buffer; they
//! are moved to the buffer's lines and keep their semantic score.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;

use crate::chunk::{self, Chunk};
use crate::embed::embedding_text;
use crate::ids::{ChunkId, ContentHash};
use crate::index::Workspace;
use crate::lexical::{LexDoc, LexQuery, LexicalIndex};
use crate::query::{SearchHit, SearchRequest, SearchResponse, snippet};
use crate::search::{CandidateInfo, RankConfig, Signals, rank};
use crate::syntax::Language;

/// Lexical candidates taken from the buffers.
const CANDIDATES: usize = 100;
/// Most files the import graph adds to a query's editor context (as the index's own search does).
const RELATED_FILES: usize = 64;

/// One buffered file, chunked.
struct BufferedFile {
    path: String,
    language: Language,
    chunks: Vec<Chunk>,
    symbols: Vec<chunk::Symbol>,
}

/// The buffers as last chunked and indexed in memory.
struct Snapshot {
    lexical: LexicalIndex,
    files: Vec<BufferedFile>,
    /// Overlay chunk id → (file, chunk) indexes.
    ids: HashMap<ChunkId, (usize, usize)>,
    /// (path, embedding-text hash) → overlay chunk id: where an indexed chunk's text still is.
    by_hash: HashMap<(String, ContentHash), ChunkId>,
}

/// Overlay chunk ids count down from the top of the id space, far above the store's.
fn overlay_id(n: usize) -> ChunkId {
    ChunkId(u32::MAX - n as u32)
}

#[derive(Default)]
struct Inner {
    buffers: BTreeMap<String, Arc<str>>,
    /// The index holds every buffer (this process writes it and has handed them over).
    handed_over: bool,
    generation: u64,
    snapshot: Option<(u64, Arc<Snapshot>)>,
}

/// The open buffers of one workspace folder.
#[derive(Default)]
pub struct Overlay {
    inner: Mutex<Inner>,
}

impl Overlay {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the text of the buffer of `rel` (a workspace-relative path).
    pub fn set(&self, rel: &str, text: &str) {
        let mut g = self.lock();
        g.buffers.insert(rel.to_owned(), Arc::from(text));
        g.generation += 1;
    }

    /// Forgets the buffer of `rel` (closed, or no longer indexable).
    pub fn remove(&self, rel: &str) {
        let mut g = self.lock();
        if g.buffers.remove(rel).is_some() {
            g.generation += 1;
        }
    }

    /// Whether `rel` has a buffer.
    pub fn contains(&self, rel: &str) -> bool {
        self.lock().buffers.contains_key(rel)
    }

    /// Every buffer, by path.
    pub fn buffers(&self) -> Vec<(String, Arc<str>)> {
        self.lock()
            .buffers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Says whether the index holds every buffer. While it does not (a read-only server, or a writer
    /// that has not written them yet), searches go through the overlay.
    pub fn set_handed_over(&self, yes: bool) {
        self.lock().handed_over = yes;
    }

    /// Whether searches go through the overlay.
    pub fn is_active(&self) -> bool {
        let g = self.lock();
        !g.handed_over && !g.buffers.is_empty()
    }

    /// The chunked buffers, rebuilt when they changed since the last search.
    fn snapshot(&self, ws: &Workspace) -> Result<Option<Arc<Snapshot>>> {
        let (generation, buffers) = {
            let g = self.lock();
            if g.handed_over || g.buffers.is_empty() {
                return Ok(None);
            }
            if let Some((gen_, snap)) = &g.snapshot
                && *gen_ == g.generation
            {
                return Ok(Some(snap.clone()));
            }
            (g.generation, g.buffers.clone())
        };
        let snap = Arc::new(build(ws, &buffers)?);
        let mut g = self.lock();
        if g.generation == generation {
            g.snapshot = Some((generation, snap.clone()));
        }
        Ok(Some(snap))
    }

    /// Searches the index with the buffers laid over it (the index alone when the overlay is not
    /// active).
    pub fn search(
        &self,
        ws: &Workspace,
        req: &SearchRequest,
        rank_cfg: &RankConfig,
    ) -> Result<SearchResponse> {
        let Some(snap) = self.snapshot(ws)? else {
            return ws.search(req, rank_cfg);
        };
        let t = Instant::now();
        // The index's answer, with room for the results the buffers replace.
        let mut wide = req.clone();
        wide.limit = (req.limit * 2 + 20).max(CANDIDATES);
        let main = ws.search(&wide, rank_cfg)?;
        let globs = crate::query::build_globs(&req.paths)?;
        let allowed = |path: &str, language: Language, c: &Chunk| {
            globs.as_ref().is_none_or(|g| g.is_match(path))
                && (req.languages.is_empty() || req.languages.contains(&language))
                && (req.kinds.is_empty() || req.kinds.contains(&c.kind))
        };

        let mut lexical: Vec<(ChunkId, f32)> = Vec::new();
        let mut semantic: Vec<(ChunkId, f32)> = Vec::new();
        // Hits of the index that stand, by id (overlay ids for moved ones), with their record.
        let mut kept: HashMap<ChunkId, (SearchHit, crate::store::ChunkRecord)> = HashMap::new();
        let buffered: std::collections::HashSet<&str> =
            snap.files.iter().map(|f| f.path.as_str()).collect();
        let txn = ws.store().read_txn()?;
        for hit in main.hits {
            let Some(rec) = ws.store().chunk(&txn, hit.chunk)? else {
                continue;
            };
            let id = if buffered.contains(hit.path.as_str()) {
                // The buffer replaces the file: the hit stands only where its text is unchanged.
                match snap.by_hash.get(&(hit.path.clone(), rec.hash)) {
                    Some(id) => *id,
                    None => continue,
                }
            } else {
                hit.chunk
            };
            if let Some(l) = hit.signals.lexical {
                lexical.push((id, l));
            }
            if let Some(s) = hit.signals.semantic {
                semantic.push((id, s));
            }
            kept.insert(id, (hit, rec));
        }
        drop(txn);
        let searcher = ws.lexical().searcher();
        let q = LexQuery {
            text: &req.query,
            limit: CANDIDATES,
        };
        if req.mode != crate::search::Mode::Semantic {
            for h in snap.lexical.searcher().search_beside(&q, &searcher)? {
                let id = ChunkId(h.chunk_id);
                match lexical.iter_mut().find(|(i, _)| *i == id) {
                    Some(hit) => hit.1 = hit.1.max(h.score),
                    None => lexical.push((id, h.score)),
                }
            }
        }
        let uses = ws.ref_table()?;
        let mut info: HashMap<ChunkId, CandidateInfo<'_>> = HashMap::new();
        for (id, (hit, rec)) in &kept {
            if snap.ids.contains_key(id) {
                continue;
            }
            info.insert(
                *id,
                CandidateInfo {
                    id: *id,
                    path: &hit.path,
                    symbol: rec.symbol.as_deref(),
                    kind: rec.kind,
                    language: rec.language,
                    start_line: rec.start_line,
                    end_line: rec.end_line,
                    used_by: rec
                        .symbol
                        .as_deref()
                        .map_or(0, |n| uses.file_count(n) as u32),
                    text: &rec.text,
                },
            );
        }
        for (id, &(fi, ci)) in &snap.ids {
            let f = &snap.files[fi];
            let c = &f.chunks[ci];
            if !allowed(&f.path, f.language, c) {
                continue;
            }
            info.insert(
                *id,
                CandidateInfo {
                    id: *id,
                    path: &f.path,
                    symbol: c.symbol.as_deref(),
                    kind: c.kind,
                    language: f.language,
                    start_line: c.start_line,
                    end_line: c.end_line,
                    used_by: c.symbol.as_deref().map_or(0, |n| uses.file_count(n) as u32),
                    text: &c.text,
                },
            );
        }
        let mut context = std::borrow::Cow::Borrowed(&req.context);
        if let Some(cur) = &req.context.current_file
            && req.context.related_files.is_empty()
        {
            let related = ws.related_files(cur, RELATED_FILES)?;
            if !related.is_empty() {
                context.to_mut().related_files = related;
            }
        }
        // As in the index's search: a few more than asked, each definition once.
        let ranked = rank(
            &req.query,
            main.mode,
            &lexical,
            &semantic,
            &info,
            &context,
            rank_cfg,
            req.limit.saturating_mul(2),
        );
        let mut hits: Vec<SearchHit> = ranked
            .into_iter()
            .filter_map(|r| {
                let moved = snap.ids.get(&r.id).map(|&(fi, ci)| {
                    let f = &snap.files[fi];
                    (f, &f.chunks[ci])
                });
                match (kept.remove(&r.id), moved) {
                    // An indexed chunk whose text the buffer still holds, maybe at other lines.
                    (Some((mut hit, rec)), Some((_, c))) => {
                        let shift = i64::from(c.start_line) - i64::from(rec.start_line);
                        hit.start_line = (i64::from(hit.start_line) + shift) as u32;
                        hit.end_line = (i64::from(hit.end_line) + shift) as u32;
                        hit.match_lines = (c.start_line, c.end_line);
                        hit.byte_range = (c.start_byte, c.end_byte);
                        hit.chunk = r.id;
                        hit.score = r.score;
                        hit.signals = r.signals;
                        Some(hit)
                    }
                    (Some((mut hit, _)), None) => {
                        hit.score = r.score;
                        hit.signals = r.signals;
                        Some(hit)
                    }
                    (None, Some((f, c))) => {
                        Some(buffer_hit(r.id, f, c, &req.query, r.score, r.signals))
                    }
                    (None, None) => None,
                }
            })
            .collect();
        hits = crate::query::each_definition_once(hits, req.limit);
        Ok(SearchResponse {
            hits,
            mode: main.mode,
            elapsed: main.elapsed + t.elapsed(),
            status: main.status,
            note: main.note,
        })
    }
}

fn buffer_hit(
    id: ChunkId,
    f: &BufferedFile,
    c: &Chunk,
    query: &str,
    score: f32,
    signals: Signals,
) -> SearchHit {
    // As the index reports them: the definition that holds the unit (see `crate::answer`).
    let answer = crate::answer::resolve(
        &crate::answer::Unit {
            start_line: c.start_line,
            end_line: c.end_line,
            symbol: c.symbol.as_deref(),
            kind: c.kind,
            enclosing: &c.enclosing,
        },
        f.symbols.iter().map(|s| crate::answer::Def {
            name: &s.name,
            kind: s.kind,
            start_line: s.start_line,
            end_line: s.end_line,
        }),
    );
    SearchHit {
        chunk: id,
        path: f.path.clone(),
        start_line: answer.start_line,
        end_line: answer.end_line,
        match_lines: answer.match_lines,
        byte_range: (c.start_byte, c.end_byte),
        symbol: answer.symbol,
        enclosing: c.enclosing.clone(),
        kind: answer.kind,
        language: f.language,
        score,
        snippet: snippet(&c.text, query, 3),
        signals,
    }
}

/// Chunks the buffers as the index chunks files, and indexes them in memory.
fn build(ws: &Workspace, buffers: &BTreeMap<String, Arc<str>>) -> Result<Snapshot> {
    let chunk_cfg = ws.config().chunk;
    let lexical = LexicalIndex::in_memory()?;
    let mut writer = lexical.writer(0)?;
    let mut files = Vec::new();
    let mut ids = HashMap::new();
    let mut by_hash = HashMap::new();
    for (path, text) in buffers {
        let language = crate::vfs::detect_language(path, text);
        let analysis = chunk::analyze(language, text, &chunk_cfg);
        let chunks = analysis.chunks;
        let fi = files.len();
        for (ci, c) in chunks.iter().enumerate() {
            let id = overlay_id(ids.len());
            ids.insert(id, (fi, ci));
            let hash = ContentHash::of(embedding_text(&c.enclosing, &c.text).as_bytes());
            by_hash.insert((path.clone(), hash), id);
            writer.add(&LexDoc {
                chunk_id: id.0,
                file_id: fi as u32,
                path,
                symbol: c.symbol.as_deref().filter(|n| !n.is_empty()),
                enclosing: &c.enclosing,
                kind: c.kind.name(),
                language: language.name(),
                text: &c.text,
            })?;
        }
        files.push(BufferedFile {
            path: path.clone(),
            language,
            chunks,
            symbols: analysis.symbols,
        });
    }
    writer.commit()?;
    lexical.reload()?;
    Ok(Snapshot {
        lexical,
        files,
        ids,
        by_hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IndexConfig;
    use crate::embed::FakeEmbedder;
    use crate::index::{NoProgress, OpenOptions};
    use crate::search::Mode;
    use std::path::Path;

    /// A function too large to share a chunk with another.
    fn big_function() -> String {
        let mut s = String::from(
            "def render_big_report(rows):\n    \"\"\"Render the yearly report.\"\"\"\n",
        );
        for i in 0..60 {
            s.push_str(&format!("    line_{i} = rows.get({i}, 0) * {i}\n"));
        }
        s.push_str("    return rows\n");
        s
    }

    fn workspace(dir: &Path, embed: bool) -> Workspace {
        let root = dir.join("ws");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("calc.py"),
            "def keep_me_total(xs):\n    return sum(xs)\n\n\ndef old_name_here(x):\n    return x\n",
        )
        .unwrap();
        std::fs::write(
            root.join("other.py"),
            "def untouched_helper():\n    return 1\n",
        )
        .unwrap();
        std::fs::write(root.join("big.py"), big_function()).unwrap();
        let ws = Workspace::open(
            &root,
            OpenOptions {
                index_dir: Some(dir.join("idx")),
                cache_dir: Some(dir.join("cache")),
                config: IndexConfig {
                    embed,
                    ..Default::default()
                },
                embedder: embed
                    .then(|| Arc::new(FakeEmbedder::new(64)) as Arc<dyn crate::embed::Embedder>),
                fast_embedder: None,
            },
        )
        .unwrap();
        ws.scan(&NoProgress).unwrap();
        if embed {
            ws.embed_pending(&NoProgress).unwrap();
        }
        ws
    }

    fn lexical(q: &str) -> SearchRequest {
        let mut r = SearchRequest::new(q, 10);
        r.mode = Mode::Lexical;
        r
    }

    fn brief(r: &SearchResponse) -> Vec<(String, u32, u32, Option<String>)> {
        r.hits
            .iter()
            .map(|h| (h.path.clone(), h.start_line, h.end_line, h.symbol.clone()))
            .collect()
    }

    #[test]
    fn buffers_are_searched_over_the_index_until_handed_over() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path(), false);
        let rank = RankConfig::default();
        let ov = Overlay::default();
        assert!(!ov.is_active());
        ov.set(
            "calc.py",
            "import os\n\n\ndef keep_me_total(xs):\n    return sum(xs)\n\n\ndef brand_new_zebra(y):\n    return y * 2\n",
        );
        assert!(ov.is_active());
        let r = ov.search(&ws, &lexical("brand_new_zebra"), &rank).unwrap();
        assert_eq!(
            brief(&r)[0],
            ("calc.py".into(), 8, 9, Some("brand_new_zebra".into())),
            "{r:?}"
        );
        // Text only on disk is gone from the buffered file; other files still answer.
        let r = ov.search(&ws, &lexical("old_name_here"), &rank).unwrap();
        assert!(
            r.hits.iter().all(|h| h.path != "calc.py"),
            "{:?}",
            brief(&r)
        );
        let r = ov.search(&ws, &lexical("untouched_helper"), &rank).unwrap();
        assert_eq!(brief(&r)[0].0, "other.py");
        // Filters apply to buffers too.
        let mut req = lexical("brand_new_zebra");
        req.paths = vec!["other.py".into()];
        let r = ov.search(&ws, &req, &rank).unwrap();
        assert!(
            r.hits.iter().all(|h| h.path == "other.py"),
            "{:?}",
            brief(&r)
        );
        // Once the index holds the buffers, it answers alone (here it still has the disk's text).
        ov.set_handed_over(true);
        assert!(!ov.is_active());
        let r = ov.search(&ws, &lexical("brand_new_zebra"), &rank).unwrap();
        assert!(r.hits.is_empty(), "{:?}", brief(&r));
        ov.set_handed_over(false);
        ov.remove("calc.py");
        assert!(!ov.is_active());
    }

    #[test]
    fn unchanged_indexed_chunks_move_with_the_buffer_and_keep_their_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path(), true);
        let rank = RankConfig::default();
        let direct = ws
            .search(&SearchRequest::new("render big report", 5), &rank)
            .unwrap();
        let before = direct
            .hits
            .iter()
            .find(|h| h.path == "big.py")
            .expect("indexed");
        assert!(before.signals.semantic.is_some());
        let ov = Overlay::default();
        // Another large function above, which keeps the old one's chunks as they were.
        let prelude = big_function().replace("render_big_report", "prelude_function");
        let shift = prelude.lines().count() as u32 + 2;
        let text = format!("{prelude}\n\n{}", big_function());
        ov.set("big.py", &text);
        let r = ov
            .search(&ws, &SearchRequest::new("render big report", 5), &rank)
            .unwrap();
        let hit = r
            .hits
            .iter()
            .find(|h| h.path == "big.py" && h.symbol.as_deref() == Some("render_big_report"))
            .expect("found");
        assert_eq!(
            (hit.start_line, hit.end_line),
            (before.start_line + shift, before.end_line + shift)
        );
        assert!(
            hit.signals.semantic.is_some(),
            "the index's vector of the unchanged chunk still counts: {hit:?}"
        );
        assert!(
            hit.chunk.0 > u32::MAX / 2,
            "the hit points at the buffer's chunk"
        );
    }
}
