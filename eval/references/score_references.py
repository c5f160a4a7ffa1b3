#!/usr/bin/env python3
"""Score `sg refs NAME --json` against hand-labelled ground truth (truth.json).

The truth lists, for each symbol, every line that `rg -w -n --column -t rust NAME` prints from the
workspace root, each labelled `def` (a definition site of the symbol), `use` (a true usage of this
symbol in code) or `other` (comment, doc comment, string, or a different symbol with the same name).

For each symbol this script runs

    SG refs NAME --json --root DIR          (with SG_INDEX_DIR=<index-dir-base>/<workspace> if given)

or, with --from-json-dir, reads the saved output `<dir>/<workspace>/<NAME>.json` instead, and compares the
returned references with the truth, counting distinct (path, line) pairs:

    recall    = |returned ∩ use lines| / |use lines|
    precision = |returned ∩ use lines| / |returned lines|

Only returned lines in `.rs` files are judged (the truth covers Rust files only). A returned line
labelled `def` or `other`, or absent from the truth (rg -w does not find the name on that
line), is a false positive. A symbol whose output is empty or failed has precision 0. Averages are given per
workspace and overall, micro (pooled counts) and macro (mean of the per-symbol values).

Expected output of `sg refs NAME --json` (paths relative to the workspace root, lines 1-based):

    {"name": "NAME",
     "references": [{"path": "src/x.rs", "line": 12, "column": 5, "kind": "call|type|import|use",
                     "enclosing": {"symbol": "...", "kind": "function", "start_line": 10, "end_line": 30} | null}],
     "definitions": [{"path": ..., "start_line": ...}, ...]}   ("line" is accepted too)

Only `path` and `line` of references are scored; `definitions` is reported as "defs found" when present.

The truth is tied to a revision of each workspace (see "workspaces" in truth.json): score a checkout of that
revision, e.g. for sg `git archive <revision> | tar -x -C DIR`, since later commits move lines. The script
warns when a truth line no longer holds its symbol's name (it cannot see usages added since).

`--self-test` checks the parsing and scoring on a small hand-made truth and outputs, without sg.

Examples:

    mkdir ../sg-at-truth && git archive 3d7cfcb5fb097ee1135a1d642f2cfc4587efe27a | tar -x -C ../sg-at-truth
    score_references.py --sg target/release/sg --truth eval/truth.json \\
        --workspace sg=../sg-at-truth --workspace tokio=../corpus/tokio/tokio/src --index-dir-base target/refs-idx
    score_references.py --truth truth.json --from-json-dir saved/ --markdown refs.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

TARGET_RECALL = 0.95
TARGET_PRECISION = 0.9


@dataclass
class SymbolScore:
    """Counts and rates of one symbol."""

    workspace: str
    name: str
    kind: str
    uses: int = 0
    returned: int = 0
    tp: int = 0
    fp_def: int = 0
    fp_other: int = 0  # comment, doc comment or string
    fp_symbol: int = 0  # a different symbol of the same name
    fp_unknown: int = 0  # a line that the truth does not hold
    defs_truth: int = 0
    defs_found: int | None = None  # None when the output has no "definitions"
    error: str | None = None
    seconds: float | None = None
    missed: list[tuple[str, int]] = field(default_factory=list)
    false_positives: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def fp(self) -> int:
        return self.returned - self.tp

    @property
    def recall(self) -> float:
        return self.tp / self.uses if self.uses else 1.0

    @property
    def precision(self) -> float:
        return self.tp / self.returned if self.returned else 0.0


# ---------------------------------------------------------------------------------------------------------
# Reading the output of `sg refs`


class OutputError(Exception):
    """The output of `sg refs` does not follow the contract."""


def normalize_path(path: str, root: Path | None) -> str:
    """A returned path as a workspace-relative POSIX path (tolerating `./`, backslashes, absolute paths)."""
    p = path.replace("\\", "/")
    if root is not None and os.path.isabs(p):
        try:
            p = Path(p).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return p  # outside the workspace: kept as is, it will not match the truth
    while p.startswith("./"):
        p = p[2:]
    return p


def parse_locations(items: object, what: str, root: Path | None) -> set[tuple[str, int]]:
    """The distinct (path, line) pairs of a list of location objects."""
    if not isinstance(items, list):
        raise OutputError(f'"{what}" is not a list')
    out = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise OutputError(f"{what}[{i}] is not an object")
        path, line = item.get("path"), item.get("line", item.get("start_line"))
        if not isinstance(path, str) or not isinstance(line, int) or isinstance(line, bool) or line < 1:
            raise OutputError(f'{what}[{i}] lacks a string "path" and a 1-based integer "line"')
        out.add((normalize_path(path, root), line))
    return out


def parse_output(text: str, name: str, root: Path | None) -> tuple[set, set | None, list[str]]:
    """(reference lines, definition lines or None, warnings) from the JSON printed by `sg refs NAME --json`."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise OutputError(f"not JSON: {e}") from None
    if not isinstance(doc, dict) or "references" not in doc:
        raise OutputError('not an object with "references"')
    warnings = []
    if doc.get("name") != name:
        warnings.append(f'"name" is {doc.get("name")!r}, expected {name!r}')
    refs = parse_locations(doc["references"], "references", root)
    defs = parse_locations(doc["definitions"], "definitions", root) if "definitions" in doc else None
    return refs, defs, warnings


