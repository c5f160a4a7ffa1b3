//! Reading the references out of one file's syntax tree: every identifier that names something defined
//! elsewhere or in the file (a call, a type, an import, any other use), but not the name a definition
//! gives itself. The same walk serves every grammar: identifiers are the leaves whose node kind names
//! one (`identifier`, `type_identifier`, `field_identifier`, `constant`, ...), and what a use is comes
//! from the nodes above it (a call's callee, a type position, an import statement).

use std::collections::HashMap;

use tree_sitter::Node;

use super::Symbol;
use crate::graph::{RefKind, Reference};
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
    body.chars().any(|c| c.is_alphanumeric() || c == '_')
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

/// Whether a qualifier node reads a member through a receiver value (not a path or a type).
fn is_member_access(kind: &str) -> bool {
    kind.contains("field_expression")
        || kind.contains("member_expression")
        || kind.contains("member_access")
        || kind.contains("selector_expression")
        || kind.contains("navigation")
        || kind.contains("field_access")
        || kind == "attribute"
}

/// Node kinds that bind local names in the part that is not their value, type or body.
fn is_binder(kind: &str) -> bool {
    matches!(
        kind,
        "let_declaration"
            | "let_condition"
            | "parameter"
            | "closure_parameters"
            | "for_expression"
            | "formal_parameters"
            | "formal_parameter"
            | "spread_parameter"
            | "catch_formal_parameter"
            | "parameters"
            | "lambda_parameters"
            | "typed_parameter"
            | "default_parameter"
            | "typed_default_parameter"
            | "for_statement"
            | "for_in_statement"
            | "enhanced_for_statement"
            | "for_in_clause"
            | "with_item"
            | "as_pattern"
            | "assignment"
            | "augmented_assignment"
            | "variable_declarator"
            | "required_parameter"
            | "optional_parameter"
            | "short_var_declaration"
            | "parameter_declaration"
            | "variadic_parameter_declaration"
            | "var_spec"
            | "range_clause"
            | "catch_clause"
            | "except_clause"
            | "local_variable_declaration"
    )
}

/// Fields of a binder that hold values, types or bodies rather than the names bound.
const NOT_BOUND: [&str; 10] = [
    "value",
    "right",
    "body",
    "type",
    "return_type",
    "default_value",
    "condition",
    "iterable",
    "alternative",
    "consequence",
];

/// Node kinds a bound name may sit in between it and its binder (patterns and lists of names).
fn is_pattern_part(kind: &str) -> bool {
    kind.contains("pattern")
        || kind.contains("identifier")
        || matches!(
            kind,
            "expression_list"
                | "tuple"
                | "list"
                | "parenthesized_expression"
                | "list_splat_pattern"
                | "dictionary_splat_pattern"
                | "mut_pattern"
                | "ref_pattern"
                | "field_pattern"
                | "variable_declarator"
                | "array"
                | "object"
                | "pair"
        )
}

/// Node kinds that open a scope of local names.
fn is_function_scope(kind: &str) -> bool {
    (kind.contains("function") || kind.contains("method") || kind.contains("closure"))
        && !kind.contains("call")
        && !kind.contains("type")
        && !kind.contains("signature")
        || kind.contains("lambda")
}

/// If `node` (an identifier under `anc`, its ancestors from the root) is a local name bound inside a
/// function (a `let`, a parameter, a loop variable, an assignment in a function body), the byte range of
/// that function.
fn local_binding(node: Node, anc: &[Node]) -> Option<(usize, usize)> {
    let mut child = node;
    let mut binder = None;
    for (i, p) in anc.iter().enumerate().rev().take(8) {
        if is_binder(p.kind()) {
            let in_value = NOT_BOUND.iter().any(|f| {
                p.child_by_field_name(f)
                    .is_some_and(|c| c.id() == child.id())
            });
            if in_value {
                return None;
            }
            binder = Some(i);
            break;
        }
        if !is_pattern_part(p.kind()) {
            return None;
        }
        child = *p;
    }
    anc[..binder?]
        .iter()
        .rev()
        .find(|n| is_function_scope(n.kind()))
        .map(|n| (n.start_byte(), n.end_byte()))
}

