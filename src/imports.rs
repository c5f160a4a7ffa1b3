//! Which workspace files a file imports, and which import it: import statements read line by line per
//! language and resolved against the workspace's paths, for the editor-context boost.
//!
//! Resolution is by path suffix, not by each language's module system: `use crate::sync::mpsc::chan::Tx`
//! finds `src/sync/mpsc/chan.rs`, `from aiohttp.client import ClientSession` finds `aiohttp/client.py`,
//! `#include "absl/strings/str_cat.h"` finds `absl/strings/str_cat.h` (and `str_cat.cc` beside it), a Go
//! import path finds the folder of its package. Relative imports (`./x`, `super::`, `from . import`) are
//! resolved from the importing file. A bare name that several files share is ambiguous and resolves to
//! nothing; so do packages from outside the workspace.

use std::collections::{HashMap, HashSet};

use crate::syntax::Language;

/// How an import's path is matched against the workspace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Style {
    /// Longest prefix first: trailing segments may name items inside the module (`a::b::Item`).
    Prefixes,
    /// Longest suffix first: leading segments name a module or host outside the workspace (Go, C).
    Suffixes,
}

/// One import statement's target, in path segments (file extension dropped).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImportSpec {
    segments: Vec<String>,
    /// Segments are a path from the workspace root (a relative import resolved from its file).
    rooted: bool,
    style: Style,
}

const MODULE_FILES: &[&str] = &["mod", "__init__", "index", "lib", "main"];

fn strip_ext(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    }
}

/// `a/b/c.rs` → the folder segments `[a, b]` and the stem `c`.
fn split_path(path: &str) -> (Vec<&str>, &str) {
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let file = segs.pop().unwrap_or("");
    (segs, strip_ext(file))
}

/// Joins `rel` (with `.` and `..` segments) onto `base`; `None` if it climbs above the root.
fn join_relative(base: &[&str], rel: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s.to_string()),
        }
    }
    if let Some(last) = out.last_mut() {
        *last = strip_ext(last).to_string();
    }
    Some(out)
}

fn camel_to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The first quoted string in `s` (single, double or back quotes).
fn quoted(s: &str) -> Option<&str> {
    let start = s.find(['"', '\'', '`'])?;
    let q = s[start..].chars().next()?;
    let rest = &s[start + 1..];
    let end = rest.find(q)?;
    Some(&rest[..end])
}

/// Expands Rust's `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand_braces(s: &str, out: &mut Vec<String>) {
    let Some(open) = s.find('{') else {
        out.push(s.to_string());
        return;
    };
    let Some(close) = s.rfind('}') else {
        out.push(s[..open].to_string());
        return;
    };
    let prefix = &s[..open];
    let inner = &s[open + 1..close.max(open + 1)];
    let mut depth = 0;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    for p in parts {
        let p = p.trim();
        if p.is_empty() || p == "self" {
            out.push(prefix.trim_end_matches("::").to_string());
        } else {
            expand_braces(&format!("{prefix}{p}"), out);
        }
    }
}

fn spec(segments: Vec<String>, rooted: bool, style: Style) -> Option<ImportSpec> {
    let segments: Vec<String> = segments.into_iter().filter(|s| !s.is_empty()).collect();
    (!segments.is_empty()).then_some(ImportSpec {
        segments,
        rooted,
        style,
    })
}

fn dotted(s: &str, sep: &str) -> Vec<String> {
    s.split(sep)
        .map(|p| p.trim())
        .filter(|p| !p.is_empty() && *p != "*")
        .map(str::to_string)
        .collect()
}

/// Statements that may span lines (Rust `use` with braces, Python parenthesised imports) joined into one.
fn statements(text: &str, starts: &[&str], end: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(c) = cur.as_mut() {
            c.push(' ');
            c.push_str(t);
            if t.contains(end) || c.len() > 4000 {
                out.push(cur.take().unwrap_or_default());
            }
            continue;
        }
        if starts.iter().any(|s| t.starts_with(s)) {
            if t.contains(end) {
                out.push(t.to_string());
            } else {
                cur = Some(t.to_string());
            }
        }
    }
    out.extend(cur);
    out
}

