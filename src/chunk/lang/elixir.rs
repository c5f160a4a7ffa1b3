//! Elixir: which syntax nodes are definitions, and how they are named.

use tree_sitter::Node;

use super::{DefInfo, Rules, info};
use crate::chunk::ChunkKind;
use crate::chunk::walker::Walker;

/// The node tables of Elixir.
pub(super) const RULES: Rules = Rules {
    kinds: &["call"],
    classify,
    attaches,
    ..Rules::NONE
};

/// The definition `node` is, if it is one.
fn classify(w: &Walker, node: Node, _: Option<usize>) -> Option<DefInfo> {
    use ChunkKind as K;
    let kind = node.kind();
    if kind != "call" {
        return None;
    }
    let target = w.field_text(node, "target")?;
    let (k, kw) = match target {
        "defmodule" => (K::Module, "defmodule"),
        "defprotocol" => (K::Interface, "defprotocol"),
        "defimpl" => (K::Impl, "defimpl"),
        "def" => (K::Function, "def"),
        "defp" => (K::Function, "defp"),
        "defmacro" => (K::Macro, "defmacro"),
        "defmacrop" => (K::Macro, "defmacrop"),
        "defguard" => (K::Function, "defguard"),
        "defguardp" => (K::Function, "defguardp"),
        "defdelegate" => (K::Function, "defdelegate"),
        _ => return None,
    };
    let args = node
        .named_children(&mut node.walk())
        .find(|c| c.kind() == "arguments")?;
    let mut first = args.named_child(0)?;
    if first.kind() == "binary_operator" {
        first = first.child_by_field_name("left")?;
    }
    let n = match first.kind() {
        "call" => w.field_text(first, "target")?,
        _ => w.text_of(first),
    };
    info(k, kw, n)
}

/// Module attributes that describe the next definition (`@doc`, `@spec`, ...) belong to it.
fn attaches(w: &Walker, node: Node, _: &str) -> bool {
    node.kind() == "unary_operator"
        && node
            .child_by_field_name("operand")
            .filter(|op| op.kind() == "call")
            .and_then(|op| w.field_text(op, "target"))
            .is_some_and(|t| {
                matches!(
                    t,
                    "doc" | "spec" | "impl" | "deprecated" | "since" | "decorate"
                )
            })
}

#[cfg(test)]
pub(super) mod tests {
    use crate::chunk::tests::*;
    use crate::syntax::Language;

    pub(in crate::chunk) const ELIXIR: &str = r###"defmodule App.Greeter do
  @moduledoc "Greets."

  @doc "Says hello."
  @spec hello(String.t()) :: String.t()
  def hello(name) do
    "hi " <> name
  end

  defp secret, do: 1

  defmacro m(x), do: x
end

defmodule Other do
  def f, do: 2
end
"###;

    #[test]
    fn chunks_elixir() {
        check_split(
            Language::Elixir,
            ELIXIR,
            "
1-13 module App.Greeter | defmodule App.Greeter
15-17 module Other | defmodule Other
--
1-13 module App.Greeter < -
6-8 function hello < App.Greeter
10-10 function secret < App.Greeter
12-12 macro m < App.Greeter
15-17 module Other < -
16-16 function f < Other
",
            "
1-2 module App.Greeter | defmodule App.Greeter
4-8 function hello | defmodule App.Greeter > def hello
10-10 function secret | defmodule App.Greeter > defp secret
12-13 macro m | defmodule App.Greeter > defmacro m
15-17 module Other | defmodule Other
",
        );
    }
}
