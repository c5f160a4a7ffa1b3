//! One indexer thread per workspace folder: the only writer of its index. It receives change messages
//! (editor buffers, file-watcher events, rescans), coalesces them, updates the index, and embeds new
//! chunks between messages so that edits never wait behind a long embedding backlog.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use dashmap::DashMap;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::Watcher;

use crate::config::IndexConfig;
use crate::index::{Progress, Workspace};
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

/// A workspace folder served by the language server.
pub struct Folder {
    /// The folder's canonical path.
    pub root: PathBuf,
    /// The index.
    pub ws: Arc<Workspace>,
    tx: Mutex<Sender<Msg>>,
    pending: Arc<AtomicU64>,
    thread: Mutex<Option<JoinHandle<()>>>,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Folder {
    /// Starts the indexer thread (which scans the folder first) and the file watcher.
    pub fn start(
        ws: Arc<Workspace>,
        open_paths: Arc<DashMap<PathBuf, ()>>,
        progress: Box<dyn Progress>,
    ) -> Arc<Folder> {
        let (tx, rx) = std::sync::mpsc::channel();
        let pending = Arc::new(AtomicU64::new(0));
        let root = ws.root().to_path_buf();
        let watcher = start_watcher(&root, ws.config(), tx.clone(), pending.clone(), open_paths);
        let thread = {
            let ws = ws.clone();
            let pending = pending.clone();
            std::thread::Builder::new()
                .name(format!(
                    "sg-indexer-{}",
                    root.file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default()
                ))
                .spawn(move || run(ws, rx, pending, progress))
                .expect("spawning a thread")
        };
        Arc::new(Folder {
            root,
            ws,
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

    /// The path of `abs` relative to this folder, if inside it.
    pub fn rel(&self, abs: &Path) -> Option<String> {
        vfs::rel_path(&self.root, abs)
    }

    /// Stops the indexer and waits for it (the index is closed cleanly).
    pub fn stop(&self) {
        self.send(Msg::Shutdown);
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

fn ignore_matcher(root: &Path) -> Gitignore {
    let mut b = GitignoreBuilder::new(root);
    for name in [".gitignore", ".ignore", ".sgignore"] {
        let p = root.join(name);
        if p.is_file() {
            let _ = b.add(p);
        }
    }
    b.build().unwrap_or_else(|_| Gitignore::empty())
}

fn start_watcher(
    root: &Path,
    cfg: IndexConfig,
    tx: Sender<Msg>,
    pending: Arc<AtomicU64>,
    open_paths: Arc<DashMap<PathBuf, ()>>,
) -> Option<notify::RecommendedWatcher> {
    let root_owned = root.to_path_buf();
    let ignore = ignore_matcher(root);
    let handler = move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if event.kind.is_access() {
            return;
        }
        for path in event.paths {
            if open_paths.contains_key(&path) {
                continue;
            }
            let Some(rel) = vfs::rel_path(&root_owned, &path) else {
                continue;
            };
            if path.is_dir()
                || !vfs::is_indexable(&root_owned, &rel, &cfg)
                || ignore.matched_path_or_any_parents(&path, false).is_ignore()
            {
                continue;
            }
            pending.fetch_add(1, Ordering::SeqCst);
            let _ = tx.send(Msg::Reload { rel });
        }
    };
    match notify::recommended_watcher(handler) {
        Ok(mut w) => match w.watch(root, notify::RecursiveMode::Recursive) {
            Ok(()) => Some(w),
            Err(err) => {
                tracing::warn!(target: "sg::lsp", "cannot watch {}: {err}; relying on the editor's file events", root.display());
                None
            }
        },
        Err(err) => {
            tracing::warn!(target: "sg::lsp", "no file watcher: {err}");
            None
        }
    }
}

/// What to do with one file after coalescing.
enum Change {
    Text(String),
    Reload,
}

fn read_disk(ws: &Workspace, rel: &str) -> Option<String> {
    vfs::read_text(ws.root(), rel, ws.config().max_file_size).ok()
}

fn scan(ws: &Workspace, progress: &dyn Progress) {
    if let Err(err) = ws.scan(progress) {
        tracing::error!(target: "sg::lsp", "indexing {} failed: {err:#}", ws.root().display());
    }
}

fn run(
    ws: Arc<Workspace>,
    rx: Receiver<Msg>,
    pending: Arc<AtomicU64>,
    progress: Box<dyn Progress>,
) {
    let mut writable = ws.is_writable();
    if writable {
        scan(&ws, progress.as_ref());
    } else {
        tracing::info!(
            target: "sg::lsp",
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
                scan(&ws, progress.as_ref());
                embedding_done = false;
            } else if let Err(err) = ws.refresh() {
                tracing::warn!(target: "sg::lsp", "refreshing {} failed: {err:#}", ws.root().display());
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
            if writable {
                for rel in order {
                    let text = match changes.remove(&rel) {
                        Some(Change::Text(t)) => Some(t),
                        Some(Change::Reload) => read_disk(&ws, &rel),
                        None => continue,
                    };
                    if let Err(err) = ws.update_file(&rel, text.as_deref()) {
                        tracing::warn!(target: "sg::lsp", "indexing {rel} failed: {err:#}");
                    }
                }
                if rescan {
                    scan(&ws, progress.as_ref());
                }
                embedding_done = false;
            }
            pending.fetch_sub(
                counted.min(pending.load(Ordering::SeqCst)),
                Ordering::SeqCst,
            );
            if shutdown {
                tracing::info!(target: "sg::lsp", "closing the index of {}", ws.root().display());
                return;
            }
        }
        if writable && !embedding_done {
            let interrupt = || pending.load(Ordering::SeqCst) > 0;
            match ws.embed_pending_with(progress.as_ref(), &interrupt) {
                Ok((_, complete)) => embedding_done = complete,
                Err(err) => {
                    tracing::error!(target: "sg::lsp", "embedding failed: {err:#}");
                    embedding_done = true;
                }
            }
        }
    }
}
