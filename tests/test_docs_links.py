"""Every local file or image linked from README.md and docs/*.md is in the repository."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = ("http://", "https://", "mailto:", "#")


requires_git = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def local_links(path: Path) -> list[str]:
    """Link targets of a markdown file that point into the repository."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code blocks hold no links
    targets = []
    for target in LINK.findall(text):
        if target.startswith(EXTERNAL):
            continue
        targets.append(target.split("#", 1)[0])
    return [t for t in targets if t]


def tracked_files() -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout
    return {p for p in out.split("\0") if p}


@requires_git
def test_local_links_exist_and_are_tracked() -> None:
    tracked = tracked_files()
    problems = []
    for md in markdown_files():
        for target in local_links(md):
            path = (md.parent / target).resolve()
            try:
                rel = path.relative_to(ROOT).as_posix()
            except ValueError:
                problems.append(f"{md.name}: {target} points outside the repository")
                continue
            if not path.exists():
                problems.append(f"{md.name}: {target} does not exist")
            elif path.is_dir():
                if not any(f.startswith(rel.rstrip("/") + "/") for f in tracked):
                    problems.append(f"{md.name}: {target} holds no tracked file")
            elif rel not in tracked:
                problems.append(f"{md.name}: {target} is not tracked by git")
    assert not problems, "Broken links:\n" + "\n".join(problems)


def test_the_link_pattern() -> None:
    text = 'See [a](docs/a.md#x), ![img](results/p.png "t") and [web](https://x.org).'
    found = [t for t in LINK.findall(text)]
    assert found == ["docs/a.md#x", "results/p.png", "https://x.org"]


def is_ignored(path: str) -> bool:
    """Whether git's ignore rules match ``path`` (tracked or not)."""
    done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    return done.returncode == 0


@requires_git
def test_results_folders_under_docs_are_not_ignored() -> None:
    assert not is_ignored("docs/results/fast/results.md")
    assert not is_ignored("docs/results/fast/reliability.png")
    assert is_ignored("results/results.md")  # a run's default output folder stays out
