//! A workspace folder kept live for a server (the language server, the MCP server): one indexer thread,
//! the only writer of its index, and a file watcher. The thread receives change messages (editor
//! buffers, file-watcher events, rescans), coalesces them, updates the index, and embeds new chunks
//! between messages so that edits never wait behind a long embedding backlog. A folder whose index
//! another process writes is served read-only until that process exits.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use notify::Watcher;

use crate::config::IndexConfig;
use crate::confine::{Confinement, Refusal};
use crate::index::{Progress, Workspace};
use crate::overlay::Overlay;
use crate::query::{SearchRequest, SearchResponse};
use crate::search::RankConfig;
use crate::vfs;

/// A message to a folder's indexer.
#[derive(Debug)]
pub enum Msg {
    /// The text of a file changed (an editor buffer).
    Text {
        /// Path relative to the folder.
        rel: String,
        /// The whole text.
        text: String,
    },
    /// Read a file again from disk (it changed, appeared, disappeared, or its buffer closed).
    Reload {
        /// Path relative to the folder.
        rel: String,
    },
    /// Walk the whole folder again.
    Rescan,
    /// Apply a new configuration, then rescan.
    Config(IndexConfig),
    /// Stop.
    Shutdown,
}

/// Coalescing window: changes arriving this close together are indexed in one batch.
const DEBOUNCE: Duration = Duration::from_millis(15);
/// How often a read-only folder checks whether it can take over writing, and refreshes its view.
const READER_POLL: Duration = Duration::from_secs(2);
/// Files whose change may change what discovery keeps.
const IGNORE_FILES: [&str; 3] = [".gitignore", ".ignore", ".sgignore"];

/// A workspace folder served live.
pub struct Folder {
    /// The folder's canonical path.
    pub root: PathBuf,
    /// The index.
    pub ws: Arc<Workspace>,
    /// What paths from the client may name.
    confine: Confinement,
    /// This server's open buffers, searched over the index until it holds them.
    overlay: Arc<Overlay>,
    tx: Mutex<Sender<Msg>>,
    pending: Arc<AtomicU64>,
    thread: Mutex<Option<JoinHandle<()>>>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Folder {
    /// Starts the indexer thread (which scans the folder first) and the file watcher. `alias` is the
    /// root as the client named it (before links in it were resolved).
    pub fn start(ws: Arc<Workspace>, alias: &Path, progress: Box<dyn Progress>) -> Arc<Folder> {
        let (tx, rx) = std::sync::mpsc::channel();
        let pending = Arc::new(AtomicU64::new(0));
        let root = ws.root().to_path_buf();
        let mut confine = Confinement::new(&root).with_alias(alias);
        for dir in ws.private_dirs() {
            confine = confine.with_private(dir);
        }
        let overlay = Arc::new(Overlay::default());
        let watcher = start_watcher(
            &confine,
            ws.config(),
            tx.clone(),
            pending.clone(),
            overlay.clone(),
        );
        let thread = {
            let (ws, pending, confine, overlay) = (
                ws.clone(),
                pending.clone(),
                confine.clone(),
                overlay.clone(),
            );
            std::thread::Builder::new()
                .name(format!(
                    "sg-indexer-{}",
                    root.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ))
                .spawn(move || {
                    run(
                        Indexer {
                            ws,
                            confine,
                            overlay,
                            pending,
                            progress,
                        },
                        rx,
                    )
                })
                .expect("spawning a thread")
        };
        Arc::new(Folder {
            root,
            ws,
            confine,
            overlay,
            tx: Mutex::new(tx),
            pending,
            thread: Mutex::new(Some(thread)),
            _watcher: watcher,
        })
    }

    /// Queues a message for the indexer.
    pub fn send(&self, msg: Msg) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let _ = self.tx.lock().unwrap_or_else(|e| e.into_inner()).send(msg);
    }

    /// Messages (mostly changed files) waiting for the indexer.
    pub fn pending_files(&self) -> u64 {
        self.pending.load(Ordering::SeqCst)
    }

    /// The path of `abs` relative to this folder, if it lies inside (see [`Confinement::rel`]).
    pub fn rel(&self, abs: &Path) -> Result<String, Refusal> {
        self.confine.rel(abs)
    }

    /// The editor's text of `rel` changed: searched at once through the overlay, and sent to the
    /// index. A buffer discovery would leave out (ignored folders, hidden files...) is neither, nor
    /// one opened through a symbolic link (its text comes from wherever the link leads).
    pub fn set_buffer(&self, rel: String, text: String) {
        if !vfs::is_indexable(&self.root, &rel, &self.ws.config()) {
            self.overlay.remove(&rel);
            return;
        }
        if self.confine.through_link(&rel) {
            tracing::debug!(target: "sg::live", "not indexing the buffer of {rel}: opened through a symbolic link");
            self.overlay.remove(&rel);
            return;
        }
        self.overlay.set(&rel, &text);
        self.send(Msg::Text { rel, text });
    }

    /// The editor closed `rel`: the file on disk counts again.
    pub fn close_buffer(&self, rel: String) {
        self.overlay.remove(&rel);
        self.send(Msg::Reload { rel });
    }

