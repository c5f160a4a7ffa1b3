//! `sg mcp`: a Model Context Protocol server on stdio, for coding assistants. It serves one workspace
//! (`--root`, else the client's first root, else the workspace holding the current folder) through the
//! same live folder as the language server ([`crate::live`]: one writer per index, a file watcher,
//! background indexing) and only translates between the protocol and [`crate::agent`].

mod params;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, ProgressToken,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{
    ErrorData, Peer, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router,
};
use tokio::sync::watch;

use crate::agent::{self, CodeHit};
use crate::index::{Phase, Progress};
use crate::live::{Folder, Msg};
use crate::query::SearchRequest;
use crate::search::{RankConfig, SearchContext};
use crate::session::{Located, Session, SessionQuery};
use crate::setup::CommonArgs;

use self::params::{DefinitionArgs, NoArgs, OutlineArgs, ReadArgs, ReferencesArgs, SearchArgs};

/// Options of `sg mcp`.
#[derive(clap::Args, Debug, Clone)]
pub struct McpArgs {
    /// The workspace folder (default: the client's first root, else the workspace that holds the
    /// current folder).
    #[arg(long, value_name = "PATH")]
    pub root: Option<PathBuf>,
    /// Also write logs to this file.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// What to index and with which models, as for `sg index`.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Default token budget of the code in an answer.
pub const DEFAULT_MAX_TOKENS: usize = 4000;
/// How long a tool waits for the workspace to open and its first scan to finish.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long `reindex` waits for the rescan.
const REINDEX_TIMEOUT: Duration = Duration::from_secs(600);

const SEARCH_DOC: &str = "Search the workspace's code by meaning or by name and get the matching \
definitions (function, method, class, section...) with their code. Use plain words for behaviour \
(\"where are failed HTTP requests retried\") or an identifier (`parse_config`). Each result has path, \
start_line, end_line (1-based, inclusive: the whole definition), match_lines (the lines that matched), \
symbol, kind, score and code. The code of all results fits `max_tokens` (tokens estimated as bytes / 4): \
whole definitions first in rank order, then only the signature and matched lines of the rest \
(`shown`: whole, trimmed or omitted; gaps are marked `⋯ lines A-B left out`). Follow up with `read` \
for a full definition.";
const DEFINITION_DOC: &str = "Find where a symbol is defined, by name: `parse_config`, or qualified by \
its container, `Server::handle` / `Server.handle`. Returns each definition's path, range, kind, \
container and code (exact name matches first, then the same name ignoring case and `_`). An unknown \
name is an error that suggests the nearest names.";
const REFERENCES_DOC: &str = "Find where a symbol is used: calls, type uses, imports and other \
mentions, each with its path, line, column, kind, the line's text and the definition it sits in \
(`enclosing`: symbol, kind, range), so \"who calls X\" is one call with `kinds: [\"call\"]`. Uses are \
found by name from the syntax tree (not by type): a common name such as `new` or `get` also lists \
uses of other definitions of that name; qualify it (`Server::handle`) to narrow. Nearest to `near` \
first. Also returns the name's definitions, `total` uses and the number of `files`.";
const OUTLINE_DOC: &str = "List the definitions of a file (or of every file in a folder) as a tree: \
classes, impls and modules with their methods nested inside, each with kind, start_line and end_line \
(1-based, inclusive); a single file's entries also carry their signature line. Cheaper than reading \
the file to see what it holds.";
const READ_DOC: &str = "Read a whole definition: give a path and a line (1-based) to get the innermost \
definition that encloses that line, or a path and a symbol name to get that definition. Returns its \
code with start_line and end_line. A line outside every definition gives the 20 lines around it. Use \
it to expand a trimmed search result.";
const STATUS_DOC: &str = "What the index holds and whether it is complete: workspace root, files, \
chunks, the share embedded for search by meaning, pending changes, whether this server writes the \
index (another sg process may, then this one serves it read-only), the models, and indexing progress.";
const REINDEX_DOC: &str = "Walk the whole workspace again now and index every new, changed and deleted \
file (changes on disk are normally picked up by themselves within moments). Returns the status once \
the walk is done; embeddings continue in the background.";

/// Where the workspace stands.
#[derive(Clone)]
enum Opening {
    /// Being opened (or waiting for the client's roots).
    Pending,
    /// Served.
    Ready(Arc<Folder>),
    /// Could not be opened.
    Failed(String),
}

/// A client request that asked for progress, and how far it was told.
struct Listener {
    peer: Peer<RoleServer>,
    token: ProgressToken,
    /// Progress of phases already finished (progress must grow across phases).
    base: f64,
    id: u64,
}

/// Indexing progress: logged, kept for `status`, and sent to requests that asked for it.
struct ProgressHub {
    handle: tokio::runtime::Handle,
    current: Mutex<Option<(Phase, u64, u64, Instant)>>,
    listeners: Mutex<Vec<Listener>>,
}

impl ProgressHub {
    fn notify(&self, done: u64, total: u64, phase: Phase) {
        let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        for l in listeners.iter() {
            let unit = match phase {
                Phase::Scan => "files",
                Phase::Embed => "chunks",
            };
            let p = ProgressNotificationParam::new(l.token.clone(), l.base + done as f64)
                .with_total(l.base + total as f64)
                .with_message(format!("{}: {done}/{total} {unit}", phase.name()));
            let peer = l.peer.clone();
            self.handle.spawn(async move {
                let _ = peer.notify_progress(p).await;
            });
        }
    }

