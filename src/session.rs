//! The workspace folders a server serves together (the language server's workspace folders, the MCP
//! server's roots): which folder holds a path, and one search over all of them. A search runs in each
//! folder along the query's route ([`crate::agent::route`]) with that folder's part of the caller's
//! context, and the results are merged by score. Front ends translate their protocol to these calls.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use anyhow::Result;

use crate::confine::Refusal;
use crate::intent::{Intent, Route};
use crate::live::Folder;
use crate::query::{SearchHit, SearchRequest};
use crate::search::{Mode, RankConfig, SearchContext};

/// A file of one of the session's folders: the folder and the file's path relative to its root.
pub type Located = (Arc<Folder>, String);

/// The folders served together.
#[derive(Default)]
pub struct Session {
    folders: RwLock<Vec<Arc<Folder>>>,
}

/// What a search asks of every folder, and the caller's context.
#[derive(Clone)]
pub struct SessionQuery {
    /// The request; its `context` is filled in per folder from the fields below.
    pub request: SearchRequest,
    /// The route to take (`None`: guessed from the query).
    pub intent: Option<Intent>,
    /// The file being edited, if a folder holds it.
    pub current: Option<Located>,
    /// The cursor's line in it (1-based): the innermost definition holding it is left out.
    pub line: Option<u32>,
    /// Other open files.
    pub open: Vec<Located>,
    /// Files already read (demoted).
    pub read: Vec<Located>,
}

/// How complete the folders' indexes are, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionState {
    /// Files indexed.
    pub files: u64,
    /// Units indexed.
    pub chunks: u64,
    /// Units with a vector of the main model.
    pub embedded: u64,
    /// Files waiting to be (re)indexed.
    pub pending_files: u64,
    /// Units without a vector of the main model yet (0 without a main model).
    pub pending_embeddings: u64,
    /// Of those, units the fast tier already makes searchable by meaning.
    pub fast_embedded: u64,
}

/// The merged answer of a search over every folder.
pub struct SessionAnswer {
    /// Results, best first, each with the root of its folder.
    pub hits: Vec<(PathBuf, SearchHit)>,
    /// The indexes' state.
    pub state: SessionState,
    /// Why results may be partial (the first folder's note).
    pub note: Option<String>,
    /// The route taken (as guessed in the first folder).
    pub route: Option<Route>,
    /// The retrieval mode actually used (the first folder's: hybrid falls back to lexical without
    /// vectors).
    pub mode: Option<Mode>,
}

impl Session {
    /// An empty session.
    pub fn new() -> Self {
        Session::default()
    }

    /// The folders, in the order they were added.
    pub fn folders(&self) -> Vec<Arc<Folder>> {
        self.folders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether a folder with this root is served.
    pub fn contains(&self, root: &Path) -> bool {
        self.folders
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|f| f.root == root)
    }

    /// Adds a folder; `false` (and nothing added) when its root is served already.
    pub fn add(&self, folder: Arc<Folder>) -> bool {
        let mut folders = self.folders.write().unwrap_or_else(|e| e.into_inner());
        if folders.iter().any(|f| f.root == folder.root) {
            return false;
        }
        folders.push(folder);
        true
    }

    /// Removes the folder with this root (all of them when `None`); returns what was removed, for the
    /// caller to stop.
    pub fn remove(&self, root: Option<&Path>) -> Vec<Arc<Folder>> {
        let mut folders = self.folders.write().unwrap_or_else(|e| e.into_inner());
        let (gone, keep): (Vec<_>, Vec<_>) = folders
            .drain(..)
            .partition(|f| root.is_none_or(|r| f.root == r));
        *folders = keep;
        gone
    }

    /// The folder holding `path` (the innermost, when folders nest) and the path relative to its root,
    /// normalised without following links and confined to the folder ([`crate::confine`]); else why
    /// not (`Outside` when no folder holds it).
    pub fn locate(&self, path: &Path) -> Result<Located, Refusal> {
        let mut why = Refusal::Outside;
        self.folders()
            .iter()
            .filter_map(|f| match f.rel(path) {
                Ok(r) => Some((f.clone(), r)),
                Err(e) => {
                    if e != Refusal::Outside {
                        why = e;
                    }
                    None
                }
            })
            .max_by_key(|(f, _)| f.root.as_os_str().len())
            .ok_or(why)
    }

    /// Searches every folder (each with its part of the context) and merges the results by score, at most
    /// `request.limit`.
    pub fn search(&self, q: &SessionQuery, rank: &RankConfig) -> Result<SessionAnswer> {
        let mut hits: Vec<(PathBuf, SearchHit)> = Vec::new();
        let mut state = SessionState::default();
        let mut note = None;
        let mut route = None;
        let mut mode = None;
        let in_folder = |list: &[Located], f: &Arc<Folder>| -> Vec<String> {
            list.iter()
                .filter(|(of, _)| Arc::ptr_eq(of, f))
                .map(|(_, r)| r.clone())
                .collect()
        };
        for f in &self.folders() {
            let mut req = q.request.clone();
            let current = q
                .current
                .as_ref()
                .filter(|(cf, _)| Arc::ptr_eq(cf, f))
                .map(|(_, r)| r.clone());
            let mut ctx = SearchContext {
                open_files: in_folder(&q.open, f),
                read_files: in_folder(&q.read, f),
                ..SearchContext::default()
            };
            if let (Some(rel), Some(line)) = (&current, q.line) {
                let table = f.ws.symbol_table()?;
                if let Some(e) = table.enclosing(rel, line) {
                    ctx.exclude = Some((rel.clone(), e.start_line, e.end_line));
                }
            }
            ctx.current_file = current;
            req.context = ctx;
            let routed = crate::agent::route::search(&f.ws, &req, q.intent, |r| f.search(r, rank))?;
            route = route.or(Some(routed.route));
            let r = routed.response;
            mode = mode.or(Some(r.mode));
            state.files += r.status.files;
            state.chunks += r.status.chunks;
            state.embedded += r.status.embedded;
            if f.ws.embedder().is_some() {
                state.pending_embeddings += r.status.chunks.saturating_sub(r.status.embedded);
                state.fast_embedded += r.status.embedded_fast;
            }
            state.pending_files += f.pending_files();
            note = note.or(r.note);
            hits.extend(r.hits.into_iter().map(|h| (f.root.clone(), h)));
        }
        hits.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        hits.truncate(q.request.limit);
        Ok(SessionAnswer {
            hits,
            state,
            note,
            route,
            mode,
        })
    }
}
