//! Integration tests: one binary, modules per area, fixtures written as strings.

mod support;

mod cli;
mod engine;
#[cfg(unix)]
mod hostile_files;
mod quality;
