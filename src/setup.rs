//! What every front end does to open a workspace: the options they share ([`CommonArgs`]: index and
//! cache folders, models, what to index), finding the workspace a command is run in, and loading the
//! embedding models those options name. The command line, the language server and the MCP server all
//! open their indexes through here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;

use crate::config::IndexConfig;
use crate::embed::{EmbedOptions, Embedder, load_model, load_model_source};
use crate::index::{OpenOptions, Workspace};

/// Options shared by every command that opens an index.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Folder of the index (default: under the user's cache folder, keyed by the workspace path).
    #[arg(long)]
    pub index_dir: Option<PathBuf>,
    /// Folder of the embedding cache shared by every workspace (default: the user's cache folder,
    /// `~/.cache/sg/embeddings` on Linux); created only when embedding.
    #[arg(long, env = "SG_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Embedding model folder (default: the model shipped with sg).
    #[arg(long, env = "SG_MODEL_PATH")]
    pub model_path: Option<PathBuf>,
    /// Lexical search only: load no embedding model.
    #[arg(long)]
    pub no_embed: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_file_size: u64,
    /// Exclude paths matching this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Index programming-language files only (no Markdown, JSON, YAML...).
    #[arg(long)]
    pub code_only: bool,
    /// Embedding threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Word pieces embedded per chunk (default: the model manifest's `max_tokens`).
    #[arg(long, env = "SG_MAX_TOKENS")]
    pub max_tokens: Option<usize>,
    /// Fast (static) model that embeds every chunk at once until the main model has reached it, and is
    /// blended into the main model's ranking after (default: the one shipped with sg, if any; `none`
    /// turns the fast tier off).
    #[arg(long, env = "SG_FAST_MODEL")]
    pub fast_model: Option<PathBuf>,
}

/// `$SG_ANN_THRESHOLD`, when it is a number: for measuring both sides of the approximate tier's threshold on
/// one workspace (eval/README.md). Anything else is reported and ignored.
fn ann_threshold_override() -> Option<usize> {
    let v = std::env::var("SG_ANN_THRESHOLD").ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            tracing::warn!(
                "SG_ANN_THRESHOLD={v:?} is not a number of vectors; the default applies"
            );
            None
        }
    }
}

/// Loads the embedding model, BERT or static as its manifest says: the given folder (an error if it fails) or
/// the default (`$SG_MODEL_PATH`, else the model compiled into the binary; a warning and lexical-only search if
/// there is none). `max_tokens` overrides the manifest's limit on word pieces per chunk (it is part of the model
/// fingerprint: changing it re-embeds everything).
pub fn load_embedder(
    model_path: Option<&Path>,
    threads: Option<usize>,
    max_tokens: Option<usize>,
) -> Result<Option<Arc<dyn Embedder>>> {
    let opts = EmbedOptions {
        threads: threads.unwrap_or(0),
        max_tokens: max_tokens.unwrap_or(0),
        // For measuring the reduced-precision paths against the float one (eval/README.md).
        quantized_queries: std::env::var_os("SG_F32_QUERIES").is_none(),
        quantized_documents: std::env::var_os("SG_F32_DOCUMENTS").is_none(),
        ..EmbedOptions::default()
    };
    match model_path {
        Some(p) => {
            let e = load_model(p, &opts)
                .with_context(|| format!("cannot load model {}", p.display()))?;
            Ok(Some(e))
        }
        None => match crate::embed::default_model_source() {
            Some(src) => match load_model_source(&src, &opts) {
                Ok(e) => Ok(Some(e)),
                Err(err) => {
                    tracing::warn!("cannot load the default model ({err:#}); lexical search only");
                    Ok(None)
                }
            },
            None => {
                tracing::warn!("no embedding model found (set SG_MODEL_PATH); lexical search only");
                Ok(None)
            }
        },
    }
}

/// Loads the fast tier: the given folder (an error if it fails), none for `none`, or the shipped static
/// model when there is one.
pub fn load_fast_embedder(path: Option<&Path>) -> Result<Option<Arc<dyn Embedder>>> {
    match path {
        Some(p) if p == Path::new("none") => Ok(None),
        Some(p) => Ok(Some(
            crate::embed::load_model(p, &EmbedOptions::default())
                .with_context(|| format!("cannot load the fast model {}", p.display()))?,
        )),
        None => match crate::embed::default_fast_model_source() {
            Some(src) => match load_model_source(&src, &EmbedOptions::default()) {
                Ok(e) => Ok(Some(e)),
                Err(err) => {
                    tracing::warn!("cannot load the shipped fast model ({err:#}); no fast tier");
                    Ok(None)
                }
            },
            None => Ok(None),
        },
    }
}

impl CommonArgs {
    /// Finds the workspace: an explicit folder as given, otherwise the one holding the current folder.
    pub fn resolve_root(&self, explicit: Option<&Path>) -> Result<crate::root::FoundRoot> {
        match explicit {
            Some(p) => Ok(crate::root::FoundRoot {
                root: p.to_path_buf(),
                subfolder: String::new(),
            }),
            None => {
                let base = self
                    .index_dir
                    .is_none()
                    .then(crate::index::default_base_dir);
                crate::root::find_root(Path::new("."), base.as_deref())
            }
        }
    }

    /// The fast tier these options ask for (none without embeddings).
    pub fn fast_embedder(&self) -> Result<Option<Arc<dyn Embedder>>> {
        if self.no_embed {
            return Ok(None);
        }
        load_fast_embedder(self.fast_model.as_deref())
    }

    /// The index configuration these options describe.
    pub fn index_config(&self) -> IndexConfig {
        IndexConfig {
            max_file_size: self.max_file_size,
            exclude: self.exclude.clone(),
            code_only: self.code_only,
            embed: !self.no_embed,
            ann_threshold: ann_threshold_override().unwrap_or(crate::config::DEFAULT_ANN_THRESHOLD),
            ..IndexConfig::default()
        }
    }

    /// Where the main model comes from, for `sg status`: a folder, `built-in <name>`, or `none`.
    pub fn model_source(&self) -> String {
        if self.no_embed {
            return "none".into();
        }
        match &self.model_path {
            Some(p) => p.display().to_string(),
            None => crate::embed::default_model_source()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "none".into()),
        }
    }

    /// The index folder these options give the workspace at `root`.
    pub fn index_dir_of(&self, root: &Path) -> Result<PathBuf> {
        match &self.index_dir {
            Some(d) => Ok(d.clone()),
            None => {
                let canonical = root
                    .canonicalize()
                    .with_context(|| format!("cannot open workspace {}", root.display()))?;
                Ok(crate::index::index_dir_for(
                    &crate::index::default_base_dir(),
                    &canonical,
                ))
            }
        }
    }

    /// What [`Workspace::open`] needs to open a workspace with these options: the models are loaded here
    /// (none with `--no-embed`), embedding with `--threads`, else `default_threads` (0: every core).
    pub fn open_options(&self, default_threads: usize) -> Result<OpenOptions> {
        let embedder = if self.no_embed {
            None
        } else {
            load_embedder(
                self.model_path.as_deref(),
                self.threads.or(Some(default_threads)),
                self.max_tokens,
            )?
        };
        Ok(OpenOptions {
            index_dir: self.index_dir.clone(),
            cache_dir: self.cache_dir.clone(),
            config: self.index_config(),
            embedder,
            fast_embedder: self.fast_embedder()?,
        })
    }

    /// Opens the workspace at `root` with these options.
    pub fn open(&self, root: &Path) -> Result<Workspace> {
        Workspace::open(root, self.open_options(0)?)
    }
}
