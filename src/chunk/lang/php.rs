//! PHP: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of PHP.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "class_declaration",
        "interface_declaration",
        "trait_declaration",
        "enum_declaration",
        "namespace_definition",
        "function_definition",
        "method_declaration",
        "const_element",
    ],
    classify,
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
        "class_declaration" => info(K::Class, "class", name("name")),
        "interface_declaration" => info(K::Interface, "interface", name("name")),
        "trait_declaration" => info(K::Trait, "trait", name("name")),
        "enum_declaration" => info(K::Enum, "enum", name("name")),
        "namespace_definition" if node.child_by_field_name("body").is_some() => {
            info(K::Module, "namespace", name("name"))
        }
        "function_definition" => info(K::Function, "function", name("name")),
        "method_declaration" => info(fk, "function", name("name")),
        "const_element" if w.at_top(node, &["const_declaration"]) => {
            let n = node.named_child(0).filter(|n| n.kind() == "name")?;
            info(K::Constant, "const", w.text_of(n))
        }
        _ => None,
    }
}

/// A `type` or `const` declaration holding only this definition belongs to it.
fn wraps(parent: Node) -> bool {
    matches!(parent.kind(), "type_declaration" | "const_declaration")
        && parent.named_child_count() == 1
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const PHP: &str = r###"<?php
namespace App;

use Foo\Bar;

/** A greeter. */
#[Attr]
class Greeter {
    private $name;
    public function __construct($name) { $this->name = $name; }
    public function hello() { return 1; }
}

interface Shape { function area(); }
trait T { function t() {} }
enum E { case A; }
const X = 1;
function main() { return 1; }
"###;

    #[test]
    fn chunks_php() {
        check_split(
            Language::Php,
            PHP,
            "
1-12 class Greeter | class Greeter
14-14 interface Shape | interface Shape
15-15 trait T | trait T
16-16 enum E | enum E
17-17 constant X | const X
18-18 function main | function main
--
7-12 class Greeter < -
10-10 method __construct < Greeter
11-11 method hello < Greeter
14-14 interface Shape < -
14-14 method area < Shape
15-15 trait T < -
15-15 method t < T
16-16 enum E < -
17-17 constant X < -
18-18 function main < -
",
            "
1-4 block - | 
6-9 class Greeter | class Greeter
10-10 method __construct | class Greeter > function __construct
11-12 method hello | class Greeter > function hello
14-14 interface Shape | interface Shape
15-15 trait T | trait T
16-16 enum E | enum E
17-17 constant X | const X
18-18 function main | function main
",
        );
    }
}