    fn subscribe(&self, peer: Peer<RoleServer>, token: ProgressToken) -> u64 {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Listener {
                peer,
                token,
                base: 0.0,
                id,
            });
        id
    }

    fn unsubscribe(&self, id: u64) {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|l| l.id != id);
    }

    /// The phase running, with its progress.
    fn describe(&self) -> Option<String> {
        let cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        cur.as_ref()
            .map(|(phase, total, done, _)| format!("{} {done}/{total}", phase.name()))
    }
}

/// The index's progress reports, as the live folder gives them.
struct HubProgress(Arc<ProgressHub>);

impl Progress for HubProgress {
    fn begin(&self, phase: Phase, total: u64) {
        if total == 0 {
            return;
        }
        tracing::info!(target: "sg::mcp", "{}: 0/{total}", phase.name());
        *self.0.current.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((phase, total, 0, Instant::now()));
        self.0.notify(0, total, phase);
    }

    fn report(&self, done: u64) {
        let mut cur = self.0.current.lock().unwrap_or_else(|e| e.into_inner());
        let Some((phase, total, d, last)) = cur.as_mut() else {
            return;
        };
        *d = done;
        if last.elapsed() < Duration::from_millis(200) && done < *total {
            return;
        }
        if last.elapsed() >= Duration::from_secs(5) || done >= *total {
            tracing::info!(target: "sg::mcp", "{}: {done}/{total}", phase.name());
        }
        *last = Instant::now();
        let (phase, total) = (*phase, *total);
        drop(cur);
        self.0.notify(done, total, phase);
    }

    fn end(&self) {
        let done = self
            .0
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((phase, total, _, _)) = done {
            tracing::info!(target: "sg::mcp", "{} done ({total})", phase.name());
            self.0.notify(total, total, phase);
            for l in self
                .0
                .listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter_mut()
            {
                l.base += total as f64;
            }
        }
    }
}

/// The MCP server.
#[derive(Clone)]
pub struct SgMcp {
    args: Arc<McpArgs>,
    state: watch::Sender<Opening>,
    started: Arc<std::sync::atomic::AtomicBool>,
    hub: Arc<ProgressHub>,
    rank: Arc<RankConfig>,
    tool_router: ToolRouter<Self>,
}

/// A tool's answer: the text a model reads, and the same facts as JSON for programs.
fn answer(text: String, json: serde_json::Value) -> CallToolResult {
    let mut r = CallToolResult::success(vec![ContentBlock::text(text)]);
    r.structured_content = Some(json);
    r
}

