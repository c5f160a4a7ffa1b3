//! Property tests with generated inputs: the chunker over every language, the code tokenizer, the
//! language server's input framing and the store's record decoders never panic, keep every range inside the text, and never over-allocate.
//!
//! A short run is part of `cargo test`; `PROPTEST_CASES=100000 cargo test --test props` runs a long
//! one. The binary counts the largest allocation per thread (see [`alloc`]) so that a decoder
//! reserving memory for a damaged length is caught even where the system would grant it.

mod alloc;
mod chunker;
#[cfg(feature = "lsp")]
mod framing;
mod records;
mod tokenizer;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;
