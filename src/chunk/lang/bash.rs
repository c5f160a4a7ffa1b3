//! Bash and other POSIX shells: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Bash and other POSIX shells.
pub(super) const RULES: Rules = Rules {
    kinds: &["function_definition"],
    classify,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, _: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    let name = |field: &str| w.field_text(node, field).unwrap_or("").to_owned();
    match kind {
        "function_definition" => info(K::Function, "function", name("name")),
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const BASH: &str = r###"#!/bin/bash
set -e

# Greets.
greet() {
  echo "hi $1"
}

function other {
  echo 2
}

greet world
"###;

    #[test]
    fn chunks_bash() {
        check_split(
            Language::Bash,
            BASH,
            "
1-7 function greet | function greet
9-13 function other | function other
--
5-7 function greet < -
9-11 function other < -
",
            "
1-7 function greet | function greet
9-13 function other | function other
",
        );
    }
}
