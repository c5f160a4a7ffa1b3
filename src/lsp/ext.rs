//! sg's extensions to the protocol: the `sg/search` request and the settings, as wire types. Documented
//! in `docs/protocol.md`; the editor clients mirror these shapes.

use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::{Position, Range, Uri};

/// The `sg/search` request.
pub enum Search {}

impl tower_lsp_server::ls_types::request::Request for Search {
    type Params = SearchParams;
    type Result = SearchResult;
    const METHOD: &'static str = "sg/search";
}

/// Parameters of `sg/search` (and of the `sg.search` command).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchParams {
    /// What to look for.
    pub query: String,
    /// How many results (default: the `limit` setting, 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// `hybrid` (default), `lexical` or `semantic`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Only paths matching one of these globs.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// Only these languages.
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    /// Only these kinds of chunk.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Editor context for boosting.
    #[serde(default)]
    pub context: Option<SearchContextParams>,
    /// What the query asks for: `auto` (default, guessed), `search`, `symbol`, `definition` or
    /// `references`.
    #[serde(default)]
    pub intent: Option<String>,
}

impl SearchParams {
    /// Parses `sg/search` parameters. Unlike plain deserialisation, a value of the wrong type is
    /// reported with the name of its field (`` `query`: invalid type: integer `3`, expected a string ``).
    pub fn from_json(value: serde_json::Value) -> Result<SearchParams, String> {
        let err = match serde_json::from_value::<SearchParams>(value.clone()) {
            Ok(p) => return Ok(p),
            Err(err) => err,
        };
        let serde_json::Value::Object(obj) = &value else {
            return Err(format!("the parameters must be an object, not {value}"));
        };
        // Find the offending field by checking each one alone.
        for (k, v) in obj {
            let alone = if k == "query" {
                serde_json::from_value::<String>(v.clone()).map(|_| ())
            } else {
                let probe = serde_json::json!({ "query": "", k.as_str(): v });
                serde_json::from_value::<SearchParams>(probe).map(|_| ())
            };
            if let Err(e) = alone {
                if e.to_string().contains(&format!("`{k}`")) {
                    return Err(e.to_string());
                }
                return Err(format!("`{k}`: {e}"));
            }
        }
        Err(err.to_string())
    }
}

/// Editor context of a search.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SearchContextParams {
    /// The document being edited.
    #[serde(default)]
    pub current_uri: Option<Uri>,
    /// The cursor in it; the symbol under it is left out of the results.
    #[serde(default)]
    pub position: Option<Position>,
    /// Documents open in the editor.
    #[serde(default)]
    pub open_uris: Option<Vec<Uri>>,
}

/// The answer to `sg/search`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    /// Results, best first.
    pub results: Vec<SearchResultItem>,
    /// Time spent in the server, in milliseconds.
    pub elapsed_ms: f64,
    /// How complete the index is.
    pub index: IndexState,
    /// Why results may be partial (no model, nothing embedded yet...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The route the query took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<crate::intent::Route>,
}

/// One result of `sg/search`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResultItem {
    /// The document.
    pub uri: Uri,
    /// The answering definition's range (whole lines).
    pub range: Range,
    /// The lines that matched inside it (whole lines): the whole definition, or the piece of a large one.
    pub match_range: Range,
    /// Path relative to its workspace folder.
    pub path: String,
    /// Name of the defined symbol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Kind of chunk (function, class, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Language id.
    pub language: String,
    /// Final score.
    pub score: f32,
    /// The best-matching lines.
    pub snippet: String,
    /// Score breakdown.
    pub signals: serde_json::Value,
}

/// Index completeness, summed over the workspace folders searched.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexState {
    /// Files indexed.
    pub files: u64,
    /// Chunks indexed.
    pub chunks: u64,
    /// Files waiting to be (re)indexed.
    pub pending_files: u64,
    /// Chunks without a vector of the main model yet.
    pub pending_embeddings: u64,
    /// Of those, chunks the fast tier already makes searchable by meaning.
    pub fast_embedded: u64,
}

/// Settings, from `initializationOptions` or `workspace/didChangeConfiguration` (`settings.sg` or
/// `settings`).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Base folder of the indexes.
    pub index_dir: Option<std::path::PathBuf>,
    /// Embedding model folder.
    pub model_path: Option<std::path::PathBuf>,
    /// Extra exclusion globs.
    pub exclude: Vec<String>,
    /// Largest file indexed, in bytes.
    pub max_file_size: u64,
    /// Default number of results.
    pub limit: usize,
    /// Compute embeddings.
    pub embed: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            index_dir: None,
            model_path: None,
            exclude: Vec::new(),
            max_file_size: 1_000_000,
            limit: 10,
            embed: true,
        }
    }
}

