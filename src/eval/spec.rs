//! The spec format: a workspace, queries and their relevant targets, and the rule that matches a hit
//! to a target.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::query::SearchHit;

/// A query spec: a workspace and queries with their relevant targets.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Spec {
    /// Name shown in reports.
    #[serde(default)]
    pub name: String,
    /// Workspace root; relative paths are relative to the spec file.
    pub root: PathBuf,
    /// Index programming-language files only (the public benchmark's protocol).
    #[serde(default)]
    pub code_only: bool,
    /// The queries.
    pub queries: Vec<SpecQuery>,
}

/// One query of a spec.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SpecQuery {
    /// The query text.
    pub query: String,
    /// A category for per-category tables (e.g. semantic, architecture, symbol).
    #[serde(default)]
    pub category: Option<String>,
    /// The language of the code that answers (e.g. `python`), for the per-language tables; a query
    /// without one takes its workspace's language, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// What counts as a right answer.
    pub relevant: Vec<Target>,
    /// Editor context to search with.
    #[serde(default)]
    pub context: Option<SpecContext>,
}

/// A relevant target: a file, a line span of a file, a symbol of a file, or a function of a file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Target {
    /// A whole file.
    Path(String),
    /// A file with an optional span or symbol and an optional graded gain.
    Detailed {
        /// Path relative to the root.
        path: String,
        /// First line of the span, 1-based.
        #[serde(default)]
        start_line: Option<u32>,
        /// Last line of the span, 1-based inclusive.
        #[serde(default)]
        end_line: Option<u32>,
        /// Symbol name that must match.
        #[serde(default)]
        symbol: Option<String>,
        /// A function's lines: the hit must be that function at its own range ([`function_hit`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        function: Option<LineSpan>,
        /// Gain for graded NDCG (default 1).
        #[serde(default)]
        gain: Option<f64>,
    },
}

/// Lines of a file, 1-based and inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct LineSpan {
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
}

/// The function rule: a hit on lines `hit_start..=hit_end` is the function on lines `a..=b` when it
/// starts at most 2 lines below the function's first line (a doc comment or decorator above may be
/// included), reaches at least that line, and is at most twice the function's length plus 30 lines
/// (so a whole file or a class that contains the function is not it).
pub fn function_hit(hit_start: u32, hit_end: u32, a: u32, b: u32) -> bool {
    let len = u64::from(b.saturating_sub(a)) + 1;
    u64::from(hit_start) <= u64::from(a) + 2
        && hit_end >= a
        && u64::from(hit_end.saturating_sub(hit_start)) <= 2 * len + 30
}

/// Editor context of a spec query.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct SpecContext {
    /// The current file.
    #[serde(default)]
    pub current: Option<String>,
    /// Open files.
    #[serde(default)]
    pub open: Vec<String>,
}

/// A ranked answer as the metrics see it.
#[derive(Clone, Debug, PartialEq)]
pub struct HitRef {
    /// Path relative to the root.
    pub path: String,
    /// First line.
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// Symbol, if any.
    pub symbol: Option<String>,
}

impl From<&SearchHit> for HitRef {
    fn from(h: &SearchHit) -> Self {
        HitRef {
            path: h.path.clone(),
            start_line: h.start_line,
            end_line: h.end_line,
            symbol: h.symbol.clone(),
        }
    }
}

pub(crate) fn path_matches(hit: &str, target: &str) -> bool {
    let hit = hit.trim_matches('/');
    let target = target.trim_matches('/');
    hit == target
        || (hit.len() > target.len()
            && hit.ends_with(target)
            && hit.as_bytes()[hit.len() - target.len() - 1] == b'/')
        || (target.len() > hit.len()
            && target.ends_with(hit)
            && target.as_bytes()[target.len() - hit.len() - 1] == b'/')
}

impl Target {
    pub(crate) fn gain(&self) -> f64 {
        match self {
            Target::Path(_) => 1.0,
            Target::Detailed { gain, .. } => gain.unwrap_or(1.0),
        }
    }

