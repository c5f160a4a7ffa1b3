//! The code graph: where each name is used. Chunking reads every file's references out of its syntax
//! tree ([`crate::chunk::references`]); the store keeps them per file beside the definitions, and [`RefTable`] keeps, in
//! memory, which files use which name, up to date with every write. [`crate::agent::references`]
//! answers "where is X used" and "who calls X" with each use's enclosing definition;
//! [`RefTable::file_count`] is the centrality a search ranks by.
//!
//! Resolution is by name: a use of `parse` counts for every definition named `parse`. A qualified
//! name (`Config::parse`, `config.parse`) narrows the answer to uses written with that qualifier or in
//! files that mention it, which is an approximation, not a type check.

use std::collections::HashMap;

use crate::ids::FileId;

/// What kind of use a reference is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    /// The callee of a call (a function, method, constructor or macro).
    Call,
    /// A type position (an annotation, a generic argument, an `impl` target).
    Type,
    /// Part of an import (`use`, `import`, `require`, `#include`).
    Import,
    /// Any other mention (a value read, an argument).
    Use,
    /// A member read through a receiver and not called (`self.timeout`, `config.path`).
    Field,
}

impl RefKind {
    /// Every kind.
    pub const ALL: [RefKind; 5] = [
        RefKind::Call,
        RefKind::Type,
        RefKind::Import,
        RefKind::Use,
        RefKind::Field,
    ];

    /// The lowercase name ("call", "type", "import", "use", "field").
    pub fn name(self) -> &'static str {
        match self {
            RefKind::Call => "call",
            RefKind::Type => "type",
            RefKind::Import => "import",
            RefKind::Use => "use",
            RefKind::Field => "field",
        }
    }

    /// The kind with this [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<Self> {
        RefKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind as one byte (its place in [`RefKind::ALL`]), for the store.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The kind of a [`code`](Self::code).
    pub fn from_code(c: u8) -> Option<Self> {
        RefKind::ALL.get(c as usize).copied()
    }
}

/// One use of a name in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The name as written (without a qualifier).
    pub name: String,
    /// Its line, 1-based.
    pub line: u32,
    /// Its first column, 1-based, in bytes (as `rg --column` counts).
    pub column: u32,
    /// What kind of use it is.
    pub kind: RefKind,
}

/// Which files use which name, for the whole workspace, in memory.
#[derive(Clone, Debug, Default)]
pub struct RefTable {
    /// Name → the files using it, sorted.
    by_name: HashMap<Box<str>, Vec<FileId>>,
    /// File → the distinct names it uses.
    by_file: HashMap<FileId, Vec<Box<str>>>,
}

impl RefTable {
    /// Sets the references of one file (replacing what it had).
    pub fn set_file(&mut self, file: FileId, refs: &[Reference]) {
        self.remove_file(file);
        let mut names: Vec<&str> = refs.iter().map(|r| r.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let names: Vec<Box<str>> = names.into_iter().map(Box::from).collect();
        for n in &names {
            let files = self.by_name.entry(n.clone()).or_default();
            if let Err(i) = files.binary_search(&file) {
                files.insert(i, file);
            }
        }
        if !names.is_empty() {
            self.by_file.insert(file, names);
        }
    }

    /// Forgets one file's references.
    pub fn remove_file(&mut self, file: FileId) {
        let Some(names) = self.by_file.remove(&file) else {
            return;
        };
        for n in names {
            if let Some(files) = self.by_name.get_mut(&n) {
                if let Ok(i) = files.binary_search(&file) {
                    files.remove(i);
                }
                if files.is_empty() {
                    self.by_name.remove(&n);
                }
            }
        }
    }

    /// The files that use `name`, sorted by id.
    pub fn files(&self, name: &str) -> &[FileId] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How many files use `name`: the centrality of a definition by that name.
    pub fn file_count(&self, name: &str) -> usize {
        self.files(name).len()
    }

    /// How many files have references.
    pub fn len(&self) -> usize {
        self.by_file.len()
    }

    /// Whether no file has references.
    pub fn is_empty(&self) -> bool {
        self.by_file.is_empty()
    }

    /// Every used name, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_name.keys().map(|k| &**k)
    }
}

#[cfg(test)]
mod tests;
