//! Reading the references out of one file's syntax tree: every identifier that names something defined
//! elsewhere or in the file (a call, a type, an import, any other use), but not the name a definition
//! gives itself. The same walk serves every grammar: identifiers are the leaves whose node kind names
//! one (`identifier`, `type_identifier`, `field_identifier`, `constant`, ...), and what a use is comes
//! from the nodes above it (a call's callee, a type position, an import statement).

use tree_sitter::Node;

use super::{RefKind, Reference};
use crate::chunk::Symbol;
use crate::syntax::Language;

/// The longest name kept (longer identifiers are generated code, not names an agent asks about).
const MAX_NAME: usize = 128;

/// Whether a leaf of this kind is an identifier in some grammar.
fn is_identifier_kind(kind: &str) -> bool {
    kind.ends_with("identifier")
        || matches!(
            kind,
            "constant" // Ruby
                | "name" // PHP
                | "alias" // Elixir
                | "constructor" // Haskell
                | "variable" // Haskell
                | "word" // Bash, checked below: only a command's name
        )
}

/// Whether `text` reads as a name (letters, digits, `_`, `$`, and a trailing `?` or `!` as Ruby and
/// Elixir allow), starting with no digit.
fn is_name(text: &str) -> bool {
    let body = text.trim_end_matches(['?', '!']);
    !body.is_empty()
        && text.len() <= MAX_NAME
        && !body.as_bytes()[0].is_ascii_digit()
        && body
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
}

/// Node kinds under which an identifier is part of an import.
fn is_import(kind: &str) -> bool {
    kind.contains("import")
        || matches!(
            kind,
            "use_declaration"
                | "using_directive"
                | "extern_crate_declaration"
                | "namespace_use_declaration"
                | "preproc_include"
        )
}

/// Node kinds that end the search for an import upwards (a statement or a definition).
fn stops_upward(kind: &str) -> bool {
    kind.ends_with("_statement")
        || kind.ends_with("_definition")
        || kind.ends_with("_declaration")
        || kind.ends_with("_item")
        || kind == "block"
        || kind == "source_file"
        || kind == "program"
        || kind == "module"
}

/// Node kinds that call the thing named in their callee.
fn is_call(kind: &str) -> bool {
    kind.contains("call")
        || kind.contains("invocation")
        || matches!(
            kind,
            "new_expression"
                | "object_creation_expression"
                | "instance_creation_expression"
                | "apply"
        )
}

/// Node kinds that qualify a name with a path or a receiver (`a::b`, `a.b`, `a->b`): an identifier at
/// their end is what the whole expression names.
fn is_qualifier(kind: &str) -> bool {
    kind.contains("field_expression")
        || kind.contains("member_expression")
        || kind.contains("member_access")
        || kind.contains("scoped_")
        || kind.contains("qualified")
        || kind.contains("selector_expression")
        || kind.contains("navigation")
        || kind.contains("field_access")
        || kind == "attribute"
        || kind == "dot"
        || kind == "generic_function"
        || kind == "method_reference"
}

/// Whether the identifier `node` is the name a definition of the file gives itself (the chunker's
/// `symbols`): it declares there, it does not refer.
fn defines(lang: Language, node: Node, symbols: &[Symbol], text: &[u8]) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    let name = &text[node.start_byte()..node.end_byte()];
    if matches!(lang, Language::Elixir | Language::Haskell) {
        // `def name(...)` is a call in Elixir's grammar, and a Haskell function is its equations and
        // signature: the name is the defined symbol's on its first line, or a signature's.
        let line = node.start_position().row as u32 + 1;
        let in_signature = parent.kind() == "signature";
        return symbols
            .iter()
            .any(|s| (s.start_line == line || in_signature) && s.name.as_bytes() == name);
    }
    let is_name_field = parent
        .child_by_field_name("name")
        .is_some_and(|n| n.id() == node.id())
        || parent.kind().ends_with("declarator") && parent.kind() != "init_declarator";
    if !is_name_field {
        return false;
    }
    let at = node.start_byte() as u32;
    symbols
        .iter()
        .any(|s| s.start_byte <= at && at < s.end_byte && s.name.as_bytes() == name)
}

