//! Simulated editor contexts, to measure what the context boosts buy and cost.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Result;

use super::spec::{SpecQuery, path_matches, target_path};
use crate::search::SearchContext;

/// A simulated editor context for benchmark queries, to measure the context boosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextScenario {
    /// No editor context.
    None,
    /// The current (and open) file is related to a relevant file: it imports one, is imported by
    /// one, or, failing both, sits in the same folder.
    Related,
    /// The current file is unrelated to every relevant file: another folder, no import edge.
    Unrelated,
}

impl ContextScenario {
    /// The scenario's name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            ContextScenario::None => "none",
            ContextScenario::Related => "related",
            ContextScenario::Unrelated => "unrelated",
        }
    }

    /// The scenario called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::None, Self::Related, Self::Unrelated]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

fn folder(p: &str) -> &str {
    p.rsplit_once('/').map(|x| x.0).unwrap_or("")
}

/// The editor context a query is run with in `scenario`: the current file (also open) is picked
/// from the candidates by a hash of the query, so runs are repeatable. `None` when no file fits.
pub(crate) fn simulated_context(
    ws: &crate::index::Workspace,
    files: &[String],
    q: &SpecQuery,
    scenario: ContextScenario,
) -> Result<Option<SearchContext>> {
    let targets: Vec<&String> = files
        .iter()
        .filter(|f| q.relevant.iter().any(|t| path_matches(f, target_path(t))))
        .collect();
    if targets.is_empty() {
        return Ok(None);
    }
    let mut related: BTreeSet<String> = BTreeSet::new();
    for t in &targets {
        related.extend(ws.related_files(t, 64)?);
    }
    let is_target = |f: &str| targets.iter().any(|t| t.as_str() == f);
    let is_code = |f: &str| crate::syntax::Language::from_path(Path::new(f)).is_code();
    let candidates: Vec<&String> = match scenario {
        ContextScenario::None => return Ok(None),
        ContextScenario::Related => {
            let mut c: Vec<&String> = files
                .iter()
                .filter(|f| related.contains(*f) && !is_target(f))
                .collect();
            if c.is_empty() {
                c = files
                    .iter()
                    .filter(|f| {
                        !is_target(f)
                            && is_code(f)
                            && targets.iter().any(|t| folder(t) == folder(f))
                    })
                    .collect();
            }
            c
        }
        ContextScenario::Unrelated => files
            .iter()
            .filter(|f| {
                !is_target(f)
                    && is_code(f)
                    && !related.contains(*f)
                    && !targets.iter().any(|t| folder(t) == folder(f))
            })
            .collect(),
    };
    if candidates.is_empty() {
        return Ok(None);
    }
    let h = blake3::hash(q.query.as_bytes());
    let n = u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"));
    let pick = candidates[(n % candidates.len() as u64) as usize].clone();
    Ok(Some(SearchContext {
        current_file: Some(pick.clone()),
        open_files: vec![pick],
        ..SearchContext::default()
    }))
}
