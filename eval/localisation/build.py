#!/usr/bin/env python3
"""Rebuild the localisation evaluation set (issue-like text -> files its fix touched) from git histories.

Each row of pins.tsv names a project, its GitHub repository, the pinned snapshot revision, one bug-fix
commit made after that snapshot and the non-test source files the fix modified (all present in the
snapshot). This script, which needs no network:

  * materialises every project's snapshot as a plain tree: OUT/corpus/<project>/ (the regular files of the
    revision, as `git archive` would give them; symlinks, submodules and blobs absent from the copy skipped);
  * writes one `sg eval` spec per project: OUT/specs/<project>.json, with root "../corpus/<project>".
    A query is the fix's commit subject plus the first descriptive paragraph of its body (at most 80 words),
    with pull-request and issue references ("(#1234)", "Fixes #12", issue links), commit ids, Markdown link
    targets and trailers (Signed-off-by, ...) removed. Each query also records its fix commit.

Usage: build.py --mirrors DIR --out DIR [--pins pins.tsv]
where DIR holds one git directory per repository, as <owner>+<name>/repo, <owner>+<name>, <owner>/<name>,
<name>.git or <name>.
"""

import argparse
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

TRAILER = re.compile(
    r"^\s*(signed-off-by|co-authored-by|reviewed-by|acked-by|tested-by|reported-by|suggested-by|helped-by|"
    r"change-id|cc)\s*:",
    re.I,
)
REF_PHRASE = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?|refs?|see|part of|related to)\s*:?\s+"
    r"(?:(?:[\w.-]+/[\w.-]+)?#\d+|https?://github\.com/\S+/(?:issues|pull)/\d+)[.,;]?",
    re.I,
)
PR_SUFFIX = re.compile(r"\s*\((?:[\w.-]+/[\w.-]+)?#\d+\)")
BARE_REF = re.compile(r"(?:(?<=[\s(\[])|^)(?:[\w.-]+/[\w.-]+)?#\d+\b[.,;:]?|https?://github\.com/\S+/(?:issues|pull)/\d+\S*")
COMMIT_ID = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b")
MD_LINK = re.compile(r"\[([^\]]+)\]\(\S*?\)")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# one-line paragraphs of a squashed pull request: its commits' subjects ("* fix ...", "test: ...")
SQUASHED = re.compile(r"^\s*([-*] |(chore|test|tests|docs|style|ci|refactor|build)(\([^)]*\))?!?:)", re.I)
MAX_WORDS = 80


def _tidy(text: str) -> str:
    text = MD_LINK.sub(r"\1", text)
    text = REF_PHRASE.sub("", text)
    text = PR_SUFFIX.sub("", text)
    text = BARE_REF.sub("", text)
    text = COMMIT_ID.sub("", text)
    text = re.sub(r"\s?\([\s,;]*\)|\[skip [\w ]+\]", " ", text)
    text = re.sub(r"\s+([.,;])(?=\s|$)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip(" \t:-")


def _shorten(text: str) -> str:
    """At most MAX_WORDS words, cut after the last sentence that fits when there is one."""
    words = text.split()
    if len(words) <= MAX_WORDS:
        return text
    head = " ".join(words[:MAX_WORDS])
    end = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    return head[: end + 1] if end > 0 else head


def query_of(message: str) -> str:
    """The subject plus the first descriptive paragraph of the body, references and trailers removed."""
    message = HTML_COMMENT.sub("", message.replace("\r\n", "\n"))
    subject, _, body = message.strip().partition("\n")
    subject = _tidy(subject)
    paragraphs = re.split(r"\n\s*\n", body.split("\n-----")[0])
    for para in paragraphs:
        lines = [l for l in para.strip().splitlines() if l.strip() and not TRAILER.match(l)]
        lines = [l for l in lines if not re.match(r"^\s*(#{1,6}\s|[-*] \[[ x]\])", l)]  # headings, checkboxes
        text = _tidy(" ".join(l.strip() for l in lines))
        if len(lines) == 1 and SQUASHED.match(lines[0]):
            continue
        if "pre-commit.ci" in text or len(text.split()) < 4 or text.lower().rstrip(".") == subject.lower().rstrip("."):
            continue
        text = _shorten(text)
        return f"{subject}. {text}" if not subject.endswith((".", "!", "?")) else f"{subject} {text}"
    return subject


def find_git_dir(mirrors: Path, github: str) -> Path:
    owner, name = github.split("/")
    for cand in (f"{owner}+{name}/repo", f"{owner}+{name}", f"{owner}/{name}", f"{name}.git", name):
        path = mirrors / cand
        if (path / "objects").is_dir() or (path / ".git").is_dir():
            return path / ".git" if (path / ".git").is_dir() else path
    sys.exit(f"no git directory for {github} under {mirrors}")


def git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout


def materialise(git_dir: Path, rev: str, dest: Path) -> None:
    """Writes the regular files of `rev` under `dest` (like `git archive`), skipping symlinks, submodules and
    blobs the repository copy lacks (a shallow or size-limited mirror may omit very large files)."""
    entries = []
    for rec in git(git_dir, "ls-tree", "-r", "-z", rev).split(b"\0"):
        if rec:
            meta, path = rec.split(b"\t", 1)
            mode, kind, sha = meta.split()
            if kind == b"blob" and mode in (b"100644", b"100755"):
                entries.append((sha, path.decode()))
    batch = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    batch.stdin.write(b"".join(sha + b"\n" for sha, _ in entries))
    batch.stdin.close()
    missing = 0
    for sha, path in entries:
        header = batch.stdout.readline().split()
        if header[1] == b"missing":
            missing += 1
            continue
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    batch.wait()
    if missing:
        print(f"{dest.name}: {missing} blob(s) not in the repository copy, skipped", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mirrors", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pins", type=Path, default=Path(__file__).with_name("pins.tsv"))
    args = ap.parse_args()

    projects: dict[str, dict] = {}
    with open(args.pins, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            p = projects.setdefault(row["project"], {**row, "rows": []})
            if (row["github"], row["snapshot"], row["language"]) != (p["github"], p["snapshot"], p["language"]):
                sys.exit(f"{row['project']}: one github, snapshot and language per project")
            p["rows"].append(row)

    for name, p in projects.items():
        git_dir = find_git_dir(args.mirrors, p["github"])
        corpus = args.out / "corpus" / name
        if not corpus.exists():
            materialise(git_dir, p["snapshot"], corpus)
        snapshot_files = set(git(git_dir, "ls-tree", "-r", "--name-only", p["snapshot"]).decode().splitlines())
        queries = []
        for row in p["rows"]:
            sha = row["fix_commit"]
            if subprocess.run(["git", "--git-dir", str(git_dir), "merge-base", "--is-ancestor", p["snapshot"], sha]).returncode:
                sys.exit(f"{name}: {sha} is not after the snapshot")
            relevant = row["relevant"].split()
            missing = [r for r in relevant if r not in snapshot_files]
            if missing:
                sys.exit(f"{name}: {sha}: not in the snapshot: {missing}")
            message = git(git_dir, "log", "-1", "--format=%B", sha).decode()
            queries.append({"query": query_of(message), "category": "localisation", "language": p["language"],
                            "relevant": relevant, "commit": sha})
        spec = {"name": f"localisation-{name}", "root": f"../corpus/{name}", "code_only": True, "queries": queries}
        (args.out / "specs").mkdir(parents=True, exist_ok=True)
        (args.out / "specs" / f"{name}.json").write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n")
        print(f"{name}: {len(queries)} queries, snapshot {p['snapshot']}")


if __name__ == "__main__":
    main()
