//! Scala: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Scala.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "class_definition",
        "object_definition",
        "trait_definition",
        "enum_definition",
        "package_object",
        "function_definition",
        "function_declaration",
        "type_definition",
        "val_definition",
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
        "class_definition" => info(K::Class, "class", name("name")),
        "object_definition" => info(K::Class, "object", name("name")),
        "trait_definition" => info(K::Trait, "trait", name("name")),
        "enum_definition" => info(K::Enum, "enum", name("name")),
        "package_object" => info(K::Module, "package object", name("name")),
        "function_definition" | "function_declaration" => info(fk, "def", name("name")),
        "type_definition" => info(K::Type, "type", name("name")),
        "val_definition" if w.at_top(node, &[]) => {
            let p = node
                .child_by_field_name("pattern")
                .filter(|p| p.kind() == "identifier")?;
            info(K::Constant, "val", w.text_of(p))
        }
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const SCALA: &str = r###"package app

import scala.util.Try

/** A greeter. */
class Greeter(name: String) {
  def hello(): String = name
  def bye(): Unit = println(name)
}

trait Shape { def area: Double }
object Main {
  def main(args: Array[String]): Unit = ()
}
case class P(x: Int)
enum Color { case Red }
type Id = Int
val top = 1
def free(x: Int): Int = x
"###;

    #[test]
    fn chunks_scala() {
        check_split(
            Language::Scala,
            SCALA,
            "
1-9 class Greeter | class Greeter
11-11 trait Shape | trait Shape
12-14 class Main | object Main
15-15 class P | class P
16-16 enum Color | enum Color
17-17 type Id | type Id
18-18 constant top | val top
19-19 function free | def free
--
6-9 class Greeter < -
7-7 method hello < Greeter
8-8 method bye < Greeter
11-11 trait Shape < -
11-11 method area < Shape
12-14 class Main < -
13-13 method main < Main
15-15 class P < -
16-16 enum Color < -
17-17 type Id < -
18-18 constant top < -
19-19 function free < -
",
            "
1-9 class Greeter | class Greeter
11-11 trait Shape | trait Shape
12-14 class Main | object Main
15-15 class P | class P
16-16 enum Color | enum Color
17-17 type Id | type Id
18-18 constant top | val top
19-19 function free | def free
",
        );
    }
}