impl Settings {
    /// Applies a JSON object of settings. Unknown keys are returned as warnings; a value of the wrong
    /// type is an error naming the key, and leaves the settings unchanged.
    pub fn apply(&mut self, value: &serde_json::Value) -> Result<Vec<String>, String> {
        let obj = match value {
            serde_json::Value::Null => return Ok(Vec::new()),
            // An empty table is an empty array to Lua's JSON encoder (Neovim's `init_options = {}`).
            serde_json::Value::Array(a) if a.is_empty() => return Ok(Vec::new()),
            serde_json::Value::Object(o) => match o.get("sg") {
                Some(serde_json::Value::Object(inner)) => inner,
                _ => o,
            },
            other => return Err(format!("settings must be an object, not {other}")),
        };
        let mut next = self.clone();
        let mut warnings = Vec::new();
        let defaults = Settings::default();
        for (k, v) in obj {
            let bad = |want: &str| format!("setting `{k}` must be {want}, not {v}");
            if v.is_null() {
                // `null` (what editors send for an unset value) restores the default.
                match k.as_str() {
                    "indexDir" => next.index_dir = defaults.index_dir.clone(),
                    "modelPath" => next.model_path = defaults.model_path.clone(),
                    "exclude" => next.exclude = defaults.exclude.clone(),
                    "maxFileSize" => next.max_file_size = defaults.max_file_size,
                    "limit" => next.limit = defaults.limit,
                    "embed" => next.embed = defaults.embed,
                    other => warnings.push(format!("unknown setting `{other}` ignored")),
                }
                continue;
            }
            match k.as_str() {
                "indexDir" => {
                    next.index_dir = Some(v.as_str().ok_or_else(|| bad("a string"))?.into())
                }
                "modelPath" => {
                    next.model_path = Some(v.as_str().ok_or_else(|| bad("a string"))?.into())
                }
                "exclude" => {
                    next.exclude =
                        serde_json::from_value(v.clone()).map_err(|_| bad("a list of strings"))?
                }
                "maxFileSize" => {
                    next.max_file_size = v.as_u64().ok_or_else(|| bad("a positive integer"))?
                }
                "limit" => {
                    next.limit = v
                        .as_u64()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad("a positive integer"))?
                        as usize
                }
                "embed" => next.embed = v.as_bool().ok_or_else(|| bad("true or false"))?,
                other => warnings.push(format!("unknown setting `{other}` ignored")),
            }
        }
        *self = next;
        Ok(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_known_keys_and_name_bad_ones() {
        let mut s = Settings::default();
        let w = s
            .apply(&serde_json::json!({"limit": 5, "exclude": ["gen/**"], "colour": "blue"}))
            .unwrap();
        assert_eq!(s.limit, 5);
        assert_eq!(s.exclude, vec!["gen/**"]);
        assert_eq!(w, vec!["unknown setting `colour` ignored"]);
        let err = s
            .apply(&serde_json::json!({"sg": {"maxFileSize": "big", "limit": 3}}))
            .unwrap_err();
        assert!(
            err.contains("`maxFileSize` must be a positive integer"),
            "{err}"
        );
        assert_eq!(s.limit, 5, "a bad value leaves every setting unchanged");
        s.apply(&serde_json::json!({"indexDir": "/x"})).unwrap();
        assert_eq!(s.index_dir.as_deref(), Some(std::path::Path::new("/x")));
        let w = s
            .apply(&serde_json::json!({"sg": {"indexDir": null, "limit": null, "modelPath": null}}))
            .unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(s.index_dir, None, "null restores the default");
        assert_eq!(s.limit, 10);
        s.apply(&serde_json::json!({"limit": 4})).unwrap();
        assert!(s.apply(&serde_json::json!([])).unwrap().is_empty());
        assert_eq!(
            s.limit, 4,
            "an empty array (Lua's empty table) is no settings"
        );
        let err = s.apply(&serde_json::json!([1])).unwrap_err();
        assert!(err.contains("settings must be an object"), "{err}");
    }

    #[test]
    fn search_params_reject_unknown_and_mistyped_fields() {
        assert!(
            serde_json::from_value::<SearchParams>(serde_json::json!({"query": "x", "limit": 3}))
                .is_ok()
        );
        let e =
            serde_json::from_value::<SearchParams>(serde_json::json!({"query": 3})).unwrap_err();
        assert!(e.to_string().contains("expected a string"), "{e}");
        assert!(serde_json::from_value::<SearchParams>(serde_json::json!({"limit": 3})).is_err());
    }

    #[test]
    fn search_param_errors_name_the_field() {
        let e = |v| SearchParams::from_json(v).unwrap_err();
        assert_eq!(
            e(serde_json::json!({"query": 3})),
            "`query`: invalid type: integer `3`, expected a string"
        );
        assert_eq!(
            e(serde_json::json!({"query": "x", "limit": "many"})),
            "`limit`: invalid type: string \"many\", expected usize"
        );
        assert_eq!(e(serde_json::json!({"limit": 5})), "missing field `query`");
        assert!(
            e(serde_json::json!({"query": "x", "colour": 1})).starts_with("unknown field `colour`"),
        );
        assert!(
            e(serde_json::json!({"query": "x", "context": {"openUris": 1}}))
                .starts_with("`context`: "),
        );
        assert_eq!(
            e(serde_json::json!("x")),
            "the parameters must be an object, not \"x\""
        );
        let p =
            SearchParams::from_json(serde_json::json!({"query": "x", "mode": "lexical"})).unwrap();
        assert_eq!(
            (p.query.as_str(), p.mode.as_deref()),
            ("x", Some("lexical"))
        );
    }
}