fn rust_specs(path: &str, text: &str) -> Vec<ImportSpec> {
    let (dir, stem) = split_path(path);
    // The folder holding this module's children: `a/b.rs` → `a/b`, `a/mod.rs` → `a`.
    let mut module_dir: Vec<&str> = dir.clone();
    if !MODULE_FILES.contains(&stem) {
        module_dir.push(stem);
    }
    let mut out = Vec::new();
    for st in statements(
        text,
        &["use ", "pub use ", "pub(crate) use ", "mod ", "pub mod "],
        ';',
    ) {
        let st = st.trim_end_matches(';');
        let body = st
            .strip_prefix("pub(crate) ")
            .or_else(|| st.strip_prefix("pub "))
            .unwrap_or(st);
        if let Some(m) = body.strip_prefix("mod ") {
            let name = m.trim();
            if !name.contains('{') && !name.is_empty() {
                let mut segs: Vec<String> = module_dir.iter().map(|s| s.to_string()).collect();
                segs.push(name.to_string());
                out.extend(spec(segs, true, Style::Prefixes));
            }
            continue;
        }
        let Some(u) = body.strip_prefix("use ") else {
            continue;
        };
        let mut compact: String = u.split_whitespace().collect::<Vec<_>>().join(" ");
        // Drop renames (`Foo as Bar`) before spaces go.
        while let Some(i) = compact.find(" as ") {
            let rest = &compact[i + 4..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            compact.replace_range(i..i + 4 + end, "");
        }
        let mut paths = Vec::new();
        expand_braces(&compact.replace(' ', ""), &mut paths);
        for p in paths {
            let mut segs: Vec<String> = dotted(&p, "::");
            match segs.first().map(String::as_str) {
                Some("crate") => {
                    segs.remove(0);
                    out.extend(spec(segs, false, Style::Prefixes));
                }
                Some("self") | Some("super") => {
                    let mut base: Vec<String> = module_dir.iter().map(|s| s.to_string()).collect();
                    while segs.first().map(String::as_str) == Some("super") {
                        segs.remove(0);
                        base.pop();
                    }
                    if segs.first().map(String::as_str) == Some("self") {
                        segs.remove(0);
                    }
                    base.extend(segs);
                    out.extend(spec(base, true, Style::Prefixes));
                }
                _ => out.extend(spec(segs, false, Style::Prefixes)),
            }
        }
    }
    out
}

fn python_specs(path: &str, text: &str) -> Vec<ImportSpec> {
    let (dir, _) = split_path(path);
    let mut out = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut open: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(cur) = open.as_mut() {
            cur.push(' ');
            cur.push_str(t);
            if t.contains(')') {
                lines.extend(open.take());
            }
        } else if t.starts_with("import ") || t.starts_with("from ") {
            if t.contains('(') && !t.contains(')') {
                open = Some(t.to_string());
            } else {
                lines.push(t.to_string());
            }
        }
    }
    for st in lines {
        let st = st.split('#').next().unwrap_or("");
        if let Some(rest) = st.strip_prefix("import ") {
            for m in rest.split(',') {
                let m = m.split(" as ").next().unwrap_or("").trim();
                out.extend(spec(dotted(m, "."), false, Style::Prefixes));
            }
        } else if let Some(rest) = st.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                continue;
            };
            let module = module.trim();
            let dots = module.chars().take_while(|c| *c == '.').count();
            let (base, rooted) = if dots > 0 {
                let keep = dir.len().checked_sub(dots - 1);
                let Some(keep) = keep else { continue };
                (
                    dir[..keep]
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>(),
                    true,
                )
            } else {
                (Vec::new(), false)
            };
            let mut segs = base;
            segs.extend(dotted(&module[dots..], "."));
            let names = names.trim().trim_start_matches('(').trim_end_matches(')');
            for n in names.split(',') {
                let n = n.split(" as ").next().unwrap_or("").trim();
                if n.is_empty() || n == "*" || !n.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let mut s = segs.clone();
                s.push(n.to_string());
                out.extend(spec(s, rooted, Style::Prefixes));
            }
            out.extend(spec(segs, rooted, Style::Prefixes));
        }
    }
    out
}

