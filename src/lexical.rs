//! The lexical (BM25) side of the index: a code-aware tantivy tokenizer, schema, writer and searcher.