/// A tool error: the request was understood, and this is what to do about it.
fn refuse(msg: impl std::fmt::Display) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(msg.to_string())])
}

/// Runs blocking library work off the protocol's threads; a panic becomes a tool error.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, CallToolResult> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(err)) => Err(refuse(format!("{err:#}"))),
        Err(join) => {
            tracing::error!(target: "sg::mcp", "a tool call failed: {join}");
            Err(refuse(
                "internal error: the call failed (see the server log)",
            ))
        }
    }
}

/// Writes hits as a model reads them: a header line per result, then its code.
fn render(hits: &[CodeHit], out: &mut String) {
    for h in hits {
        let name = match (&h.container, &h.symbol) {
            (Some(c), Some(s)) => format!(" {c}::{s}"),
            (None, Some(s)) => format!(" {s}"),
            _ => String::new(),
        };
        let score = h
            .score
            .map(|s| format!(", score {s:.3}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}:{}-{} {}{name} ({}{score})",
            h.path, h.start_line, h.end_line, h.kind, h.shown
        );
        if !h.code.is_empty() {
            let _ = writeln!(out, "```{}\n{}```", h.language, h.code);
        }
    }
}

fn outline_text(nodes: &[agent::outline::Node], depth: usize, out: &mut String) {
    for n in nodes {
        let sig = n
            .signature
            .as_deref()
            .map(|s| format!("  {s}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:indent$}{} {} {}-{}{sig}",
            "",
            n.kind,
            n.name,
            n.start_line,
            n.end_line,
            indent = depth * 2
        );
        outline_text(&n.children, depth + 1, out);
    }
}

/// `file:///a/b%20c` → `/a/b c` (local files only).
fn uri_to_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let b = rest.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if b[i] == b'%'
            && let Some(Ok(v)) = hex.map(|h| u8::from_str_radix(h, 16))
        {
            bytes.push(v);
            i += 3;
            continue;
        }
        bytes.push(b[i]);
        i += 1;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        Some(PathBuf::from(String::from_utf8(bytes).ok()?))
    }
}

impl SgMcp {
    fn new(args: McpArgs, handle: tokio::runtime::Handle) -> Self {
        let (state, _) = watch::channel(Opening::Pending);
        SgMcp {
            args: Arc::new(args),
            state,
            started: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            hub: Arc::new(ProgressHub {
                handle,
                current: Mutex::new(None),
                listeners: Mutex::new(Vec::new()),
            }),
            rank: Arc::new(RankConfig::default()),
            tool_router: Self::tool_router(),
        }
    }

    /// Opens `root` once (model loading and the index open run on a blocking thread), then indexes it
    /// in the background and follows its changes.
    fn open(&self, root: PathBuf) {
        if self.started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let (args, state, hub) = (self.args.clone(), self.state.clone(), self.hub.clone());
        tokio::task::spawn_blocking(move || {
            let opened = (|| -> anyhow::Result<Arc<Folder>> {
                // One embedding thread, as the language server: the machine is shared with the client.
                let opts = args.common.open_options(1)?;
                let ws = crate::index::Workspace::open(&root, opts)?;
                Ok(Folder::start(
                    Arc::new(ws),
                    &root,
                    Box::new(HubProgress(hub)),
                ))
            })();
            match opened {
                Ok(folder) => {
                    tracing::info!(
                        target: "sg::mcp",
                        "serving {}{}",
                        folder.root.display(),
                        if folder.ws.is_writable() { "" } else { " (read-only: another sg process writes its index)" }
                    );
                    state.send_replace(Opening::Ready(folder));
                }
                Err(err) => {
                    tracing::error!(target: "sg::mcp", "cannot open {}: {err:#}", root.display());
                    state.send_replace(Opening::Failed(format!(
                        "cannot open the workspace {}: {err:#}",
                        root.display()
                    )));
                }
            }
        });
    }

    /// The workspace that holds the current folder.
    fn fallback_root(&self) -> PathBuf {
        match self.args.common.resolve_root(None) {
            Ok(found) => found.root,
            Err(err) => {
                tracing::warn!(target: "sg::mcp", "{err:#}; serving the current folder");
                PathBuf::from(".")
            }
        }
    }

