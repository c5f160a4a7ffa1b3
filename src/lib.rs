//! sg: local hybrid code search — a syntax-aware, always-fresh index answering natural-language and
//! identifier queries from the command line and over the Language Server Protocol.

#![warn(missing_docs)]

pub mod agent;
pub mod ann;
pub mod answer;
pub mod background;
pub mod chunk;
pub mod cli;
pub mod config;
pub mod confine;
pub mod embed;
pub mod eval;
pub mod graph;
pub mod ids;
pub mod imports;
pub mod index;
pub mod index_dir;
pub mod intent;
pub mod lexical;
pub mod live;
pub mod lmdb_file;
#[cfg(feature = "lsp")]
pub mod lsp;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod models;
pub mod overlay;
pub mod query;
pub mod root;
pub mod search;
pub mod session;
pub mod setup;
pub mod store;
pub mod symbols;
pub mod syntax;
pub mod terminal;
pub mod vectors;
pub mod vfs;
pub mod wire;