    /// Whether the editor has `rel` open (its disk events are then ignored).
    pub fn has_buffer(&self, rel: &str) -> bool {
        self.overlay.contains(rel)
    }

    /// Searches the index, with this server's open buffers laid over it while the index does not
    /// hold them.
    pub fn search(&self, req: &SearchRequest, rank: &RankConfig) -> anyhow::Result<SearchResponse> {
        self.overlay.search(&self.ws, req, rank)
    }

    /// Stops the indexer and waits for it (the index is closed cleanly).
    pub fn stop(&self) {
        self.send(Msg::Shutdown);
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn start_watcher(
    confine: &Confinement,
    cfg: IndexConfig,
    tx: Sender<Msg>,
    pending: Arc<AtomicU64>,
    overlay: Arc<Overlay>,
) -> Option<notify::RecommendedWatcher> {
    let root = confine.root().to_path_buf();
    let confine = confine.clone();
    let handler = move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if event.kind.is_access() {
            return;
        }
        for path in event.paths {
            // The index's own folder (when it lies in the workspace) changes with every commit.
            let Ok(rel) = confine.rel(&path) else {
                continue;
            };
            if overlay.contains(&rel) {
                continue;
            }
            let (parent, name) = rel.rsplit_once('/').unwrap_or(("", &rel));
            let watched_parent = parent
                .split('/')
                .all(|c| !c.starts_with('.') && !vfs::DEFAULT_EXCLUDED_DIRS.contains(&c));
            if IGNORE_FILES.contains(&name) && watched_parent {
                // What discovery keeps may have changed anywhere below.
                pending.fetch_add(1, Ordering::SeqCst);
                let _ = tx.send(Msg::Rescan);
                continue;
            }
            // A quick filter (build folders, hidden files...) before the indexer checks the rest.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
                || !vfs::is_indexable(confine.root(), &rel, &cfg)
            {
                continue;
            }
            pending.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(Msg::Reload { rel });
        }
    };
    // Links to folders are not watched through: what they lead to is not part of the workspace.
    let config = notify::Config::default().with_follow_symlinks(false);
    match notify::RecommendedWatcher::new(handler, config) {
        Ok(mut w) => match w.watch(&root, notify::RecursiveMode::Recursive) {
            Ok(()) => Some(w),
            Err(err) => {
                tracing::warn!(target: "sg::live", "cannot watch {}: {err}; relying on the editor's file events", root.display());
                None
            }
        },
        Err(err) => {
            tracing::warn!(target: "sg::live", "no file watcher: {err}");
            None
        }
    }
}

/// What to do with one file after coalescing.
enum Change {
    Text(String),
    Reload,
}

/// The indexer thread's view of its folder.
struct Indexer {
    ws: Arc<Workspace>,
    confine: Confinement,
    overlay: Arc<Overlay>,
    pending: Arc<AtomicU64>,
    progress: Box<dyn Progress>,
}

impl Indexer {
    fn scan(&self) {
        if let Err(err) = self.ws.scan(self.progress.as_ref()) {
            tracing::error!(target: "sg::live", "indexing {} failed: {err:#}", self.ws.root().display());
        }
    }

    /// Removes `rel` from the index if it is there.
    fn remove(&self, rel: &str) {
        let known = self
            .ws
            .store()
            .read_txn()
            .and_then(|txn| self.ws.store().file_id(&txn, rel))
            .map(|id| id.is_some())
            .unwrap_or(true);
        if known && let Err(err) = self.ws.update_file(rel, None) {
            tracing::warn!(target: "sg::live", "removing {rel} from the index failed: {err:#}");
        }
    }

    /// Indexes an editor buffer, under the rules a file on disk meets (size, binary content).
    fn write_text(&self, rel: &str, text: &str) {
        let cfg = self.ws.config();
        let eligible = vfs::is_indexable(self.ws.root(), rel, &cfg)
            && text.len() as u64 <= cfg.max_file_size
            && vfs::classify_text(text.as_bytes()).is_ok();
        if !eligible {
            self.remove(rel);
            return;
        }
        if let Err(err) = self.ws.update_file(rel, Some(text)) {
            tracing::warn!(target: "sg::live", "indexing {rel} failed: {err:#}");
        }
    }

    /// The paths of `rels` discovery would keep now: the same walk, entering only their folders.
    fn discoverable(&self, rels: &[String]) -> HashSet<String> {
        let root = self.confine.root();
        let mut wanted: HashSet<PathBuf> = HashSet::new();
        for rel in rels {
            for a in root.join(rel).ancestors() {
                if a == root || !wanted.insert(a.to_path_buf()) {
                    break;
                }
            }
        }
        let private = self.confine.private_dirs().to_vec();
        let keep = move |p: &Path| wanted.contains(p) && !private.iter().any(|d| p.starts_with(d));
        match vfs::discover_filtered(root, &self.ws.config(), keep) {
            Ok(found) => found.into_iter().map(|f| f.rel_path).collect(),
            Err(err) => {
                tracing::warn!(target: "sg::live", "checking changed files failed: {err:#}");
                HashSet::new()
            }
        }
    }