    /// The served folder, once open; a tool error when it cannot be opened or takes too long.
    async fn folder(&self) -> Result<Arc<Folder>, CallToolResult> {
        let mut rx = self.state.subscribe();
        let wait = rx.wait_for(|s| !matches!(s, Opening::Pending));
        match tokio::time::timeout(READY_TIMEOUT, wait).await {
            Ok(Ok(s)) => match &*s {
                Opening::Ready(f) => Ok(f.clone()),
                Opening::Failed(msg) => Err(refuse(msg)),
                Opening::Pending => Err(refuse("the workspace is not open yet; try again")),
            },
            Ok(Err(_)) => Err(refuse("the server is shutting down")),
            Err(_) => Err(refuse(
                "the workspace is still being opened (loading the model); try again in a moment",
            )),
        }
    }

    /// The served folder once its first scan is done (an index made before opens at once), with
    /// progress sent to the request meanwhile if it asked for it.
    async fn ready(&self, ctx: &RequestContext<RoleServer>) -> Result<Arc<Folder>, CallToolResult> {
        let folder = self.folder().await?;
        let scanned = |f: &Folder| f.ws.is_scanned().unwrap_or(true);
        if scanned(&folder) {
            return Ok(folder);
        }
        let sub = ctx
            .meta
            .get_progress_token()
            .map(|t| self.hub.subscribe(ctx.peer.clone(), t));
        let deadline = Instant::now() + READY_TIMEOUT;
        while !scanned(&folder) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Some(id) = sub {
            self.hub.unsubscribe(id);
        }
        Ok(folder)
    }

    fn status_json(&self, f: &Folder) -> anyhow::Result<serde_json::Value> {
        let s = f.ws.status()?;
        let describe = |e: Option<&Arc<dyn crate::embed::Embedder>>| {
            e.map(|e| format!("{} ({})", e.name(), e.fingerprint()))
                .unwrap_or_else(|| "none".into())
        };
        let embedding = f.ws.embedder().is_some();
        Ok(serde_json::json!({
            "root": f.root.display().to_string(),
            "index_dir": f.ws.index_dir().display().to_string(),
            "files": s.files,
            "chunks": s.chunks,
            "embedded": s.embedded,
            "embedded_share": if s.chunks == 0 { 1.0 } else { s.embedded as f64 / s.chunks as f64 },
            "embedded_fast": s.embedded_fast,
            "pending_files": f.pending_files(),
            "pending_embeddings": if embedding { s.chunks.saturating_sub(s.embedded) } else { 0 },
            "scanned": f.ws.is_scanned()?,
            "writable": s.writable,
            "note": (!s.writable).then_some("another sg process writes this index; this server reads it and follows its commits, and takes over when that process exits"),
            "model": describe(f.ws.embedder()),
            "fast_model": describe(f.ws.fast_embedder()),
            "indexing": self.hub.describe(),
        }))
    }
}

fn budget(max_tokens: Option<u32>) -> usize {
    max_tokens.map_or(DEFAULT_MAX_TOKENS, |n| (n as usize).max(100))
}

