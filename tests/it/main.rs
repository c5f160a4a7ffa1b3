//! Integration tests: one binary, modules per area, fixtures written as strings.

mod support;

mod cli;
mod definitions;
mod engine;
mod faults;
mod first_contact;
mod graph;
#[cfg(unix)]
mod hostile_files;
mod own_index;
mod quality;
