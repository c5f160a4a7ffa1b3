//! A file's definitions as a tree: each definition under the innermost one whose range holds it
//! (methods under their class or impl, nested functions under theirs). Pure: no I/O.

use serde::Serialize;

use crate::symbols::SymbolEntry;

/// One definition in an outline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Node {
    /// The name.
    pub name: String,
    /// What it defines (`function`, `method`, `class`, `impl`...).
    pub kind: &'static str,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, 1-based, inclusive.
    pub end_line: u32,
    /// The line(s) that declare it, when the file's text was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The definitions inside it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

/// The definitions of one file as a tree, in line order. `text` (the file's text), when given, fills in
/// each definition's signature.
pub fn build(entries: &[SymbolEntry], text: Option<&str>) -> Vec<Node> {
    let lines: Vec<&str> = text.map(|t| t.lines().collect()).unwrap_or_default();
    let mut sorted: Vec<&SymbolEntry> = entries.iter().collect();
    // Outer definitions first: by start, then the longer range.
    sorted.sort_by(|a, b| {
        a.start_line
            .cmp(&b.start_line)
            .then(b.end_line.cmp(&a.end_line))
    });
    let node = |e: &SymbolEntry| Node {
        name: e.name.clone(),
        kind: e.kind.name(),
        start_line: e.start_line,
        end_line: e.end_line,
        signature: text.map(|_| signature(&lines, e)),
        children: Vec::new(),
    };
    // A stack of open nodes: each new definition closes those that end before it.
    let mut roots: Vec<Node> = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    fn close(stack: &mut Vec<Node>, roots: &mut Vec<Node>) {
        if let Some(done) = stack.pop() {
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => roots.push(done),
            }
        }
    }
    for e in sorted {
        while stack
            .last()
            .is_some_and(|top| !(top.start_line <= e.start_line && e.end_line <= top.end_line))
        {
            close(&mut stack, &mut roots);
        }
        stack.push(node(e));
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    roots
}

/// The signature of `e` in `lines` (the file's lines), trimmed and joined with spaces.
fn signature(lines: &[&str], e: &SymbolEntry) -> String {
    let (s, t) = (e.start_line as usize, e.end_line as usize);
    let Some(def) = lines.get(s.saturating_sub(1)..t.min(lines.len())) else {
        return String::new();
    };
    let r = super::budget::signature_lines(def, Some(&e.name));
    let mut out = def[r]
        .iter()
        .map(|l| l.trim())
        .collect::<Vec<_>>()
        .join(" ");
    if out.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|&i| out.is_char_boundary(i))
            .unwrap_or(0);
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::ChunkKind;
    use crate::ids::FileId;
    use crate::store::SymbolRecord;
    use crate::symbols::SymbolTable;

    fn rec(name: &str, kind: ChunkKind, container: Option<&str>, s: u32, e: u32) -> SymbolRecord {
        SymbolRecord {
            name: name.into(),
            kind,
            container: container.map(str::to_string),
            start_line: s,
            end_line: e,
        }
    }

    #[test]
    fn definitions_nest_under_the_innermost_range_that_holds_them() {
        let text = "struct Server;\n\nimpl Server {\n    fn new() -> Self {\n        Server\n    }\n\n    fn handle(&self) {\n        fn inner() {}\n    }\n}\n\nfn main() {}\n";
        let mut t = SymbolTable::default();
        t.set_file(
            FileId(1),
            "src/a.rs",
            vec![
                rec("handle", ChunkKind::Method, Some("Server"), 8, 10),
                rec("Server", ChunkKind::Struct, None, 1, 1),
                rec("Server", ChunkKind::Impl, None, 3, 11),
                rec("new", ChunkKind::Method, Some("Server"), 4, 6),
                rec("inner", ChunkKind::Function, Some("handle"), 9, 9),
                rec("main", ChunkKind::Function, None, 13, 13),
            ],
        );
        let tree = build(t.file_entries("src/a.rs"), Some(text));
        let shape: Vec<(&str, &str, u32, u32, usize)> = tree
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.kind,
                    n.start_line,
                    n.end_line,
                    n.children.len(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                ("Server", "struct", 1, 1, 0),
                ("Server", "impl", 3, 11, 2),
                ("main", "function", 13, 13, 0),
            ]
        );
        let imp = &tree[1];
        assert_eq!(imp.children[0].name, "new");
        assert_eq!(imp.children[1].name, "handle");
        assert_eq!(imp.children[1].children[0].name, "inner");
        assert_eq!(
            imp.children[0].signature.as_deref(),
            Some("fn new() -> Self {")
        );
        assert_eq!(imp.signature.as_deref(), Some("impl Server {"));
        // Without the text, no signatures.
        assert!(
            build(t.file_entries("src/a.rs"), None)[0]
                .signature
                .is_none()
        );
    }
}