#[tool_router]
impl SgMcp {
    #[tool(name = "search", description = SEARCH_DOC, annotations(read_only_hint = true))]
    async fn search(
        &self,
        Parameters(a): Parameters<SearchArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.search_impl(a, ctx).await.unwrap_or_else(|e| e))
    }

    #[tool(name = "definition", description = DEFINITION_DOC, annotations(read_only_hint = true))]
    async fn definition(
        &self,
        Parameters(a): Parameters<DefinitionArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.definition_impl(a, ctx).await.unwrap_or_else(|e| e))
    }

    #[tool(name = "references", description = REFERENCES_DOC, annotations(read_only_hint = true))]
    async fn references(
        &self,
        Parameters(a): Parameters<ReferencesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.references_impl(a, ctx).await.unwrap_or_else(|e| e))
    }

    #[tool(name = "outline", description = OUTLINE_DOC, annotations(read_only_hint = true))]
    async fn outline(
        &self,
        Parameters(a): Parameters<OutlineArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.outline_impl(a, ctx).await.unwrap_or_else(|e| e))
    }

    #[tool(name = "read", description = READ_DOC, annotations(read_only_hint = true))]
    async fn read(
        &self,
        Parameters(a): Parameters<ReadArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.read_impl(a, ctx).await.unwrap_or_else(|e| e))
    }

    #[tool(name = "status", description = STATUS_DOC, annotations(read_only_hint = true))]
    async fn status(&self, Parameters(_): Parameters<NoArgs>) -> Result<CallToolResult, ErrorData> {
        let run = async {
            let f = self.folder().await?;
            let me = self.clone();
            let f2 = f.clone();
            let v = blocking(move || me.status_json(&f2)).await?;
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            Ok::<_, CallToolResult>(answer(text, v))
        };
        Ok(run.await.unwrap_or_else(|e| e))
    }

    #[tool(name = "reindex", description = REINDEX_DOC)]
    async fn reindex(
        &self,
        Parameters(_): Parameters<NoArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let run = async {
            let f = self.folder().await?;
            if !f.ws.is_writable() {
                return Err(refuse(
                    "another sg process writes this index (an editor's `sg lsp` or a `sg index`); it follows changes itself, and this server sees its commits",
                ));
            }
            let sub = ctx
                .meta
                .get_progress_token()
                .map(|t| self.hub.subscribe(ctx.peer.clone(), t));
            f.send(Msg::Rescan);
            let deadline = Instant::now() + REINDEX_TIMEOUT;
            while f.pending_files() > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            if let Some(id) = sub {
                self.hub.unsubscribe(id);
            }
            let me = self.clone();
            let f2 = f.clone();
            let v = blocking(move || me.status_json(&f2)).await?;
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            Ok(answer(text, v))
        };
        Ok(run.await.unwrap_or_else(|e| e))
    }
}