/// JavaScript/TypeScript, Zig and Ruby: quoted paths after import-like keywords.
fn quoted_specs(path: &str, text: &str, keys: &[&str], relative_only: bool) -> Vec<ImportSpec> {
    let (dir, _) = split_path(path);
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("//") || t.starts_with('*') || t.starts_with('#') {
            continue;
        }
        for key in keys {
            let mut rest = t;
            while let Some(i) = rest.find(key) {
                let after = &rest[i + key.len()..];
                rest = after;
                let Some(q) = quoted(after.get(..after.len().min(120)).unwrap_or(after)) else {
                    continue;
                };
                let relative = q.starts_with('.') || *key == "require_relative";
                if relative {
                    let base: &[&str] = &dir;
                    if let Some(segs) = join_relative(base, q) {
                        out.extend(spec(segs, true, Style::Prefixes));
                    }
                } else if !relative_only {
                    let segs: Vec<String> = q
                        .split('/')
                        .map(|s| strip_ext(s).to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    out.extend(spec(segs, false, Style::Suffixes));
                }
                break;
            }
        }
    }
    out
}

fn go_specs(text: &str) -> Vec<ImportSpec> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        let t = line.trim();
        let target = if in_block {
            if t.starts_with(')') {
                in_block = false;
                continue;
            }
            quoted(t)
        } else if let Some(rest) = t.strip_prefix("import") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
                quoted(rest)
            } else {
                quoted(rest)
            }
        } else {
            None
        };
        if let Some(q) = target {
            out.extend(spec(dotted(q, "/"), false, Style::Suffixes));
        }
    }
    out
}

fn c_specs(path: &str, text: &str) -> Vec<ImportSpec> {
    let (dir, _) = split_path(path);
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("include") else {
            continue;
        };
        let rest = rest.trim();
        let target = if let Some(r) = rest.strip_prefix('<') {
            r.split('>').next()
        } else {
            quoted(rest)
        };
        let Some(q) = target else { continue };
        if rest.starts_with('"')
            && let Some(segs) = join_relative(&dir, q)
        {
            out.extend(spec(segs, true, Style::Prefixes));
        }
        let segs: Vec<String> = q.split('/').map(|s| strip_ext(s).to_string()).collect();
        out.extend(spec(segs, false, Style::Suffixes));
    }
    out
}

/// `import a.b.C;`-like languages (Java, Kotlin, Scala, C#, Haskell, PHP, Elixir, Lua, Swift).
fn keyword_specs(text: &str, keywords: &[&str], sep: &str, snake: bool) -> Vec<ImportSpec> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        for kw in keywords {
            let Some(rest) = t.strip_prefix(kw) else {
                continue;
            };
            let rest = rest
                .trim_start_matches("static ")
                .trim_start_matches("qualified ")
                .trim();
            let rest = rest
                .split([';', ' ', ',', '(', '{'])
                .next()
                .unwrap_or("")
                .trim_matches(|c| c == '"' || c == '\'');
            let mut segs = dotted(rest, sep);
            if snake {
                segs = segs.iter().map(|s| camel_to_snake(s)).collect();
            }
            out.extend(spec(segs, false, Style::Prefixes));
            break;
        }
    }
    out
}

