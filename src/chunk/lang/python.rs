//! Python: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Python.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "function_definition",
        "class_definition",
        "expression_statement",
    ],
    classify,
    attaches,
    wraps,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, parent: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    let name = |field: &str| w.field_text(node, field).unwrap_or("").to_owned();
    let fk = w.fn_kind(parent);
    match kind {
        "function_definition" => info(fk, "def", name("name")),
        "class_definition" => info(K::Class, "class", name("name")),
        "expression_statement" if w.at_top(node, &[]) => {
            let a = node.named_child(0).filter(|a| a.kind() == "assignment")?;
            let left = a
                .child_by_field_name("left")
                .filter(|l| l.kind() == "identifier")?;
            let n = w.text_of(left);
            let upper = n.bytes().any(|c| c.is_ascii_uppercase())
                && n.bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
            if upper {
                info(K::Constant, "", n)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Decorators belong to the definition after them.
fn attaches(_: &Walker, node: Node, _: &str) -> bool {
    node.kind() == "decorator"
}

/// A decorated definition is one definition.
fn wraps(parent: Node) -> bool {
    parent.kind() == "decorated_definition"
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const PYTHON: &str = r###"import os


class Greeter:
    """Greets people."""

    def __init__(self, name):
        self.name = name

    @staticmethod
    def hello(x):
        return x


# Entry point.
def main():
    print(Greeter("a"))

MAX = 3
"###;

    #[test]
    fn chunks_python() {
        check_split(
            Language::Python,
            PYTHON,
            "
1-12 class Greeter | class Greeter
15-17 function main | def main
19-19 constant MAX | MAX
--
4-12 class Greeter < -
7-8 method __init__ < Greeter
10-12 method hello < Greeter
16-17 function main < -
19-19 constant MAX < -
",
            "
1-1 block - | 
4-12 class Greeter | class Greeter
15-17 function main | def main
19-19 constant MAX | MAX
",
        );
    }
}
