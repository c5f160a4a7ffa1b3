//! Haskell: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Haskell.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "function",
        "bind",
        "signature",
        "data_type",
        "newtype",
        "type_synomym",
        "type_synonym",
        "class",
        "instance",
    ],
    classify,
    attaches,
    // Type signatures outside a class are not walked into.
    opaque: &["signature"],
    fold_equations: true,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, parent: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    let name = |field: &str| w.field_text(node, field).unwrap_or("").to_owned();
    let fk = w.fn_kind(parent);
    match kind {
        "function" | "bind" => info(fk, "", name("name")),
        "signature"
            if node
                .parent()
                .is_some_and(|p| p.kind() == "class_declarations") =>
        {
            info(K::Method, "", name("name"))
        }
        "data_type" => info(K::Type, "data", name("name")),
        "newtype" => info(K::Type, "newtype", name("name")),
        "type_synomym" | "type_synonym" => info(K::Type, "type", name("name")),
        "class" => info(K::Trait, "class", name("name")),
        "instance" => {
            let full = format!("{} {}", name("name"), name("patterns"));
            info(K::Impl, "instance", full)
        }
        _ => None,
    }
}

/// A function's type signature (and Haddock comments) belong to the function after them.
fn attaches(w: &Walker, node: Node, name: &str) -> bool {
    match node.kind() {
        "haddock" => true,
        "signature" => w.field_text(node, "name") == Some(name),
        _ => false,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const HASKELL: &str = r###"module Main where

import Data.List

-- | A shape.
data Shape = Circle Double | Square Double

newtype Id = Id Int

type Name = String

class Area a where
  area :: a -> Double

instance Area Shape where
  area (Circle r) = r
  area (Square s) = s

-- | Factorial.
fact :: Int -> Int
fact 0 = 1
fact n = n * fact (n - 1)

main :: IO ()
main = print 1
"###;

    #[test]
    fn chunks_haskell() {
        check_split(
            Language::Haskell,
            HASKELL,
            "
1-6 type Shape | data Shape
8-8 type Id | newtype Id
10-10 type Name | type Name
12-13 trait Area | class Area
15-17 impl Area Shape | instance Area Shape
19-22 function fact | fact
24-25 function main | main
--
6-6 type Shape < -
8-8 type Id < -
10-10 type Name < -
12-13 trait Area < -
13-13 method area < Area
15-17 impl Area Shape < -
16-17 method area < Area Shape
21-22 function fact < -
25-25 function main < -
",
            "
1-6 type Shape | data Shape
8-8 type Id | newtype Id
10-10 type Name | type Name
12-13 trait Area | class Area
15-17 impl Area Shape | instance Area Shape
19-22 function fact | fact
24-25 function main | main
",
        );
    }
}