impl SgMcp {
    async fn search_impl(
        &self,
        a: SearchArgs,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, CallToolResult> {
        crate::query::check_query(&a.query).map_err(refuse)?;
        if a.query.trim().is_empty() {
            return Err(refuse("`query` is empty: give words or a name to look for"));
        }
        let mode = crate::query::mode_named(a.mode.as_deref()).map_err(refuse)?;
        let languages =
            crate::query::languages_named(&a.languages.unwrap_or_default()).map_err(refuse)?;
        let kinds = crate::query::kinds_named(&a.kinds.unwrap_or_default()).map_err(refuse)?;
        let limit = match a.limit {
            Some(0) => return Err(refuse("`limit` must be at least 1")),
            Some(n) => (n as usize).min(100),
            None => 10,
        };
        let max_tokens = budget(a.max_tokens);
        let intent = crate::intent::Intent::parse(a.intent.as_deref()).map_err(refuse)?;
        let folder = self.ready(&ctx).await?;
        let rank = self.rank.clone();
        let query = a.query;
        let paths = a.paths.unwrap_or_default();
        let context = a.context.unwrap_or_default();
        let t = Instant::now();
        let (hits, found) = blocking(move || {
            let files = agent::Files::new(&folder.ws);
            let loc = |p: &str| -> anyhow::Result<Located> { Ok((folder.clone(), files.rel(p)?)) };
            let list = |ps: Option<Vec<String>>| -> anyhow::Result<Vec<Located>> {
                ps.unwrap_or_default().iter().map(|p| loc(p)).collect()
            };
            let q = SessionQuery {
                request: SearchRequest {
                    query: query.clone(),
                    limit,
                    mode,
                    paths,
                    languages,
                    kinds,
                    context: SearchContext::default(),
                },
                intent,
                current: context.current_file.as_deref().map(loc).transpose()?,
                line: None,
                open: list(context.open_files)?,
                read: list(context.read_files)?,
            };
            let session = Session::new();
            session.add(folder.clone());
            let a = session.search(&q, &rank)?;
            let plain: Vec<_> = a.hits.iter().map(|(_, h)| h.clone()).collect();
            let hits = agent::with_code(&folder.ws, &plain, &query, max_tokens);
            Ok((hits, a))
        })
        .await?;
        let route = found.route.clone().unwrap_or(crate::intent::Route {
            intent: crate::intent::Intent::Search,
            name: None,
            calls_only: false,
            guessed: true,
        });
        let mut text = String::new();
        if let Some(name) = &route.name {
            let _ = writeln!(text, "answered as: {} of {name}", route.intent.name());
        }
        if hits.is_empty() {
            text.push_str("no results\n");
        }
        render(&hits, &mut text);
        if let Some(n) = &found.note {
            let _ = writeln!(text, "note: {n}");
        }
        let json = serde_json::json!({
            "mode": found.mode.unwrap_or(crate::search::Mode::Hybrid).name(),
            "intent": route,
            "results": hits,
            "note": found.note,
            "index": {"files": found.state.files, "chunks": found.state.chunks, "embedded": found.state.embedded},
            "elapsed_ms": t.elapsed().as_secs_f64() * 1000.0,
        });
        Ok(answer(text, json))
    }

    async fn definition_impl(
        &self,
        a: DefinitionArgs,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, CallToolResult> {
        let limit = match a.limit {
            Some(0) => return Err(refuse("`limit` must be at least 1")),
            Some(n) => (n as usize).min(50),
            None => 5,
        };
        let max_tokens = budget(a.max_tokens);
        let folder = self.ready(&ctx).await?;
        let symbol = a.symbol;
        let hits =
            blocking(move || agent::definitions(&folder.ws, &symbol, limit, max_tokens)).await?;
        let mut text = String::new();
        render(&hits, &mut text);
        Ok(answer(text, serde_json::json!({ "definitions": hits })))
    }

    async fn references_impl(
        &self,
        a: ReferencesArgs,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, CallToolResult> {
        let limit = match a.limit {
            Some(0) => return Err(refuse("`limit` must be at least 1")),
            Some(n) => (n as usize).min(500),
            None => 50,
        };
        let kinds = a
            .kinds
            .unwrap_or_default()
            .iter()
            .map(|k| {
                crate::graph::RefKind::from_name(k).ok_or_else(|| {
                    refuse(format!(
                        "unknown kind of use {k:?}: give call, type, import, use or field"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let folder = self.ready(&ctx).await?;
        let q = agent::references::RefQuery {
            name: a.symbol,
            near: a.near,
            kinds,
            limit,
        };
        let r = blocking(move || agent::references::references(&folder.ws, &q)).await?;
        let mut text = String::new();
        let _ = writeln!(
            text,
            "{} uses of {} in {} files{}",
            r.total,
            r.name,
            r.files,
            if r.total > r.references.len() {
                format!(" (first {} shown)", r.references.len())
            } else {
                String::new()
            }
        );
        for u in &r.references {
            let within = u
                .enclosing
                .as_ref()
                .map(|e| {
                    format!(
                        "  (in {} {} {}-{})",
                        e.kind, e.symbol, e.start_line, e.end_line
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                text,
                "{}:{}  {}  {}{within}",
                u.path, u.line, u.kind, u.text
            );
        }
        for d in &r.definitions {
            let _ = writeln!(
                text,
                "defined at {}:{}-{} ({})",
                d.path, d.start_line, d.end_line, d.kind
            );
        }
        let json = serde_json::to_value(&r).unwrap_or_default();
        Ok(answer(text, json))
    }

    async fn outline_impl(
        &self,
        a: OutlineArgs,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, CallToolResult> {
        let folder = self.ready(&ctx).await?;
        let (files, more) = blocking(move || agent::outline(&folder.ws, &a.path)).await?;
        let mut text = String::new();
        for f in &files {
            let _ = writeln!(text, "{}", f.path);
            outline_text(&f.definitions, 1, &mut text);
        }
        if more {
            let _ = writeln!(
                text,
                "(only the first {} files; outline a subfolder for the rest)",
                agent::MAX_OUTLINE_FILES
            );
        }
        Ok(answer(
            text,
            serde_json::json!({ "files": files, "truncated": more }),
        ))
    }

    async fn read_impl(
        &self,
        a: ReadArgs,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, CallToolResult> {
        let at = match (a.line, a.symbol) {
            (Some(_), Some(_)) => return Err(refuse("give either `line` or `symbol`, not both")),
            (Some(n), None) => agent::At::Line(n),
            (None, Some(s)) => agent::At::Symbol(s),
            (None, None) => {
                return Err(refuse(
                    "give `line` (1-based) or `symbol` to say which definition of the file to read",
                ));
            }
        };
        let folder = self.ready(&ctx).await?;
        let hit = blocking(move || agent::read(&folder.ws, &a.path, &at)).await?;
        let mut text = String::new();
        render(std::slice::from_ref(&hit), &mut text);
        let json = serde_json::to_value(&hit).unwrap_or_default();
        Ok(answer(text, json))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SgMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("sg", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "sg searches this workspace's code by meaning or by name and answers with whole \
                 definitions. Start with `search` (plain words or an identifier; \"who calls X\" and \
                 \"where is X defined\" are routed to the code graph), jump to a name with `definition`, \
                 list uses and callers with `references`, see a file's structure with `outline`, expand a \
                 result with `read`.",
            )
    }

    // `roots/list` is deprecated from protocol 2026-07-28 on, and still how the clients of today say
    // which folder they work in.
    #[allow(deprecated)]
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        if self.started.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let peer = context.peer.clone();
        let offers_roots = peer
            .peer_info()
            .is_some_and(|i| i.capabilities.roots.is_some());
        let me = self.clone();
        // Asking the client must not hold up its notification's handling: it answers on the same pipe.
        tokio::spawn(async move {
            let mut root = None;
            if offers_roots {
                match tokio::time::timeout(Duration::from_secs(10), peer.list_roots()).await {
                    Ok(Ok(r)) => {
                        let dirs: Vec<PathBuf> = r
                            .roots
                            .iter()
                            .filter_map(|r| uri_to_path(&r.uri))
                            .filter(|p| p.is_dir())
                            .collect();
                        if dirs.len() > 1 {
                            tracing::info!(target: "sg::mcp", "the client has {} roots; serving the first", dirs.len());
                        }
                        root = dirs.into_iter().next();
                    }
                    Ok(Err(err)) => tracing::warn!(target: "sg::mcp", "roots/list failed: {err}"),
                    Err(_) => tracing::warn!(target: "sg::mcp", "roots/list got no answer"),
                }
            }
            let root = root.unwrap_or_else(|| me.fallback_root());
            me.open(root);
        });
    }
}

/// Runs the MCP server on stdin/stdout until the client closes it.
pub fn run(args: McpArgs) -> anyhow::Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = rt.block_on(async {
        let root = args.root.clone();
        let server = SgMcp::new(args, tokio::runtime::Handle::current());
        if let Some(r) = root {
            anyhow::ensure!(r.is_dir(), "--root {}: not a folder", r.display());
            server.open(r);
        }
        let keep = server.clone();
        let running = server.serve(rmcp::transport::stdio()).await?;
        let reason = running.waiting().await;
        tracing::info!(target: "sg::mcp", "client gone ({reason:?})");
        // Close the index cleanly: the indexer finishes its batch and commits.
        let served = match &*keep.state.borrow() {
            Opening::Ready(f) => Some(f.clone()),
            _ => None,
        };
        if let Some(f) = served {
            let _ = tokio::task::spawn_blocking(move || f.stop()).await;
        }
        Ok(0)
    })?;
    rt.shutdown_timeout(Duration::from_secs(2));
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(
            uri_to_path("file:///a/b%20c"),
            Some(PathBuf::from("/a/b c"))
        );
        assert_eq!(uri_to_path("file://localhost/x"), Some(PathBuf::from("/x")));
        assert_eq!(uri_to_path("https://example.com/x"), None);
        assert_eq!(uri_to_path("file:///a/%zz"), Some(PathBuf::from("/a/%zz")));
    }
}
