//! C#: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, fn_keyword, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of C#.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "class_declaration",
        "struct_declaration",
        "interface_declaration",
        "enum_declaration",
        "record_declaration",
        "namespace_declaration",
        "file_scoped_namespace_declaration",
        "delegate_declaration",
        "method_declaration",
        "local_function_statement",
        "constructor_declaration",
        "destructor_declaration",
    ],
    classify,
    attaches,
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
        "struct_declaration" => info(K::Struct, "struct", name("name")),
        "interface_declaration" => info(K::Interface, "interface", name("name")),
        "enum_declaration" => info(K::Enum, "enum", name("name")),
        "record_declaration" => info(K::Class, "record", name("name")),
        "namespace_declaration" | "file_scoped_namespace_declaration" => {
            info(K::Module, "namespace", name("name"))
        }
        "delegate_declaration" => info(K::Type, "delegate", name("name")),
        "method_declaration" | "local_function_statement" => info(fk, fn_keyword(fk), name("name")),
        "constructor_declaration" => info(K::Method, "constructor", name("name")),
        "destructor_declaration" => info(K::Method, "destructor", format!("~{}", name("name"))),
        _ => None,
    }
}

/// Attribute lists belong to the definition after them.
fn attaches(_: &Walker, node: Node, _: &str) -> bool {
    node.kind() == "attribute_list"
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const CSHARP: &str = r###"using System;

namespace App {
    /// <summary>A greeter.</summary>
    [Serializable]
    public class Greeter {
        private string name;
        public Greeter(string n) { name = n; }
        public string Hello() { return name; }
        public int Count { get; set; }
    }
    interface IShape { double Area(); }
    struct P { int x; }
    enum Color { Red }
    record R(int A);
}
"###;

    #[test]
    fn chunks_csharp() {
        check_split(
            Language::CSharp,
            CSHARP,
            "
1-16 module App | namespace App
--
3-16 module App < -
5-11 class Greeter < App
8-8 method Greeter < Greeter
9-9 method Hello < Greeter
12-12 interface IShape < App
12-12 method Area < IShape
13-13 struct P < App
14-14 enum Color < App
15-15 class R < App
",
            "
1-1 block - | 
3-3 module App | namespace App
4-7 class Greeter | namespace App > class Greeter
8-8 method Greeter | namespace App > class Greeter > constructor Greeter
9-9 method Hello | namespace App > class Greeter > method Hello
10-11 block - | namespace App > class Greeter
12-12 interface IShape | namespace App > interface IShape
13-13 struct P | namespace App > struct P
14-14 enum Color | namespace App > enum Color
15-16 class R | namespace App > record R
",
        );
    }
}
