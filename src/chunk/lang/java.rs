//! Java: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, fn_keyword, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Java.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "class_declaration",
        "interface_declaration",
        "annotation_type_declaration",
        "enum_declaration",
        "record_declaration",
        "method_declaration",
        "constructor_declaration",
        "compact_constructor_declaration",
    ],
    classify,
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
        "annotation_type_declaration" => info(K::Interface, "@interface", name("name")),
        "enum_declaration" => info(K::Enum, "enum", name("name")),
        "record_declaration" => info(K::Class, "record", name("name")),
        "method_declaration" => info(fk, fn_keyword(fk), name("name")),
        "constructor_declaration" | "compact_constructor_declaration" => {
            info(K::Method, "constructor", name("name"))
        }
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const JAVA: &str = r###"package a;

import java.util.List;

/** A greeter. */
@Deprecated
public class Greeter {
    private String name;

    /** Make one. */
    public Greeter(String name) { this.name = name; }

    @Override
    public String toString() { return name; }
}

interface Shape { double area(); }
enum Color { RED, GREEN }
record Point(int x, int y) {}
"###;

    #[test]
    fn chunks_java() {
        check_split(
            Language::Java,
            JAVA,
            "
1-15 class Greeter | class Greeter
17-17 interface Shape | interface Shape
18-18 enum Color | enum Color
19-19 class Point | record Point
--
6-15 class Greeter < -
11-11 method Greeter < Greeter
13-14 method toString < Greeter
17-17 interface Shape < -
17-17 method area < Shape
18-18 enum Color < -
19-19 class Point < -
",
            "
1-3 block - | 
5-8 class Greeter | class Greeter
10-11 method Greeter | class Greeter > constructor Greeter
13-15 method toString | class Greeter > method toString
17-17 interface Shape | interface Shape
18-18 enum Color | enum Color
19-19 class Point | record Point
",
        );
    }
}
