//! The language server: the only module that knows the Language Server Protocol. Handlers are thin:
//! they convert parameters, call the library (on blocking threads), and convert results back.
//! Document edits are applied to their rope before any `.await`, so messages are never reordered.

pub mod convert;
pub mod ext;
pub mod framing;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use dashmap::DashMap;
use ropey::Rope;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server as Transport};

use crate::chunk::ChunkKind;
use crate::embed::Embedder;
use crate::index::{OpenOptions, Phase, Progress as IndexProgress, Workspace};
use crate::query::SearchRequest;
use crate::search::{QueryKind, RankConfig, SearchContext, classify_query};

use self::convert::{apply_change, line_range, path_to_uri, symbol_kind, uri_to_path};
use self::ext::{IndexState, SearchParams, SearchResult, SearchResultItem, Settings};
use crate::live::{Folder, Msg};
use crate::session::{Session, SessionQuery};

/// Options of `sg lsp`.
#[derive(clap::Args, Debug)]
pub struct LspArgs {
    /// Also write logs to this file.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Accepted for clients that pass it; stdio is the only transport.
    #[arg(long, hide = true)]
    pub stdio: bool,
}

/// Commands of `workspace/executeCommand`.
pub const COMMANDS: [&str; 3] = ["sg.search", "sg.reindex", "sg.status"];

struct State {
    folders: Session,
    buffers: DashMap<Uri, Rope>,
    settings: RwLock<Settings>,
    embedder: OnceLock<Option<Arc<dyn Embedder>>>,
    fast: OnceLock<Option<Arc<dyn Embedder>>>,
    last_active: RwLock<Option<Uri>>,
    progress_supported: AtomicBool,
    initial_folders: RwLock<Vec<PathBuf>>,
    rank: RankConfig,
}

/// The sg language server.
pub struct Server {
    client: Client,
    state: Arc<State>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid_params(msg.into())
}

fn internal(err: impl std::fmt::Display) -> Error {
    let mut e = Error::internal_error();
    e.message = err.to_string().into();
    e
}

/// Runs blocking work on the blocking pool; a panic becomes an error response.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(err)) => Err(internal(format!("{err:#}"))),
        Err(join) if join.is_panic() => {
            tracing::error!(target: "sg::lsp", "a request panicked: {join}");
            Err(internal(
                "internal error: the request panicked (see the server log)",
            ))
        }
        Err(join) => Err(internal(join)),
    }
}

/// A `$/progress` sequence in flight.
type Ongoing =
    tower_lsp_server::OngoingProgress<tower_lsp_server::Bounded, tower_lsp_server::NotCancellable>;

/// Reports indexing progress as `$/progress` notifications.
struct LspProgress {
    client: Client,
    handle: tokio::runtime::Handle,
    enabled: bool,
    name: String,
    current: std::sync::Mutex<Option<(Ongoing, u64, Instant, &'static str)>>,
}

impl IndexProgress for LspProgress {
    fn begin(&self, phase: Phase, total: u64) {
        if !self.enabled || total == 0 {
            return;
        }
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let token = NumberOrString::String(format!("sg/{}/{n}", phase.name().replace(' ', "-")));
        let client = self.client.clone();
        let title = format!("sg: {} ({})", phase.name(), self.name);
        let ongoing = self.handle.block_on(async move {
            if client
                .create_work_done_progress(token.clone())
                .await
                .is_err()
            {
                return None;
            }
            Some(
                client
                    .progress(token, title)
                    .with_percentage(0)
                    .with_message(format!("0/{total}"))
                    .begin()
                    .await,
            )
        });
        let unit = match phase {
            Phase::Scan => "files",
            Phase::Embed => "chunks",
        };
        if let Some(o) = ongoing {
            *self.current.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((o, total, Instant::now(), unit));
        }
    }

    fn report(&self, done: u64) {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((o, total, last, unit)) = cur.as_mut() {
            if last.elapsed().as_millis() < 200 && done < *total {
                return;
            }
            *last = Instant::now();
            let pct = (done * 100 / (*total).max(1)).min(100) as u32;
            let msg = format!("{unit} {done}/{total}");
            self.handle.block_on(o.report_with_message(msg, pct));
        }
    }

    fn end(&self) {
        if let Some((o, _, _, _)) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            self.handle.block_on(o.finish());
        }
    }
}

