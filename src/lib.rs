//! sg: local hybrid code search — a syntax-aware, always-fresh index answering natural-language and
//! identifier queries from the command line and over the Language Server Protocol.

#![warn(missing_docs)]

pub mod chunk;
pub mod embed;
pub mod ids;
pub mod lexical;
pub mod syntax;
