//! Integration tests: one binary, modules per area, fixtures written as strings.

mod support;

mod cli;
mod engine;
mod own_index;
mod quality;
