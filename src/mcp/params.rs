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
    /// What the query asks for: `auto` (default: guessed from its words and reported as `intent` in the
    /// answer), `search` (by meaning and words), `symbol` (a name: its definitions first), `definition`
    /// ("where is X defined": only the definitions of the name) or `references` ("who calls X", "where is
    /// X used": the definitions holding its uses).
    #[schemars(extend("enum" = ["auto", "search", "symbol", "definition", "references"]))]
    pub intent: Option<String>,
    /// What you are working on: results near the current file rank higher, files already read lower.
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
    /// Other files open or being worked on (relative to the workspace root): they rank higher.
    pub open_files: Option<Vec<String>>,
    /// Files already read in full (relative to the workspace root): they rank lower, so that a search
    /// brings something new.
    pub read_files: Option<Vec<String>>,
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

/// Arguments of `references`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferencesArgs {
    /// The name whose uses to list, plain (`parse_config`) or qualified (`Server::handle`: uses written
    /// with the qualifier, in its definitions, or in files that mention it).
    pub symbol: String,
    /// Only these kinds of use: `call`, `type`, `import`, `use` (any other mention), `field` (a member
    /// read, not called). Default: all (without member reads when the name is defined only as
    /// functions). `["call"]` answers "who calls X".
    pub kinds: Option<Vec<String>>,
    /// A file (relative to the workspace root) whose neighbours come first: the same file, its folder,
    /// files it imports or that import it.
    pub near: Option<String>,
    /// How many uses at most (1-500, default 50).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
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