def run_sg(sg: str, name: str, root: Path, index_dir: Path | None, timeout: float) -> str:
    """Runs `sg refs NAME --json --root ROOT` and returns its stdout; raises OutputError on failure."""
    env = dict(os.environ)
    if index_dir is not None:
        index_dir.mkdir(parents=True, exist_ok=True)
        env["SG_INDEX_DIR"] = str(index_dir)
    cmd = [sg, "refs", name, "--json", "--root", str(root)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise OutputError(f"timed out after {timeout:.0f}s") from None
    except OSError as e:
        raise OutputError(f"cannot run {sg}: {e}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        raise OutputError(f"exit status {proc.returncode}: {last[:200]}")
    return proc.stdout


# ---------------------------------------------------------------------------------------------------------
# Scoring


def score_symbol(sym: dict, refs: set, defs: set | None) -> SymbolScore:
    """Compares returned reference and definition lines with the truth of one symbol."""
    labels = {(h["path"], h["line"]): (h["label"], h.get("reason")) for h in sym["hits"]}
    # The truth covers Rust files only (`rg -t rust`): uses found in files of other languages are not judged.
    refs = {r for r in refs if r[0].endswith(".rs")}
    use_lines = {k for k, (label, _) in labels.items() if label == "use"}
    s = SymbolScore(sym["workspace"], sym["name"], sym.get("kind", "?"))
    s.uses, s.returned = len(use_lines), len(refs)
    s.tp = len(refs & use_lines)
    s.missed = sorted(use_lines - refs)
    for key in sorted(refs - use_lines):
        label, reason = labels.get(key, (None, None))
        if label == "def":
            s.fp_def += 1
            why = "def"
        elif label == "other" and reason == "other-symbol":
            s.fp_symbol += 1
            why = "other-symbol"
        elif label == "other":
            s.fp_other += 1
            why = reason or "other"
        else:
            s.fp_unknown += 1
            why = "not in truth"
        s.false_positives.append((key[0], key[1], why))
    def_lines = {(d["path"], d["line"]) for d in sym.get("definitions", [])}
    s.defs_truth = len(def_lines)
    if defs is not None:
        s.defs_found = len(defs & def_lines)
    return s


def averages(scores: list[SymbolScore]) -> dict:
    """Micro and macro recall and precision of a group of symbols."""
    n = len(scores)
    uses = sum(s.uses for s in scores)
    returned = sum(s.returned for s in scores)
    tp = sum(s.tp for s in scores)
    return {
        "symbols": n,
        "uses": uses,
        "returned": returned,
        "tp": tp,
        "micro_recall": tp / uses if uses else 1.0,
        "micro_precision": tp / returned if returned else 0.0,
        "macro_recall": sum(s.recall for s in scores) / n if n else 0.0,
        "macro_precision": sum(s.precision for s in scores) / n if n else 0.0,
        "errors": sum(1 for s in scores if s.error),
    }


def check_truth_against_checkout(truth: dict, key: str, root: Path) -> list[str]:
    """Warnings when truth lines of a workspace no longer hold the symbol's name (a different checkout)."""
    bad, total, missing = 0, 0, set()
    cache: dict[str, list[str] | None] = {}
    for sym in truth["symbols"]:
        if sym["workspace"] != key:
            continue
        word = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(sym["name"]) + r"(?![A-Za-z0-9_])")
        for h in sym["hits"]:
            total += 1
            if h["path"] not in cache:
                try:
                    cache[h["path"]] = (root / h["path"]).read_text(encoding="utf-8", errors="replace").split("\n")
                except OSError:
                    cache[h["path"]] = None
            lines = cache[h["path"]]
            if lines is None:
                missing.add(h["path"])
                bad += 1
            elif h["line"] > len(lines) or not word.search(lines[h["line"] - 1]):
                bad += 1
    out = []
    if bad:
        rev = truth.get("workspaces", {}).get(key, {}).get("revision", "?")
        out.append(
            f"workspace {key}: {bad} of {total} truth lines do not hold their symbol in {root}"
            f" ({len(missing)} files missing); the truth is for revision {rev}, scores will be wrong"
        )
    return out


# ---------------------------------------------------------------------------------------------------------
# Reporting


def fmt_rate(x: float) -> str:
    return f"{x:.3f}"


def symbol_rows(scores: list[SymbolScore]) -> list[list[str]]:
    rows = []
    for s in scores:
        defs = "-" if s.defs_found is None else f"{s.defs_found}/{s.defs_truth}"
        fp = f"{s.fp}" + (f" (d{s.fp_def} c{s.fp_other} s{s.fp_symbol} u{s.fp_unknown})" if s.fp else "")
        rows.append([
            s.workspace, s.name, s.kind, str(s.uses), str(s.returned), str(s.tp), fp, str(len(s.missed)),
            fmt_rate(s.recall), fmt_rate(s.precision), defs, s.error or "",
        ])
    return rows


HEADER = ["workspace", "symbol", "kind", "uses", "returned", "tp", "fp", "fn", "recall", "precision",
          "defs found", "error"]
SUMMARY_HEADER = ["group", "symbols", "uses", "returned", "tp", "micro recall", "micro precision",
                  "macro recall", "macro precision", "errors"]


def summary_rows(groups: list[tuple[str, dict]]) -> list[list[str]]:
    return [[g, str(a["symbols"]), str(a["uses"]), str(a["returned"]), str(a["tp"]),
             fmt_rate(a["micro_recall"]), fmt_rate(a["micro_precision"]),
             fmt_rate(a["macro_recall"]), fmt_rate(a["macro_precision"]), str(a["errors"])]
            for g, a in groups]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda c: c.replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sg", help="the sg binary (not needed with --from-json-dir)")
    p.add_argument("--truth", help="truth.json (required)")
    p.add_argument("--workspace", action="append", default=[], metavar="KEY=DIR",
                   help="root folder of a workspace of the truth (repeatable); only these workspaces are scored "
                        "(with --from-json-dir: all workspaces that have a folder there)")
    p.add_argument("--index-dir-base", help="pass SG_INDEX_DIR=<this>/<workspace key> to sg")
    p.add_argument("--from-json-dir", help="read saved outputs <dir>/<workspace>/<NAME>.json instead of running sg")
    p.add_argument("--save-json-dir", help="save each output of sg as <dir>/<workspace>/<NAME>.json")
    p.add_argument("--symbol", action="append", default=[], help="score only this symbol name (repeatable)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed per sg call (default 1800)")
    p.add_argument("--markdown", help="also write the tables as markdown to this file")
    p.add_argument("--details", action="store_true", help="list every missed use and false positive")
    p.add_argument("--check", action="store_true",
                   help=f"exit 1 unless overall micro recall >= {TARGET_RECALL} and micro precision >= "
                        f"{TARGET_PRECISION} and no call failed")
    p.add_argument("--self-test", action="store_true", help="check parsing and scoring on hand-made data, then exit")
    a = p.parse_args(argv)
    if a.self_test:
        return a
    if not a.from_json_dir and not a.sg:
        p.error("--sg is required unless --from-json-dir is given")
    if not a.from_json_dir and not a.workspace:
        p.error("give at least one --workspace KEY=DIR")
    return a


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if a.self_test:
        return self_test()
    if not a.truth:
        print("error: --truth is required", file=sys.stderr)
        return 2
    truth = json.loads(Path(a.truth).read_text(encoding="utf-8"))
    known = {s["workspace"] for s in truth["symbols"]}
    roots: dict[str, Path] = {}
    for spec in a.workspace:
        key, sep, folder = spec.partition("=")
        if not sep or not folder:
            print(f"error: --workspace wants KEY=DIR, got {spec!r}", file=sys.stderr)
            return 2
        if key not in known:
            print(f"error: workspace {key!r} is not in the truth (it has {', '.join(sorted(known))})",
                  file=sys.stderr)
            return 2
        if not Path(folder).is_dir():
            print(f"error: {folder} is not a folder", file=sys.stderr)
            return 2
        roots[key] = Path(folder)
    if a.from_json_dir:
        selected = set(roots) or {k for k in known if (Path(a.from_json_dir) / k).is_dir()}
    else:
        selected = set(roots)
    if not selected:
        print("error: no workspace to score", file=sys.stderr)
        return 2

    for key in sorted(roots):
        for w in check_truth_against_checkout(truth, key, roots[key]):
            print(f"warning: {w}", file=sys.stderr)

    scores: list[SymbolScore] = []
    for sym in truth["symbols"]:
        key, name = sym["workspace"], sym["name"]
        if key not in selected or (a.symbol and name not in a.symbol):
            continue
        root = roots.get(key)
        refs, defs, error, seconds = set(), None, None, None
        try:
            if a.from_json_dir:
                path = Path(a.from_json_dir) / key / f"{name}.json"
                try:
                    text = path.read_text(encoding="utf-8")
                except OSError as e:
                    raise OutputError(f"cannot read {path}: {e.strerror}") from None
            else:
                index_dir = Path(a.index_dir_base) / key if a.index_dir_base else None
                t0 = time.monotonic()
                text = run_sg(a.sg, name, root, index_dir, a.timeout)
                seconds = time.monotonic() - t0
                if a.save_json_dir:
                    out = Path(a.save_json_dir) / key / f"{name}.json"
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(text, encoding="utf-8")
            refs, defs, warnings = parse_output(text, name, root)
            for w in warnings:
                print(f"warning: {key}/{name}: {w}", file=sys.stderr)
        except OutputError as e:
            error = str(e)
            print(f"error: {key}/{name}: {error}", file=sys.stderr)
        s = score_symbol(sym, refs, defs)
        s.error, s.seconds = error, seconds
        scores.append(s)

    if not scores:
        print("error: no symbol selected", file=sys.stderr)
        return 2

    groups = [(k, averages([s for s in scores if s.workspace == k])) for k in sorted({s.workspace for s in scores})]
    groups += [(f"kind {k}", averages([s for s in scores if s.kind == k])) for k in sorted({s.kind for s in scores})]
    overall = averages(scores)
    groups.append(("overall", overall))

    print(text_table(HEADER, symbol_rows(scores)))
    print()
    print("fp = d: definition lines, c: comments/doc/strings, s: other symbols of the same name, u: lines not in truth")
    print()
    print(text_table(SUMMARY_HEADER, summary_rows(groups)))
    timed = [s.seconds for s in scores if s.seconds is not None]
    if timed:
        print(f"\nsg refs calls: {len(timed)}, total {sum(timed):.1f}s, slowest {max(timed):.2f}s")
    ok = (overall["micro_recall"] >= TARGET_RECALL and overall["micro_precision"] >= TARGET_PRECISION
          and overall["errors"] == 0)
    print(f"\ntargets: recall >= {TARGET_RECALL}, precision >= {TARGET_PRECISION} (overall micro): "
          + ("met" if ok else "NOT met"))

    if a.details:
        for s in scores:
            if s.missed or s.false_positives:
                print(f"\n{s.workspace}/{s.name}:")
                for path, line in s.missed:
                    print(f"  missed  {path}:{line}")
                for path, line, why in s.false_positives:
                    print(f"  fp      {path}:{line}  ({why})")

    if a.markdown:
        md = ["# `sg refs` against labelled usages", "",
              f"Truth: {Path(a.truth).name}; targets: recall >= {TARGET_RECALL}, precision >= {TARGET_PRECISION}.", "",
              markdown_table(SUMMARY_HEADER, summary_rows(groups)), "",
              markdown_table(HEADER, symbol_rows(scores)), "",
              "fp = d: definition lines, c: comments/doc/strings, s: other symbols of the same name, "
              "u: lines not in truth.", ""]
        Path(a.markdown).write_text("\n".join(md), encoding="utf-8")
    return 1 if (a.check and not ok) else 0


def self_test() -> int:
    """Scores hand-made outputs of `sg refs` against a hand-made truth, through files, as a real run reads them."""
    import tempfile

    truth = {"workspaces": {"w": {"revision": "x"}}, "symbols": [
        {"workspace": "w", "name": "parse", "kind": "function", "definitions": [{"path": "src/a.rs", "line": 3}],
         "hits": [{"path": "src/a.rs", "line": 3, "column": 8, "label": "def"},
                  {"path": "src/a.rs", "line": 9, "column": 5, "label": "use"},
                  {"path": "src/b.rs", "line": 1, "column": 15, "label": "use"},
                  {"path": "src/b.rs", "line": 7, "column": 9, "label": "use"},
                  {"path": "src/b.rs", "line": 8, "column": 4, "label": "other", "reason": "comment"},
                  {"path": "src/c.rs", "line": 2, "column": 9, "label": "other", "reason": "other-symbol"}]},
        {"workspace": "w", "name": "Config", "kind": "struct", "definitions": [{"path": "src/c.rs", "line": 1}],
         "hits": [{"path": "src/c.rs", "line": 1, "column": 12, "label": "def"},
                  {"path": "src/c.rs", "line": 5, "column": 3, "label": "use"}]},
    ]}
    parse_out = {"name": "parse", "references": [
        {"path": "./src/a.rs", "line": 9, "column": 5, "kind": "call",
         "enclosing": {"symbol": "main", "kind": "function", "start_line": 8, "end_line": 12}},
        {"path": "src/a.rs", "line": 9, "column": 20, "kind": "call", "enclosing": None},  # same line twice
        {"path": "src\\b.rs", "line": 1, "column": 15, "kind": "import", "enclosing": None},
        {"path": "src/a.rs", "line": 3, "column": 8, "kind": "use", "enclosing": None},  # the definition
        {"path": "src/b.rs", "line": 8, "column": 4, "kind": "use", "enclosing": None},  # a comment
        {"path": "src/c.rs", "line": 2, "column": 9, "kind": "call", "enclosing": None},  # another symbol
        {"path": "src/z.rs", "line": 40, "column": 1, "kind": "call", "enclosing": None}],  # not in truth
        "definitions": [{"path": "src/a.rs", "line": 3}]}
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append(f"{what}: got {got!r}, want {want!r}")

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "w").mkdir()
        (Path(d) / "w" / "parse.json").write_text(json.dumps(parse_out), encoding="utf-8")
        (Path(d) / "w" / "Config.json").write_text('{"name": "Config", "references": [', encoding="utf-8")
        (Path(d) / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
        refs, defs, warnings = parse_output((Path(d) / "w" / "parse.json").read_text(), "parse", None)
        s = score_symbol(truth["symbols"][0], refs, defs)
        expect("distinct returned lines", s.returned, 6)
        expect("true positives", s.tp, 2)
        expect("missed", s.missed, [("src/b.rs", 7)])
        expect("fp kinds (def, comment, other symbol, unknown)",
               (s.fp_def, s.fp_other, s.fp_symbol, s.fp_unknown), (1, 1, 1, 1))
        expect("recall", round(s.recall, 4), round(2 / 3, 4))
        expect("precision", round(s.precision, 4), round(2 / 6, 4))
        expect("defs found", s.defs_found, 1)
        expect("warnings", warnings, [])
        try:
            parse_output((Path(d) / "w" / "Config.json").read_text(), "Config", None)
            failures.append("truncated JSON was accepted")
        except OutputError:
            pass
        for bad in ('{"references": [{"path": "a.rs", "line": 0}]}', '{"references": [{"line": 3}]}',
                    '{"refs": []}', '[]'):
            try:
                parse_output(bad, "x", None)
                failures.append(f"accepted {bad}")
            except OutputError:
                pass
        expect("name warning", parse_output('{"name": "y", "references": []}', "x", None)[2],
               ["\"name\" is 'y', expected 'x'"])
        empty = score_symbol(truth["symbols"][1], set(), None)
        a = averages([s, empty])
        expect("micro recall", round(a["micro_recall"], 4), round(2 / 4, 4))
        expect("micro precision", round(a["micro_precision"], 4), round(2 / 6, 4))
        expect("macro recall", round(a["macro_recall"], 4), round((2 / 3 + 0) / 2, 4))
        expect("macro precision", round(a["macro_precision"], 4), round((2 / 6 + 0) / 2, 4))
        # the whole command over the files: one symbol fails to parse, so --check fails
        import contextlib
        import io
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--truth", str(Path(d) / "truth.json"), "--from-json-dir", d, "--check",
                         "--markdown", str(Path(d) / "r.md")])
        expect("exit status with --check", code, 1)
        expect("error reported", "error: w/Config: not JSON" in err.getvalue(), True)
        expect("overall row", any(line.split()[:5] == ["overall", "2", "4", "6", "2"]
                                  for line in out.getvalue().splitlines()), True)
        expect("markdown written", (Path(d) / "r.md").read_text().count("| w | parse |"), 1)
    for f in failures:
        print(f"self-test FAILED: {f}", file=sys.stderr)
    print("self-test: " + ("ok" if not failures else f"{len(failures)} failures"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
