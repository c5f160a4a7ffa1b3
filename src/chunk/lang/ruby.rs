//! Ruby: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Ruby.
pub(super) const RULES: Rules = Rules {
    kinds: &[
        "class",
        "module",
        "method",
        "singleton_method",
        "assignment",
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
        "class" => info(K::Class, "class", name("name")),
        "module" => info(K::Module, "module", name("name")),
        "method" => info(fk, "def", name("name")),
        "singleton_method" => {
            let mut di = info(K::Method, "def", name("name"))?;
            di.label = Some(format!("def {}.{}", name("object"), di.name));
            Some(di)
        }
        "assignment" if w.at_top(node, &[]) => {
            let left = node
                .child_by_field_name("left")
                .filter(|l| l.kind() == "constant")?;
            info(K::Constant, "", w.text_of(left))
        }
        _ => None,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const RUBY: &str = r###"require 'json'

# A greeter.
class Greeter
  def initialize(name)
    @name = name
  end

  def self.make
    new('a')
  end
end

module Util
  def helper; end
end

def main
  puts 1
end
"###;

    #[test]
    fn chunks_ruby() {
        check_split(
            Language::Ruby,
            RUBY,
            "
1-12 class Greeter | class Greeter
14-16 module Util | module Util
18-20 function main | def main
--
4-12 class Greeter < -
5-7 method initialize < Greeter
9-11 method make < Greeter
14-16 module Util < -
15-15 function helper < Util
18-20 function main < -
",
            "
1-12 class Greeter | class Greeter
14-16 module Util | module Util
18-20 function main | def main
",
        );
    }
}