    /// Whether a hit matches this target (same rules as the public benchmark's scorer: path by `/`-suffix
    /// either way, overlapping lines when the target has a span, equal symbol when it names one; and
    /// [`function_hit`] when it names a function).
    pub fn matches(&self, h: &HitRef) -> bool {
        match self {
            Target::Path(p) => path_matches(&h.path, p),
            Target::Detailed {
                path,
                start_line,
                end_line,
                symbol,
                function,
                ..
            } => {
                if !path_matches(&h.path, path) {
                    return false;
                }
                if let Some(f) = function
                    && !function_hit(h.start_line, h.end_line, f.start_line, f.end_line)
                {
                    return false;
                }
                let span_ok = match (start_line, end_line) {
                    (Some(s), Some(e)) => h.end_line >= *s && h.start_line <= *e,
                    _ => true,
                };
                let symbol_ok = symbol
                    .as_ref()
                    .is_none_or(|sym| h.symbol.as_deref() == Some(sym.as_str()));
                span_ok && symbol_ok
            }
        }
    }
}

pub(crate) fn target_path(t: &Target) -> &str {
    match t {
        Target::Path(p) => p,
        Target::Detailed { path, .. } => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics;

    fn hit(p: &str, s: u32, e: u32) -> HitRef {
        HitRef {
            path: p.into(),
            start_line: s,
            end_line: e,
            symbol: None,
        }
    }

    #[test]
    fn spans_and_symbols_must_match() {
        let t = vec![Target::Detailed {
            path: "a.rs".into(),
            start_line: Some(10),
            end_line: Some(20),
            symbol: None,
            function: None,
            gain: None,
        }];
        assert_eq!(metrics(&[hit("a.rs", 1, 9)], &t).ndcg10, 0.0);
        assert_eq!(metrics(&[hit("a.rs", 15, 30)], &t).ndcg10, 1.0);
        let ts = vec![Target::Detailed {
            path: "a.rs".into(),
            start_line: None,
            end_line: None,
            symbol: Some("run".into()),
            function: None,
            gain: None,
        }];
        let mut h = hit("a.rs", 1, 9);
        assert_eq!(metrics(std::slice::from_ref(&h), &ts).ndcg10, 0.0);
        h.symbol = Some("run".into());
        assert_eq!(metrics(&[h], &ts).ndcg10, 1.0);
    }

    #[test]
    fn path_suffix_matching_is_by_whole_segments() {
        assert!(path_matches("tokio/src/sync/mutex.rs", "sync/mutex.rs"));
        assert!(path_matches("src/sync/mutex.rs", "tokio/src/sync/mutex.rs"));
        assert!(!path_matches("src/sync/xmutex.rs", "mutex.rs"));
    }

    #[test]
    fn a_function_target_takes_the_function_at_its_own_range() {
        // The function spans lines 100..=119 (20 lines) of a 500-line file.
        let t = Target::Detailed {
            path: "pkg/mod.py".into(),
            start_line: None,
            end_line: None,
            symbol: None,
            function: Some(LineSpan {
                start_line: 100,
                end_line: 119,
            }),
            gain: None,
        };
        // The function itself, and with its doc comment above.
        assert!(t.matches(&hit("repo/pkg/mod.py", 100, 119)));
        assert!(t.matches(&hit("pkg/mod.py", 96, 119)));
        // Its first lines only (a head chunk) still start at it.
        assert!(t.matches(&hit("pkg/mod.py", 100, 104)));
        // The whole file is not the function, nor is a chunk starting 3 lines into it.
        assert!(!t.matches(&hit("pkg/mod.py", 1, 500)));
        assert!(!t.matches(&hit("pkg/mod.py", 103, 119)));
        // A hit that ends above it, or the right lines of another file.
        assert!(!t.matches(&hit("pkg/mod.py", 80, 99)));
        assert!(!t.matches(&hit("pkg/other.py", 100, 119)));
        // The size limit is 2 × 20 + 30 = 70 lines: a 70-line span containing it passes, 71 does not.
        assert!(t.matches(&hit("pkg/mod.py", 60, 130)));
        assert!(!t.matches(&hit("pkg/mod.py", 60, 131)));
        assert_eq!(
            metrics(
                &[hit("pkg/mod.py", 1, 500), hit("pkg/mod.py", 99, 120)],
                &[t]
            )
            .mrr10,
            0.5
        );
    }

    #[test]
    fn function_targets_are_read_from_json() {
        let q: SpecQuery = serde_json::from_str(
            r#"{"query": "q", "language": "go",
                "relevant": [{"path": "a.go", "function": {"start_line": 3, "end_line": 9}}]}"#,
        )
        .unwrap();
        assert_eq!(q.language.as_deref(), Some("go"));
        let Target::Detailed { function, .. } = &q.relevant[0] else {
            panic!("a detailed target")
        };
        assert_eq!(
            *function,
            Some(LineSpan {
                start_line: 3,
                end_line: 9
            })
        );
    }
}