impl Server {
    fn new(client: Client) -> Self {
        Server {
            client,
            state: Arc::new(State {
                folders: Session::new(),
                buffers: DashMap::new(),
                settings: RwLock::new(Settings::default()),
                embedder: OnceLock::new(),
                fast: OnceLock::new(),
                last_active: RwLock::new(None),
                progress_supported: AtomicBool::new(false),
                initial_folders: RwLock::new(Vec::new()),
                rank: RankConfig::default(),
            }),
        }
    }

    fn settings(&self) -> Settings {
        self.state
            .settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn folders(&self) -> Vec<Arc<Folder>> {
        self.state.folders.folders()
    }

    /// The folder holding a document, and the document's relative path. The path is normalised
    /// without following links and must stay inside the folder (see [`crate::confine`]); anything
    /// else is ignored with a log line.
    fn locate(&self, uri: &Uri) -> Option<(Arc<Folder>, String)> {
        let Some(path) = uri_to_path(uri) else {
            tracing::warn!(target: "sg::lsp", "ignoring {}: not a file URI", uri.as_str());
            return None;
        };
        match self.state.folders.locate(&path) {
            Ok(found) => Some(found),
            Err(why) => {
                if self.folders().is_empty() {
                    tracing::debug!(target: "sg::lsp", "ignoring {}: no folder is open yet", uri.as_str());
                } else {
                    tracing::warn!(target: "sg::lsp", "ignoring {}: {why}", uri.as_str());
                }
                None
            }
        }
    }

    fn index_config(s: &Settings) -> crate::config::IndexConfig {
        crate::config::IndexConfig {
            max_file_size: s.max_file_size,
            exclude: s.exclude.clone(),
            embed: s.embed,
            ..Default::default()
        }
    }

    /// Opens folders (on a blocking thread: loading the model and opening indexes takes a moment).
    async fn open_folders(&self, roots: Vec<PathBuf>) {
        let state = self.state.clone();
        let client = self.client.clone();
        let handle = tokio::runtime::Handle::current();
        let result = blocking(move || {
            let settings = state.settings.read().unwrap_or_else(|e| e.into_inner()).clone();
            let embedder = state
                .embedder
                .get_or_init(|| {
                    if !settings.embed {
                        return None;
                    }
                    match crate::setup::load_embedder(settings.model_path.as_deref(), Some(1), None) {
                        Ok(e) => e,
                        Err(err) => {
                            tracing::error!(target: "sg::lsp", "{err:#}; lexical search only");
                            None
                        }
                    }
                })
                .clone();
            let fast = state
                .fast
                .get_or_init(|| {
                    if !settings.embed {
                        return None;
                    }
                    crate::setup::load_fast_embedder(None).unwrap_or_else(|err| {
                        tracing::error!(target: "sg::lsp", "{err:#}; no fast tier");
                        None
                    })
                })
                .clone();
            let mut opened = Vec::new();
            for root in roots {
                if state.folders.contains(&root) {
                    continue;
                }
                let opts = OpenOptions {
                    index_dir: settings.index_dir.as_ref().map(|base| {
                        let canon = root.canonicalize().unwrap_or_else(|_| root.clone());
                        crate::index::index_dir_for(base, &canon)
                    }),
                    cache_dir: settings.index_dir.as_ref().map(|b| b.join("embeddings")),
                    config: Self::index_config(&settings),
                    embedder: embedder.clone(),
                    fast_embedder: fast.clone(),
                };
                match Workspace::open(&root, opts) {
                    Ok(ws) => {
                        let progress = Box::new(LspProgress {
                            client: client.clone(),
                            handle: handle.clone(),
                            enabled: state.progress_supported.load(Ordering::SeqCst),
                            name: root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                            current: std::sync::Mutex::new(None),
                        });
                        let folder = Folder::start(Arc::new(ws), &root, progress);
                        if !state.folders.add(folder.clone()) {
                            // Opened twice at once: the other one serves it.
                            folder.stop();
                            continue;
                        }
                        // Buffers opened before the folder was ready.
                        for entry in state.buffers.iter() {
                            let Some(path) = uri_to_path(entry.key()) else { continue };
                            if let Ok(rel) = folder.rel(&path) {
                                folder.set_buffer(rel, entry.value().to_string());
                            }
                        }
                        opened.push(root);
                    }
                    Err(err) => tracing::error!(target: "sg::lsp", "cannot index {}: {err:#}", root.display()),
                }
            }
            Ok(opened)
        })
        .await;
        match result {
            Ok(opened) => {
                for r in opened {
                    tracing::info!(target: "sg::lsp", "serving {}", r.display());
                }
            }
            Err(err) => {
                self.client
                    .show_message(MessageType::ERROR, format!("sg: {}", err.message))
                    .await
            }
        }
    }

    fn close_folder(&self, root: &std::path::Path) {
        for f in self.state.folders.remove(Some(root)) {
            std::thread::spawn(move || f.stop());
        }
    }

    fn send_buffer(&self, uri: &Uri) {
        let Some(rope) = self.state.buffers.get(uri).map(|r| r.to_string()) else {
            return;
        };
        if let Some((folder, rel)) = self.locate(uri) {
            folder.set_buffer(rel, rope);
        }
    }

    /// Runs `sg/search`.
    async fn search(&self, params: SearchParams) -> Result<SearchResult> {
        crate::query::check_query(&params.query).map_err(|e| invalid(e.to_string()))?;
        let t = Instant::now();
        let settings = self.settings();
        let mode = crate::query::mode_named(params.mode.as_deref()).map_err(invalid)?;
        let languages = crate::query::languages_named(&params.languages.unwrap_or_default())
            .map_err(invalid)?;
        let kinds =
            crate::query::kinds_named(&params.kinds.unwrap_or_default()).map_err(invalid)?;
        if params.limit == Some(0) {
            return Err(invalid("`limit` must be at least 1"));
        }
        let limit = params.limit.unwrap_or(settings.limit).min(1000);
        let intent = crate::intent::Intent::parse(params.intent.as_deref()).map_err(invalid)?;
        let ctx = params.context.unwrap_or_default();
        let current = ctx.current_uri.as_ref().and_then(|u| self.locate(u));
        let open: Vec<(Arc<Folder>, String)> = ctx
            .open_uris
            .unwrap_or_default()
            .iter()
            .filter_map(|u| self.locate(u))
            .collect();
        let q = SessionQuery {
            request: SearchRequest {
                query: params.query,
                limit,
                mode,
                paths: params.paths.unwrap_or_default(),
                languages,
                kinds,
                context: SearchContext::default(),
            },
            intent,
            current,
            line: ctx.position.map(|p| p.line + 1),
            open,
            read: Vec::new(),
        };
        let rank = self.state.rank.clone();
        let state = self.state.clone();
        let answer = blocking(move || state.folders.search(&q, &rank)).await?;
        let hits = answer.hits;
        let results = hits
            .into_iter()
            .filter_map(|(root, h)| {
                let uri = path_to_uri(&crate::vfs::abs_path(&root, &h.path))?;
                let signals = crate::wire::signals_json(&h.signals);
                Some(SearchResultItem {
                    uri,
                    range: line_range(h.start_line, h.end_line),
                    match_range: line_range(h.match_lines.0, h.match_lines.1),
                    path: h.path,
                    symbol: h.symbol,
                    kind: Some(h.kind.name().to_string()),
                    language: h.language.name().to_string(),
                    score: h.score,
                    snippet: h.snippet,
                    signals,
                })
            })
            .collect();
        Ok(SearchResult {
            results,
            elapsed_ms: t.elapsed().as_secs_f64() * 1000.0,
            index: IndexState {
                files: answer.state.files,
                chunks: answer.state.chunks,
                pending_files: answer.state.pending_files,
                pending_embeddings: answer.state.pending_embeddings,
                fast_embedded: answer.state.fast_embedded,
            },
            note: answer.note,
            intent: answer.route,
        })
    }

    async fn status(&self) -> serde_json::Value {
        let folders = self.folders();
        let rows: Vec<serde_json::Value> = folders
            .iter()
            .map(|f| match f.ws.status() {
                Ok(s) => serde_json::json!({
                    "root": f.root.display().to_string(), "indexDir": f.ws.index_dir().display().to_string(),
                    "files": s.files, "chunks": s.chunks, "embedded": s.embedded,
                    "fastEmbedded": s.embedded_fast,
                    "pendingFiles": f.pending_files(),
                    "pendingEmbeddings": if f.ws.embedder().is_some() { s.chunks.saturating_sub(s.embedded) } else { 0 },
                    "writable": s.writable,
                }),
                Err(err) => serde_json::json!({"root": f.root.display().to_string(), "error": format!("{err:#}")}),
            })
            .collect();
        serde_json::json!({ "folders": rows })
    }

    #[allow(deprecated)]
    async fn workspace_symbols(&self, query: String) -> Result<Vec<SymbolInformation>> {
        crate::query::check_query(&query).map_err(|e| invalid(e.to_string()))?;
        let current = self
            .state
            .last_active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let limit = 100;
        let nl = query.split_whitespace().count() >= 2
            && classify_query(&query) == QueryKind::NaturalLanguage;
        if nl {
            let params = SearchParams {
                query,
                limit: Some(50),
                mode: None,
                paths: None,
                languages: None,
                kinds: None,
                intent: Some("search".into()),
                context: Some(ext::SearchContextParams {
                    current_uri: current,
                    position: None,
                    open_uris: None,
                }),
            };
            let r = self.search(params).await?;
            return Ok(r
                .results
                .into_iter()
                .map(|h| SymbolInformation {
                    name: h
                        .symbol
                        .clone()
                        .unwrap_or_else(|| format!("{}:{}", h.path, h.range.start.line + 1)),
                    kind: h
                        .kind
                        .as_deref()
                        .and_then(ChunkKind::from_name)
                        .map(symbol_kind)
                        .unwrap_or(SymbolKind::NAMESPACE),
                    tags: None,
                    deprecated: None,
                    location: Location {
                        uri: h.uri,
                        range: h.range,
                    },
                    container_name: Some(h.path),
                })
                .collect());
        }
        let current_loc = current.as_ref().and_then(|u| self.locate(u));
        let folders = self.folders();
        let hits = blocking(move || {
            let mut out = Vec::new();
            for f in &folders {
                let cur = current_loc
                    .as_ref()
                    .filter(|(cf, _)| Arc::ptr_eq(cf, f))
                    .map(|(_, r)| r.as_str());
                let table = f.ws.symbol_table()?;
                for h in table.search(&query, limit, cur) {
                    let Some(path) = table.path(h.entry.file) else {
                        continue;
                    };
                    out.push((
                        h.matched,
                        crate::vfs::abs_path(&f.root, path),
                        h.entry.clone(),
                    ));
                }
            }
            out.sort_by_key(|a| a.0);
            out.truncate(limit);
            Ok(out)
        })
        .await?;
        Ok(hits
            .into_iter()
            .filter_map(|(_, path, e)| {
                Some(SymbolInformation {
                    name: e.name.clone(),
                    kind: symbol_kind(e.kind),
                    tags: None,
                    deprecated: None,
                    location: Location {
                        uri: path_to_uri(&path)?,
                        range: line_range(e.start_line, e.end_line),
                    },
                    container_name: e.container.clone(),
                })
            })
            .collect())
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        if let Some(opts) = &params.initialization_options {
            let mut s = self
                .state
                .settings
                .write()
                .unwrap_or_else(|e| e.into_inner());
            match s.apply(opts) {
                Ok(warnings) => {
                    for w in warnings {
                        tracing::warn!(target: "sg::lsp", "{w}");
                    }
                }
                Err(err) => return Err(invalid(format!("initializationOptions: {err}"))),
            }
        }
        let progress = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        self.state
            .progress_supported
            .store(progress, Ordering::SeqCst);
        #[allow(deprecated)]
        let mut roots: Vec<PathBuf> = match (&params.workspace_folders, &params.root_uri) {
            (Some(folders), _) if !folders.is_empty() => {
                folders.iter().filter_map(|f| uri_to_path(&f.uri)).collect()
            }
            (_, Some(uri)) => uri_to_path(uri).into_iter().collect(),
            _ => Vec::new(),
        };
        roots.retain(|r| r.is_dir());
        *self
            .state
            .initial_folders
            .write()
            .unwrap_or_else(|e| e.into_inner()) = roots;
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..Default::default()
                    },
                )),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
                    ..Default::default()
                }),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "sg".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let roots = std::mem::take(
            &mut *self
                .state
                .initial_folders
                .write()
                .unwrap_or_else(|e| e.into_inner()),
        );
        self.open_folders(roots).await;
    }

    async fn shutdown(&self) -> Result<()> {
        let folders = self.state.folders.remove(None);
        let _ = tokio::task::spawn_blocking(move || {
            for f in folders {
                f.stop();
            }
        })
        .await;
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        self.state
            .buffers
            .insert(doc.uri.clone(), Rope::from_str(&doc.text));
        *self
            .state
            .last_active
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(doc.uri.clone());
        self.send_buffer(&doc.uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        {
            let Some(mut rope) = self.state.buffers.get_mut(&uri) else {
                tracing::warn!(target: "sg::lsp", "didChange for a document that is not open: {}", uri.as_str());
                return;
            };
            for change in &params.content_changes {
                apply_change(&mut rope, change);
            }
        }
        *self
            .state
            .last_active
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Some(uri.clone());
        self.send_buffer(&uri);
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if let Some(text) = params.text {
            self.state
                .buffers
                .insert(params.text_document.uri.clone(), Rope::from_str(&text));
            self.send_buffer(&params.text_document.uri);
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.state.buffers.remove(&uri);
        if let Some((folder, rel)) = self.locate(&uri) {
            folder.close_buffer(rel);
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        for change in params.changes {
            if self.state.buffers.contains_key(&change.uri) {
                continue;
            }
            // The indexer reads the path again and keeps it only if discovery would: created,
            // changed and deleted files take the same way.
            if let Some((folder, rel)) = self.locate(&change.uri)
                && !folder.has_buffer(&rel)
            {
                folder.send(Msg::Reload { rel });
            }
        }
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        for removed in &params.event.removed {
            if let Some(p) = uri_to_path(&removed.uri) {
                self.close_folder(&p.canonicalize().unwrap_or(p));
            }
        }
        let added: Vec<PathBuf> = params
            .event
            .added
            .iter()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        self.open_folders(added).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let (result, changed_index) = {
            let mut s = self
                .state
                .settings
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let before = s.clone();
            let r = s.apply(&params.settings);
            (
                r,
                before.exclude != s.exclude || before.max_file_size != s.max_file_size,
            )
        };
        match result {
            Ok(warnings) => {
                for w in warnings {
                    tracing::warn!(target: "sg::lsp", "{w}");
                }
                if changed_index {
                    let cfg = Self::index_config(&self.settings());
                    for f in self.folders() {
                        f.send(Msg::Config(cfg.clone()));
                    }
                }
            }
            Err(err) => {
                self.client
                    .show_message(MessageType::ERROR, format!("sg: {err}"))
                    .await
            }
        }
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let symbols = self.workspace_symbols(params.query).await?;
        Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        match params.command.as_str() {
            "sg.search" => {
                let arg = params.arguments.into_iter().next().ok_or_else(|| {
                    invalid("sg.search needs one argument: the search parameters")
                })?;
                let p =
                    SearchParams::from_json(arg).map_err(|e| invalid(format!("sg.search: {e}")))?;
                let r = self.search(p).await?;
                Ok(Some(serde_json::to_value(r).map_err(internal)?))
            }
            "sg.reindex" => {
                for f in self.folders() {
                    f.send(Msg::Rescan);
                }
                Ok(None)
            }
            "sg.status" => Ok(Some(self.status().await)),
            other => Err(invalid(format!(
                "unknown command {other:?}; sg knows {}",
                COMMANDS.join(", ")
            ))),
        }
    }
}

impl Server {
    /// `sg/search`: takes raw JSON so that a malformed field is named in the error.
    async fn sg_search(&self, params: serde_json::Value) -> Result<SearchResult> {
        let params = SearchParams::from_json(params).map_err(invalid)?;
        self.search(params).await
    }

    /// Answers a message the input framing rejected (see [`framing::REJECTED`]) with its error.
    async fn rejected(&self, params: framing::Rejection) -> Result<serde_json::Value> {
        Err(Error {
            code: ErrorCode::from(params.code),
            message: params.message.into(),
            data: None,
        })
    }
}

/// Runs the server on stdin/stdout until the client exits.
pub fn run(_args: LspArgs) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Every frame is checked before the protocol layer, which ends the stream on the first bad one.
        let stdin = framing::CheckedInput::new(tokio::io::stdin());
        let stdout = tokio::io::stdout();
        let (service, socket) = LspService::build(Server::new)
            .custom_method(<ext::Search as request::Request>::METHOD, Server::sg_search)
            .custom_method(framing::REJECTED, Server::rejected)
            .finish();
        Transport::new(stdin, stdout, socket).serve(service).await;
    });
    // Drop the runtime without waiting for blocking tasks (the client has gone).
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    Ok(0)
}