/// The import statements of a file, as unresolved specs.
pub fn import_specs(path: &str, language: Language, text: &str) -> Vec<ImportSpec> {
    use Language as L;
    let mut specs = match language {
        L::Rust => rust_specs(path, text),
        L::Python => python_specs(path, text),
        L::JavaScript | L::TypeScript | L::Tsx => quoted_specs(
            path,
            text,
            &["from ", "import ", "import(", "require(", "export * from"],
            false,
        ),
        L::Zig => quoted_specs(path, text, &["@import("], true),
        L::Ruby => quoted_specs(path, text, &["require_relative", "require "], false),
        L::Go => go_specs(text),
        L::C | L::Cpp => c_specs(path, text),
        L::Java | L::Kotlin | L::Scala => keyword_specs(text, &["import "], ".", false),
        L::CSharp => keyword_specs(text, &["using "], ".", false),
        L::Haskell => keyword_specs(text, &["import "], ".", false),
        L::Php => keyword_specs(text, &["use "], "\\", false),
        L::Elixir => keyword_specs(text, &["alias ", "import ", "use ", "require "], ".", true),
        L::Lua => keyword_specs(text, &["require ", "require("], ".", false),
        _ => Vec::new(),
    };
    let mut seen = HashSet::new();
    specs.retain(|s| seen.insert(s.clone()));
    specs
}

/// Import edges between the files of a workspace.
#[derive(Clone, Debug, Default)]
pub struct ImportGraph {
    specs: HashMap<String, Vec<ImportSpec>>,
    resolved: Option<Resolved>,
}

#[derive(Clone, Debug, Default)]
struct Resolved {
    imports: HashMap<String, Vec<String>>,
    imported_by: HashMap<String, Vec<String>>,
}

/// Files reachable by a key: path suffixes of each file (extension dropped) and of its package folder.
struct Keys<'a> {
    suffix: HashMap<String, Vec<&'a str>>,
    full: HashMap<String, Vec<&'a str>>,
}

impl<'a> Keys<'a> {
    fn new(paths: impl Iterator<Item = &'a str>) -> Self {
        let mut suffix: HashMap<String, Vec<&'a str>> = HashMap::new();
        let mut full: HashMap<String, Vec<&'a str>> = HashMap::new();
        for p in paths {
            let (dir, stem) = split_path(p);
            let mut segs: Vec<&str> = dir.clone();
            segs.push(stem);
            let mut add = |segs: &[&str]| {
                for i in 0..segs.len() {
                    suffix.entry(segs[i..].join("/")).or_default().push(p);
                }
                if !segs.is_empty() {
                    full.entry(segs.join("/")).or_default().push(p);
                }
            };
            add(&segs);
            // A package folder names its module file (`mod.rs`, `__init__.py`, `index.ts`) and, in Go,
            // every file in it.
            if MODULE_FILES.contains(&stem) || p.ends_with(".go") {
                add(&dir);
            }
        }
        // Deterministic answers whatever the hash maps' order.
        for v in suffix.values_mut().chain(full.values_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        Keys { suffix, full }
    }

    fn resolve(&self, s: &ImportSpec) -> Vec<&'a str> {
        let n = s.segments.len();
        let candidates: Vec<&[String]> = match s.style {
            Style::Prefixes => (1..=n).rev().map(|k| &s.segments[..k]).collect(),
            Style::Suffixes => (0..n).map(|k| &s.segments[k..]).collect(),
        };
        for c in candidates {
            let key = c.join("/");
            if s.rooted {
                if let Some(v) = self.full.get(&key) {
                    return v.clone();
                }
                continue;
            }
            if let Some(v) = self.suffix.get(&key) {
                // A bare name files in several folders share says nothing; one folder is a package
                // (Go) or a header and its source; a longer path may match a few files, which is fine.
                let one_folder = v
                    .iter()
                    .all(|p| p.rsplit_once('/').map(|x| x.0) == v[0].rsplit_once('/').map(|x| x.0));
                if (one_folder && v.len() <= 64) || (c.len() >= 2 && v.len() <= 4) {
                    return v.clone();
                }
                if c.len() == 1 {
                    return Vec::new();
                }
            }
        }
        Vec::new()
    }
}