/// What kind of use the identifier `node` is.
fn kind_of(node: Node) -> RefKind {
    // Imports: any statement above (before a definition or block) that imports.
    let mut up = node.parent();
    for _ in 0..8 {
        let Some(n) = up else { break };
        if is_import(n.kind()) {
            return RefKind::Import;
        }
        if stops_upward(n.kind()) {
            break;
        }
        up = n.parent();
    }
    // Calls: climb through qualifiers while the identifier stays their last part.
    let mut child = node;
    let mut parent = node.parent();
    while let Some(p) = parent {
        if is_qualifier(p.kind()) && last_named_child(p).is_some_and(|c| c.id() == child.id()) {
            child = p;
            parent = p.parent();
            continue;
        }
        break;
    }
    if let Some(p) = parent
        && is_call(p.kind())
        && is_callee(p, child)
    {
        return RefKind::Call;
    }
    if node.kind() == "type_identifier"
        || node
            .parent()
            .is_some_and(|p| p.kind().contains("type") && !p.kind().contains("arguments"))
    {
        return RefKind::Type;
    }
    RefKind::Use
}

/// Whether `child` is what the call `call` calls: its callee field, or its first part when the grammar
/// names no callee field.
fn is_callee(call: Node, child: Node) -> bool {
    const CALLEE: [&str; 6] = ["function", "name", "method", "macro", "constructor", "type"];
    let mut named = false;
    for field in CALLEE {
        if let Some(c) = call.child_by_field_name(field) {
            if c.id() == child.id() {
                return true;
            }
            named = true;
        }
    }
    !named && first_named_child(call).is_some_and(|c| c.id() == child.id())
}

fn first_named_child(n: Node) -> Option<Node> {
    let mut c = n.walk();
    n.named_children(&mut c)
        .find(|c| !c.kind().contains("comment"))
}

fn last_named_child(n: Node) -> Option<Node> {
    let count = n.named_child_count();
    (0..count)
        .rev()
        .filter_map(|i| n.named_child(i as u32))
        .find(|c| !c.kind().contains("comment"))
}

/// The references of a file whose syntax tree is `root`, in file order. `symbols` are the file's
/// definitions as the chunker found them (their names are not references).
pub fn references(lang: Language, root: Node, text: &str, symbols: &[Symbol]) -> Vec<Reference> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut cursor = root.walk();
    let mut descend = true;
    loop {
        let node = cursor.node();
        if descend && node.child_count() == 0 {
            visit(lang, node, bytes, symbols, &mut out);
        }
        if descend && cursor.goto_first_child() {
            continue;
        }
        if cursor.goto_next_sibling() {
            descend = true;
            continue;
        }
        if !cursor.goto_parent() {
            break;
        }
        descend = false;
    }
    out
}

fn visit(lang: Language, node: Node, bytes: &[u8], symbols: &[Symbol], out: &mut Vec<Reference>) {
    let kind = node.kind();
    if !node.is_named() || !is_identifier_kind(kind) {
        return;
    }
    if kind == "word"
        && (lang != Language::Bash || node.parent().is_none_or(|p| p.kind() != "command_name"))
    {
        return;
    }
    let Some(name) = std::str::from_utf8(&bytes[node.start_byte()..node.end_byte()])
        .ok()
        .map(|n| n.strip_prefix('$').unwrap_or(n))
        .filter(|n| is_name(n))
    else {
        return;
    };
    if defines(lang, node, symbols, bytes) {
        return;
    }
    let p = node.start_position();
    out.push(Reference {
        name: name.to_owned(),
        line: p.row as u32 + 1,
        column: p.column as u32 + 1,
        kind: if kind == "word" {
            RefKind::Call
        } else {
            kind_of(node)
        },
    });
}