/// Whether the identifier `node` is the name a definition of the file gives itself (the chunker's
/// `symbols`): it declares there, it does not refer.
fn defines(
    lang: Language,
    node: Node,
    parent: Option<&Node>,
    symbols: &[Symbol],
    text: &[u8],
) -> bool {
    let Some(parent) = parent else {
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

/// What kind of use the identifier `node` (under `anc`, its ancestors from the root) is.
fn kind_of(node: Node, anc: &[Node]) -> RefKind {
    // Imports: any statement above (before a definition or block) that imports.
    for n in anc.iter().rev().take(8) {
        if is_import(n.kind()) {
            return RefKind::Import;
        }
        if stops_upward(n.kind()) {
            break;
        }
    }
    // Calls: climb through qualifiers while the identifier stays their last part.
    let mut child = node;
    let mut up = anc.len();
    while up > 0 {
        let p = anc[up - 1];
        if is_qualifier(p.kind()) && last_named_child(p).is_some_and(|c| c.id() == child.id()) {
            child = p;
            up -= 1;
            continue;
        }
        break;
    }
    let parent = up.checked_sub(1).map(|i| anc[i]);
    if let Some(p) = parent
        && is_call(p.kind())
        && is_callee(p, child)
    {
        return RefKind::Call;
    }
    // A member read through a receiver (`self.timeout`, `config.path`), not called.
    if child.id() != node.id() && is_member_access(child.kind()) {
        return RefKind::Field;
    }
    if node.kind() == "type_identifier"
        || anc
            .last()
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
    let mut locals: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
    let mut cursor = root.walk();
    // The ancestors of the cursor's node, from the root (a node's parent is costly to ask the tree for).
    let mut stack: Vec<Node> = Vec::new();
    let mut descend = true;
    loop {
        let node = cursor.node();
        if descend && node.child_count() == 0 {
            visit(lang, node, &stack, bytes, symbols, &mut out, &mut locals);
        }
        if descend && cursor.goto_first_child() {
            stack.push(node);
            continue;
        }
        if cursor.goto_next_sibling() {
            descend = true;
            continue;
        }
        if !cursor.goto_parent() {
            break;
        }
        stack.pop();
        descend = false;
    }
    // A plain mention of a name bound locally in the function around it is that local, not a reference.
    out.retain(|(r, at)| {
        r.kind != RefKind::Use
            || !locals
                .get(&r.name)
                .is_some_and(|scopes| scopes.iter().any(|(s, e)| s <= at && at < e))
    });
    out.into_iter().map(|(r, _)| r).collect()
}

fn visit(
    lang: Language,
    node: Node,
    anc: &[Node],
    bytes: &[u8],
    symbols: &[Symbol],
    out: &mut Vec<(Reference, usize)>,
    locals: &mut HashMap<String, Vec<(usize, usize)>>,
) {
    let kind = node.kind();
    if !node.is_named() || !is_identifier_kind(kind) {
        return;
    }
    if kind == "word"
        && (lang != Language::Bash || anc.last().is_none_or(|p| p.kind() != "command_name"))
    {
        return;
    }
    let Some(name) = std::str::from_utf8(&bytes[node.start_byte()..node.end_byte()])
        .ok()
        .filter(|n| is_name(n))
    else {
        return;
    };
    if defines(lang, node, anc.last(), symbols, bytes) {
        return;
    }
    if kind == "identifier"
        && let Some(scope) = local_binding(node, anc)
    {
        locals.entry(name.to_owned()).or_default().push(scope);
    }
    let p = node.start_position();
    out.push((
        Reference {
            name: name.to_owned(),
            line: p.row as u32 + 1,
            column: p.column as u32 + 1,
            kind: if kind == "word" {
                RefKind::Call
            } else {
                kind_of(node, anc)
            },
        },
        node.start_byte(),
    ));
}

#[cfg(test)]
mod tests;
