//! The reference row `bm25-functions`: plain BM25 over one document per function, computed in the same
//! run as sg's modes and scored with the same rules, so a table says how sg compares with the obvious
//! baseline on the same queries.
//!
//! Every function and method the chunker finds (`chunk::analyze(...).symbols`) in the indexed files
//! becomes one tantivy document holding that definition's lines. Documents and queries go through
//! tantivy's default tokenizer (split on non-alphanumerics, lowercase): no code-aware splitting, no
//! stemming, no field boosts. A query is the OR of its tokens, ranked by BM25.

use std::path::Path;

use anyhow::Result;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TEXT, TantivyDocument};
use tantivy::{Index, IndexReader, Term};

use super::spec::HitRef;
use crate::chunk::ChunkKind;

/// The label of the reference row in reports.
pub const BM25_FUNCTIONS: &str = "bm25-functions";

/// One document per function, searchable with plain BM25.
pub struct FunctionIndex {
    index: Index,
    reader: IndexReader,
    body: Field,
    functions: Vec<HitRef>,
}

impl FunctionIndex {
    /// Indexes the functions of `files` (paths relative to `root`, as the workspace lists them); files
    /// that cannot be read (gone, too large, binary) are left out.
    pub fn build(root: &Path, files: &[String], max_file_size: u64) -> Result<Self> {
        let mut schema = Schema::builder();
        let id = schema.add_u64_field("id", FAST);
        let body = schema.add_text_field("body", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 30_000_000)?;
        let mut functions = Vec::new();
        for rel in files {
            let Ok(text) = crate::vfs::read_text(root, rel, max_file_size) else {
                continue;
            };
            let lang = crate::vfs::detect_language(rel, &text);
            let analysis =
                crate::chunk::analyze(lang, &text, &crate::chunk::ChunkConfig::default());
            let lines: Vec<&str> = text.lines().collect();
            for sym in analysis.symbols {
                if !matches!(sym.kind, ChunkKind::Function | ChunkKind::Method) {
                    continue;
                }
                let first = (sym.start_line as usize).saturating_sub(1).min(lines.len());
                let last = (sym.end_line as usize).min(lines.len()).max(first);
                let mut doc = TantivyDocument::default();
                doc.add_u64(id, functions.len() as u64);
                doc.add_text(body, lines[first..last].join("\n"));
                writer.add_document(doc)?;
                functions.push(HitRef {
                    path: rel.clone(),
                    start_line: sym.start_line,
                    end_line: sym.end_line,
                    symbol: Some(sym.name),
                });
            }
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(FunctionIndex {
            index,
            reader,
            body,
            functions,
        })
    }

    /// The number of functions indexed.
    pub fn len(&self) -> usize {
        self.functions.len()
    }

    /// Whether no function was found.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The `k` best functions for `query`, best first.
    pub fn search(&self, query: &str, k: usize) -> Result<Vec<HitRef>> {
        let mut tokenizer = self.index.tokenizer_for_field(self.body)?;
        let mut stream = tokenizer.token_stream(query);
        let mut terms: Vec<String> = Vec::new();
        while stream.advance() {
            let t = stream.token().text.clone();
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        let clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(self.body, t),
                    IndexRecordOption::WithFreqs,
                ));
                (Occur::Should, q)
            })
            .collect();
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(k).order_by_score(),
        )?;
        let mut hits = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let ids = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("id")?;
            if let Some(f) = ids
                .first(addr.doc_id)
                .and_then(|i| self.functions.get(i as usize))
            {
                hits.push(f.clone());
            }
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_function_is_one_document_ranked_by_plain_bm25() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.py"),
            "def parse_config(path):\n    text = open(path).read()\n    return toml.loads(text)\n\n\ndef send_mail(to, body):\n    smtp = connect()\n    smtp.send(to, body)\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.rs"),
            "/// Mail.\nfn retryMail(n: u32) {\n    for _ in 0..n {\n        send();\n    }\n}\n",
        )
        .unwrap();
        let files = vec![
            "a.py".to_string(),
            "b.rs".to_string(),
            "gone.rs".to_string(),
        ];
        let idx = FunctionIndex::build(dir.path(), &files, 1 << 20).unwrap();
        assert_eq!(idx.len(), 3);
        let hits = idx.search("SMTP send", 10).unwrap();
        assert_eq!(
            hits[0],
            HitRef {
                path: "a.py".into(),
                start_line: 6,
                end_line: 8,
                symbol: Some("send_mail".into()),
            }
        );
        // The plain tokenizer splits at `_` but not at camelCase humps.
        let hits = idx.search("config", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].symbol.as_deref(), Some("parse_config"));
        assert!(idx.search("retry", 10).unwrap().is_empty());
        let hits = idx.search("RETRYMAIL loop", 10).unwrap();
        assert_eq!((hits[0].path.as_str(), hits[0].start_line), ("b.rs", 2));
        assert!(idx.search("", 10).unwrap().is_empty());
    }
}
