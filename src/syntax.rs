//! Language registry: file extension to tree-sitter grammar and chunking rules.
