//! The tools' arguments as the client sends them, with the JSON schemas the client is shown.

use schemars::JsonSchema;
use serde::Deserialize;

/// Arguments of `search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// What to look for: plain words ("where are failed HTTP requests retried") or an identifier
    /// (`parse_config`). At most 4096 bytes.
    pub query: String,
    /// How many results at most (1-100, default 10).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// Retrieval mode: `hybrid` (default: words and meaning), `lexical` (words and names only) or
    /// `semantic` (meaning only).
    #[schemars(extend("enum" = ["hybrid", "lexical", "semantic"]))]
    pub mode: Option<String>,
    /// Only files whose workspace-relative path matches one of these globs, e.g. `src/**/*.rs`; a glob
    /// without `/` matches in any folder (`*.py`).
    pub paths: Option<Vec<String>>,
    /// Only these languages, e.g. `rust`, `python`, `typescript`, `go`, `markdown`.
    pub languages: Option<Vec<String>>,
    /// Only these kinds of definition: function, method, class, struct, enum, interface, trait, impl,
    /// module, type, constant, macro, section (Markdown), block, window (lines outside definitions).
    pub kinds: Option<Vec<String>>,
    /// What you are working on: results near the current file rank higher.
    pub context: Option<SearchContextArgs>,
    /// Budget for the code in the answer, in tokens estimated as bytes / 4 (default 4000, at least 100):
    /// whole definitions first, in rank order, then only the signature and matched lines of the rest.
    #[schemars(range(min = 100))]
    pub max_tokens: Option<u32>,
}

/// What the caller is working on.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchContextArgs {
    /// The file being worked on (relative to the workspace root).
    pub current_file: Option<String>,
    /// Other files open or recently read (relative to the workspace root).
    pub open_files: Option<Vec<String>>,
}

/// Arguments of `definition`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionArgs {
    /// The definition's name, plain (`parse_config`) or qualified by its container (`Server::handle`,
    /// `Server.handle`).
    pub symbol: String,
    /// How many definitions at most (default 5).
    #[schemars(range(min = 1, max = 50))]
    pub limit: Option<u32>,
    /// Budget for the code, in tokens estimated as bytes / 4 (default 4000, at least 100).
    #[schemars(range(min = 100))]
    pub max_tokens: Option<u32>,
}

/// Arguments of `outline`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutlineArgs {
    /// A file or folder, relative to the workspace root (`.` for the whole workspace).
    pub path: String,
}

/// Arguments of `read`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadArgs {
    /// The file, relative to the workspace root.
    pub path: String,
    /// A line in it (1-based): the innermost definition that holds it is returned.
    #[schemars(range(min = 1))]
    pub line: Option<u32>,
    /// Or a definition's name in the file (`handle`, `Server::handle`).
    pub symbol: Option<String>,
}

/// Arguments of `status` and `reindex` (none).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}
