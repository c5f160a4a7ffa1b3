//! Lua: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Lua.
pub(super) const RULES: Rules = Rules {
    kinds: &["function_declaration"],
    classify,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, _: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    match kind {
        "function_declaration" => {
            let n = node.child_by_field_name("name")?;
            match n.kind() {
                "dot_index_expression" => {
                    let mut di = info(K::Function, "function", w.field_text(n, "field")?)?;
                    di.qualifier = w.field_text(n, "table").map(str::to_owned);
                    Some(di)
                }
                "method_index_expression" => {
                    let mut di = info(K::Method, "function", w.field_text(n, "method")?)?;
                    di.qualifier = w.field_text(n, "table").map(str::to_owned);
                    di.label = Some(format!(
                        "function {}:{}",
                        di.qualifier.as_deref().unwrap_or(""),
                        di.name
                    ));
                    Some(di)
                }
                _ => info(K::Function, "function", w.text_of(n)),
            }
        }
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const LUA: &str = r###"local M = {}

--- Greets.
function M.hello(name)
  return "hi " .. name
end

function M:bye()
  return 1
end

local function helper()
  return 2
end

function global_fn() end
local f = function() end
return M
"###;

    #[test]
    fn chunks_lua() {
        check_split(
            Language::Lua,
            LUA,
            "
1-6 function hello | function M.hello
8-10 method bye | function M:bye
12-14 function helper | function helper
16-18 function global_fn | function global_fn
--
4-6 function hello < M
8-10 method bye < M
12-14 function helper < -
16-16 function global_fn < -
",
            "
1-6 function hello | function M.hello
8-10 method bye | function M:bye
12-14 function helper | function helper
16-18 function global_fn | function global_fn
",
        );
    }
}
