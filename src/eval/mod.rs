//! Search-quality evaluation: query specs, the public benchmark importer, ranking metrics (NDCG@10,
//! P@1, MRR@10, Recall@k, Recall AUC) and latency, for each retrieval mode side by side.
//!
//! One responsibility per file: `spec` (the format and the matching rules), `metrics`, `semble` (the
//! public benchmark as specs), `generate` (doc-to-code specs of any folder), `context` (simulated editor
//! contexts), `runner` (indexing and querying), `report` (aggregation and rendering), `command` (`sg eval`).

mod command;
mod context;
mod generate;
mod metrics;
mod reference;
mod report;
mod runner;
mod semble;
mod spec;

pub use command::{EvalArgs, run};
pub use context::ContextScenario;
pub use generate::generate_spec;
pub use metrics::{QueryMetrics, Summary, metrics, percentile, summarise};
pub use reference::{BM25_FUNCTIONS, FunctionIndex};
pub use report::{Report, render_report};
pub use runner::{EvalOptions, EvalRun, evaluate};
pub use semble::import_semble;
pub use spec::{HitRef, LineSpan, Spec, SpecContext, SpecQuery, Target, function_hit};
