//! Each language's node tables: which syntax nodes are definitions and how their names, kinds and
//! labels are read. One file per language (or per grammar family); [`rules`] picks the file.
//!
//! A language file exports one [`Rules`] value. Its `classify` function receives the [`Walker`]
//! (for the text of nodes and the definition the node sits in) and a node whose kind is listed in
//! `kinds`, and says which definition it is, if any; the walk, the attached comments and the
//! cutting into chunks are the same for every language.

mod bash;
mod c_family;
mod csharp;
mod elixir;
mod go;
mod haskell;
mod java;
mod javascript;
mod kotlin;
mod lua;
mod php;
mod python;
mod ruby;
mod rust;
mod scala;
mod swift;
mod zig;

use tree_sitter::Node;

use super::ChunkKind;
use super::source::clean_name;
use super::walker::Walker;
use crate::syntax::Language;

/// The node tables of one language.
pub(super) struct Rules {
    /// The node kinds that `classify` looks at; no other node is ever a definition.
    pub(super) kinds: &'static [&'static str],
    /// The definition a node of one of `kinds` is, if it is one, given the index of the definition
    /// it sits in.
    pub(super) classify: fn(&Walker, Node, Option<usize>) -> Option<DefInfo>,
    /// Whether a node right before a definition named by the `&str` belongs to it, like a doc
    /// comment does (attributes, decorators, signatures). Comments always do.
    pub(super) attaches: fn(&Walker, Node, &str) -> bool,
    /// Whether this parent of a definition node belongs to the definition (`export`, decorators,
    /// templates, a declaration holding only it).
    pub(super) wraps: fn(Node) -> bool,
    /// Node kinds of `kinds` whose subtree is not walked when they are not a definition.
    pub(super) opaque: &'static [&'static str],
    /// Whether a function is one node per equation, so that consecutive equations of one name
    /// fold into one definition.
    pub(super) fold_equations: bool,
}

impl Rules {
    /// No definitions at all: the base that language files override.
    pub(super) const NONE: Rules = Rules {
        kinds: &[],
        classify: |_, _, _| None,
        attaches: |_, _, _| false,
        wraps: |_| false,
        opaque: &[],
        fold_equations: false,
    };
}

/// The node tables of `lang` ([`Rules::NONE`] for a language without a grammar).
pub(super) fn rules(lang: Language) -> &'static Rules {
    match lang {
        Language::Rust => &rust::RULES,
        Language::Python => &python::RULES,
        Language::JavaScript | Language::TypeScript | Language::Tsx => &javascript::RULES,
        Language::Go => &go::RULES,
        Language::Java => &java::RULES,
        Language::C | Language::Cpp => &c_family::RULES,
        Language::CSharp => &csharp::RULES,
        Language::Ruby => &ruby::RULES,
        Language::Php => &php::RULES,
        Language::Kotlin => &kotlin::RULES,
        Language::Scala => &scala::RULES,
        Language::Swift => &swift::RULES,
        Language::Elixir => &elixir::RULES,
        Language::Haskell => &haskell::RULES,
        Language::Lua => &lua::RULES,
        Language::Bash => &bash::RULES,
        Language::Zig => &zig::RULES,
        _ => &Rules::NONE,
    }
}

/// What a language's `classify` learns about a definition node.
pub(super) struct DefInfo {
    pub(super) kind: ChunkKind,
    /// The keyword the label starts with (`fn`, `class`, ...), or empty.
    pub(super) keyword: &'static str,
    pub(super) name: String,
    /// A container named by the definition itself (Go receiver, C++ scope, Lua table).
    pub(super) qualifier: Option<String>,
    /// The label, when `keyword name` is not it.
    pub(super) label: Option<String>,
}

/// A definition of this kind, keyword and name; none when the name is empty.
fn info(kind: ChunkKind, keyword: &'static str, name: impl Into<String>) -> Option<DefInfo> {
    let name = clean_name(&name.into());
    if name.is_empty() {
        return None;
    }
    Some(DefInfo {
        kind,
        keyword,
        name,
        qualifier: None,
        label: None,
    })
}

/// The label keyword of a function of kind `k` in a language without one of its own.
fn fn_keyword(k: ChunkKind) -> &'static str {
    if k == ChunkKind::Method {
        "method"
    } else {
        "function"
    }
}

/// The first descendant of `node` (itself included) with this kind, breadth-first, bounded.
fn find_descendant<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut queue = std::collections::VecDeque::from([node]);
    let mut seen = 0;
    while let Some(n) = queue.pop_front() {
        if n.kind() == kind {
            return Some(n);
        }
        seen += 1;
        if seen > 256 {
            return None;
        }
        queue.extend(n.named_children(&mut n.walk()));
    }
    None
}

/// Every language's test fixture, with its language.
#[cfg(test)]
pub(super) fn fixtures() -> Vec<(Language, &'static str)> {
    vec![
        (Language::Rust, rust::tests::RUST),
        (Language::Python, python::tests::PYTHON),
        (Language::JavaScript, javascript::tests::JAVASCRIPT),
        (Language::TypeScript, javascript::tests::TYPESCRIPT),
        (Language::Tsx, javascript::tests::TSX),
        (Language::Go, go::tests::GO),
        (Language::Java, java::tests::JAVA),
        (Language::C, c_family::tests::C),
        (Language::Cpp, c_family::tests::CPP),
        (Language::CSharp, csharp::tests::CSHARP),
        (Language::Ruby, ruby::tests::RUBY),
        (Language::Php, php::tests::PHP),
        (Language::Kotlin, kotlin::tests::KOTLIN),
        (Language::Scala, scala::tests::SCALA),
        (Language::Swift, swift::tests::SWIFT),
        (Language::Elixir, elixir::tests::ELIXIR),
        (Language::Haskell, haskell::tests::HASKELL),
        (Language::Lua, lua::tests::LUA),
        (Language::Bash, bash::tests::BASH),
        (Language::Zig, zig::tests::ZIG),
    ]
}

#[cfg(test)]
pub(super) use self::{elixir::tests::ELIXIR, java::tests::JAVA, rust::tests::RUST};