impl ImportGraph {
    /// Sets a file's imports from its text. Returns whether they changed.
    pub fn set_file(&mut self, path: &str, language: Language, text: &str) -> bool {
        let specs = import_specs(path, language, text);
        let changed = self.specs.get(path) != Some(&specs);
        if changed || !self.specs.contains_key(path) {
            self.specs.insert(path.to_string(), specs);
            self.resolved = None;
        }
        changed
    }

    /// Forgets a file.
    pub fn remove_file(&mut self, path: &str) {
        if self.specs.remove(path).is_some() {
            self.resolved = None;
        }
    }

    /// Number of files known.
    pub fn len(&self) -> usize {
        self.specs.len()
    }

    /// Whether no file is known.
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    fn resolved(&mut self) -> &Resolved {
        if self.resolved.is_none() {
            let keys = Keys::new(self.specs.keys().map(String::as_str));
            let mut r = Resolved::default();
            for (path, specs) in &self.specs {
                let mut targets: Vec<String> = Vec::new();
                for s in specs {
                    for t in keys.resolve(s) {
                        if t != path && !targets.iter().any(|x| x == t) {
                            targets.push(t.to_string());
                        }
                    }
                }
                for t in &targets {
                    r.imported_by
                        .entry(t.clone())
                        .or_default()
                        .push(path.clone());
                }
                r.imports.insert(path.clone(), targets);
            }
            for v in r.imported_by.values_mut() {
                v.sort();
            }
            self.resolved = Some(r);
        }
        self.resolved.as_ref().expect("resolved above")
    }