    /// Reads a file that changed on disk as discovery does ([`vfs::read_text`]): never through a link, never
    /// blocking, no more than the size limit.
    fn read(&self, rel: &str) -> Option<String> {
        let max = self.ws.config().max_file_size;
        match vfs::read_text(self.ws.root(), rel, max) {
            Ok(text) => Some(text),
            Err(vfs::ReadError::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                tracing::info!(target: "sg::live", "not indexing {rel}: {err}");
                None
            }
        }
    }

    /// Files changed on disk: each is indexed again if discovery would keep it, removed otherwise.
    fn reload(&self, rels: &[String]) {
        let keep = self.discoverable(rels);
        for rel in rels {
            match keep.contains(rel).then(|| self.read(rel)).flatten() {
                Some(text) => {
                    if let Err(err) = self.ws.update_file(rel, Some(&text)) {
                        tracing::warn!(target: "sg::live", "indexing {rel} failed: {err:#}");
                    }
                }
                None => self.remove(rel),
            }
        }
    }

    /// Writes every open buffer into the index, which from then on answers for them.
    fn hand_over(&self) {
        for (rel, text) in self.overlay.buffers() {
            self.write_text(&rel, &text);
        }
        self.overlay.set_handed_over(true);
    }

    /// A scan reads every file from disk, open ones included: the buffers are searched through the
    /// overlay meanwhile, and written again after it.
    fn scan_and_hand_over(&self) {
        self.overlay.set_handed_over(false);
        self.scan();
        self.hand_over();
    }
}

fn run(ix: Indexer, rx: Receiver<Msg>) {
    let ws = ix.ws.clone();
    let mut writable = ws.is_writable();
    if writable {
        ix.scan_and_hand_over();
    } else {
        tracing::info!(
            target: "sg::live",
            "{} is indexed by another sg process; serving it read-only until that process exits",
            ws.root().display()
        );
    }
    let mut embedding_done = !writable;
    loop {
        // Wait for work: block when idle, poll when embedding or when read-only.
        let first = if writable && !embedding_done {
            match rx.try_recv() {
                Ok(m) => Some(m),
                Err(std::sync::mpsc::TryRecvError::Empty) => None,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
            }
        } else {
            let timeout = if writable {
                Duration::from_secs(3600)
            } else {
                READER_POLL
            };
            match rx.recv_timeout(timeout) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        };
        if !writable && first.is_none() {
            if ws.try_become_writer() {
                writable = true;
                ix.scan_and_hand_over();
                embedding_done = false;
            } else if let Err(err) = ws.refresh() {
                tracing::warn!(target: "sg::live", "refreshing {} failed: {err:#}", ws.root().display());
            }
            continue;
        }
        if let Some(first) = first {
            let mut msgs = vec![first];
            while let Ok(m) = rx.recv_timeout(DEBOUNCE) {
                msgs.push(m);
                if msgs.len() > 4096 {
                    break;
                }
            }
            let mut changes: HashMap<String, Change> = HashMap::new();
            let mut order: Vec<String> = Vec::new();
            let mut rescan = false;
            let mut shutdown = false;
            let mut counted = 0u64;
            for m in msgs {
                counted += 1;
                match m {
                    Msg::Text { rel, text } => {
                        if changes.insert(rel.clone(), Change::Text(text)).is_none() {
                            order.push(rel);
                        }
                    }
                    Msg::Reload { rel } => {
                        if changes.insert(rel.clone(), Change::Reload).is_none() {
                            order.push(rel);
                        }
                    }
                    Msg::Rescan => rescan = true,
                    Msg::Config(cfg) => {
                        ws.set_config(cfg);
                        rescan = true;
                    }
                    Msg::Shutdown => shutdown = true,
                }
            }
            // A read-only folder drops these: its buffers live in the overlay, and the writing
            // process indexes the disk.
            if writable {
                let mut reloads = Vec::new();
                for rel in order {
                    match changes.remove(&rel) {
                        Some(Change::Text(t)) => ix.write_text(&rel, &t),
                        Some(Change::Reload) => reloads.push(rel),
                        None => {}
                    }
                }
                if !reloads.is_empty() {
                    ix.reload(&reloads);
                }
                if rescan {
                    ix.scan_and_hand_over();
                }
                embedding_done = false;
            }
            ix.pending.fetch_sub(
                counted.min(ix.pending.load(Ordering::SeqCst)),
                Ordering::SeqCst,
            );
            if shutdown {
                tracing::info!(target: "sg::live", "closing the index of {}", ws.root().display());
                return;
            }
        }
        if writable && !embedding_done {
            let pending = ix.pending.clone();
            let interrupt = move || pending.load(Ordering::SeqCst) > 0;
            match ws.embed_pending_with(ix.progress.as_ref(), &interrupt) {
                Ok((_, complete)) => embedding_done = complete,
                Err(err) => {
                    tracing::error!(target: "sg::live", "embedding failed: {err:#}");
                    embedding_done = true;
                }
            }
        }
    }
}
