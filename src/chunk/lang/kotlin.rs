//! Kotlin: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, find_descendant, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Kotlin.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "class_declaration",
        "object_declaration",
        "companion_object",
        "function_declaration",
        "type_alias",
        "property_declaration",
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
        "class_declaration" => {
            let mut c = node.walk();
            let is_interface = node
                .children(&mut c)
                .any(|ch| ch.kind() == "interface" && !ch.is_named());
            let is_enum = node
                .named_children(&mut node.walk())
                .filter(|ch| ch.kind() == "modifiers")
                .any(|m| w.text_of(m).split_whitespace().any(|w| w == "enum"));
            let n = name("name");
            if is_interface {
                info(K::Interface, "interface", n)
            } else if is_enum {
                info(K::Enum, "enum class", n)
            } else {
                info(K::Class, "class", n)
            }
        }
        "object_declaration" => info(K::Class, "object", name("name")),
        "companion_object" => {
            let n = name("name");
            info(
                K::Class,
                "companion object",
                if n.is_empty() {
                    "Companion".to_owned()
                } else {
                    n
                },
            )
        }
        "function_declaration" => info(fk, "fun", name("name")),
        "type_alias" => info(K::Type, "typealias", name("type")),
        "property_declaration" if w.at_top(node, &[]) => {
            let v = find_descendant(node, "variable_declaration")?;
            let id = v.named_child(0).filter(|n| n.kind() == "identifier")?;
            info(K::Constant, "val", w.text_of(id))
        }
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const KOTLIN: &str = r###"package app

import kotlin.math.max

/** A greeter. */
@Deprecated("old")
class Greeter(val name: String) {
    fun hello(): String = name

    fun bye() {
        println(name)
    }

    companion object {
        fun make() = Greeter("a")
    }
}

interface Shape { fun area(): Double }
object Registry {
    val x = 1
}
enum class Color { RED }
typealias Id = Int
val top = 1
fun main() { println(1) }
"###;

    #[test]
    fn chunks_kotlin() {
        check_split(
            Language::Kotlin,
            KOTLIN,
            "
1-17 class Greeter | class Greeter
19-19 interface Shape | interface Shape
20-22 class Registry | object Registry
23-23 enum Color | enum class Color
24-24 type Id | typealias Id
25-25 constant top | val top
26-26 function main | fun main
--
6-17 class Greeter < -
8-8 method hello < Greeter
10-12 method bye < Greeter
14-16 class Companion < Greeter
15-15 method make < Companion
19-19 interface Shape < -
19-19 method area < Shape
20-22 class Registry < -
23-23 enum Color < -
24-24 type Id < -
25-25 constant top < -
26-26 function main < -
",
            "
1-3 block - | 
5-7 class Greeter | class Greeter
8-8 method hello | class Greeter > fun hello
10-12 method bye | class Greeter > fun bye
14-17 class Companion | class Greeter > companion object Companion
19-19 interface Shape | interface Shape
20-22 class Registry | object Registry
23-23 enum Color | enum class Color
24-24 type Id | typealias Id
25-25 constant top | val top
26-26 function main | fun main
",
        );
    }
}