    /// Files `path` imports, then files that import it (each once, at most `limit`).
    pub fn related(&mut self, path: &str, limit: usize) -> Vec<String> {
        let r = self.resolved();
        let mut out: Vec<String> = Vec::new();
        let fwd = r.imports.get(path).into_iter().flatten();
        let back = r.imported_by.get(path).into_iter().flatten();
        for p in fwd.chain(back) {
            if out.len() >= limit {
                break;
            }
            if p != path && !out.contains(p) {
                out.push(p.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> ImportGraph {
        let mut g = ImportGraph::default();
        for (p, text) in files {
            g.set_file(p, Language::from_path(std::path::Path::new(p)), text);
        }
        g
    }

    #[test]
    fn rust_use_paths_resolve_to_module_files() {
        let mut g = graph(&[
            (
                "src/server.rs",
                "use crate::sync::{mpsc::chan::Tx, Mutex};\nuse super::util;\nmod conn;\nuse std::io;\n",
            ),
            ("src/sync/mpsc/chan.rs", "pub struct Tx;"),
            ("src/sync/mutex.rs", "pub struct Mutex;"),
            ("src/sync/mod.rs", "pub use mutex::Mutex;"),
            ("src/server/conn.rs", "fn c() {}"),
            ("src/io.rs", "fn io() {}"),
            ("other/io.rs", "fn io() {}"),
        ]);
        let rel = g.related("src/server.rs", 10);
        assert!(
            rel.contains(&"src/sync/mpsc/chan.rs".to_string()),
            "{rel:?}"
        );
        assert!(rel.contains(&"src/sync/mod.rs".to_string()), "{rel:?}");
        assert!(rel.contains(&"src/server/conn.rs".to_string()), "{rel:?}");
        // `std::io` names a module outside the workspace; two files are called io.rs: ambiguous.
        assert!(!rel.iter().any(|p| p.ends_with("io.rs")), "{rel:?}");
        // And the reverse edge.
        assert_eq!(
            g.related("src/sync/mpsc/chan.rs", 10),
            vec!["src/server.rs".to_string()]
        );
    }

    #[test]
    fn python_js_go_and_c_imports_resolve() {
        let mut g = graph(&[
            (
                "pkg/app.py",
                "import os\nfrom pkg.client import Session\nfrom . import helpers\n",
            ),
            ("pkg/client.py", "class Session: pass"),
            ("pkg/helpers.py", "def h(): pass"),
            (
                "web/src/app.ts",
                "import { x } from './util/strings';\nconst y = require('../lib/z.js');\nimport React from 'react';\n",
            ),
            ("web/src/util/strings.ts", "export const x = 1;"),
            ("web/lib/z.js", "module.exports = 1;"),
            (
                "cmd/main.go",
                "package main\n\nimport (\n\t\"fmt\"\n\tmw \"github.com/acme/kit/middleware\"\n)\n",
            ),
            ("middleware/logger.go", "package middleware"),
            ("middleware/recover.go", "package middleware"),
            (
                "absl/strings/str_cat.cc",
                "#include \"absl/strings/str_cat.h\"\n#include <string>\n",
            ),
            ("absl/strings/str_cat.h", "#pragma once"),
        ]);
        let rel = g.related("pkg/app.py", 10);
        assert_eq!(rel.len(), 2, "{rel:?}");
        assert!(rel.contains(&"pkg/client.py".to_string()));
        assert!(rel.contains(&"pkg/helpers.py".to_string()));
        let rel = g.related("web/src/app.ts", 10);
        assert_eq!(rel, vec!["web/src/util/strings.ts", "web/lib/z.js"]);
        let rel = g.related("cmd/main.go", 10);
        assert_eq!(rel, vec!["middleware/logger.go", "middleware/recover.go"]);
        assert_eq!(
            g.related("absl/strings/str_cat.h", 10),
            vec!["absl/strings/str_cat.cc"]
        );
    }

    #[test]
    fn jvm_and_elixir_module_names_map_to_paths() {
        let mut g = graph(&[
            (
                "src/main/java/org/acme/Main.java",
                "package org.acme;\nimport org.acme.util.StringUtils;\nimport static org.acme.util.Validate.notNull;\n",
            ),
            (
                "src/main/java/org/acme/util/StringUtils.java",
                "class StringUtils {}",
            ),
            (
                "src/main/java/org/acme/util/Validate.java",
                "class Validate {}",
            ),
            (
                "lib/ecto/repo.ex",
                "defmodule Ecto.Repo do\n  alias Ecto.Changeset.Relation\nend",
            ),
            (
                "lib/ecto/changeset/relation.ex",
                "defmodule Ecto.Changeset.Relation do end",
            ),
        ]);
        let rel = g.related("src/main/java/org/acme/Main.java", 10);
        assert_eq!(rel.len(), 2, "{rel:?}");
        assert_eq!(
            g.related("lib/ecto/repo.ex", 10),
            vec!["lib/ecto/changeset/relation.ex"]
        );
    }

    #[test]
    fn changes_are_reported_and_removal_drops_edges() {
        let mut g = graph(&[("a.py", "import b\n"), ("b.py", "x = 1\n")]);
        assert_eq!(g.related("a.py", 10), vec!["b.py"]);
        assert!(!g.set_file("a.py", Language::Python, "import b\n\ndef f(): pass\n"));
        assert!(g.set_file("a.py", Language::Python, "import c\n"));
        assert!(g.related("a.py", 10).is_empty());
        g.set_file("a.py", Language::Python, "import b\n");
        g.remove_file("b.py");
        assert!(g.related("a.py", 10).is_empty());
    }

    #[test]
    fn camel_case_modules_become_snake_case_files() {
        assert_eq!(camel_to_snake("Changeset"), "changeset");
        assert_eq!(camel_to_snake("HTTPClient"), "http_client");
        assert_eq!(camel_to_snake("EctoSQL"), "ecto_sql");
    }
}
