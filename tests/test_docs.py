"""Docs are tested: every setting is documented, the README opens with the two commands."""

from pathlib import Path

from videoannotator.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "config.md").read_text()
    for name, env, default, doc in Settings.docs():
        assert f"`{env}`" in text, f"{env} missing from docs/config.md"
        assert doc and doc in text, f"{env}'s doc line differs from docs/config.md; regenerate it"


def test_readme_opens_with_the_two_commands():
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.strip()]
    block = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert block[0].startswith("make demo") and block[1].startswith("make test")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_every_test_reliability_md_names_exists():
    """docs/reliability.md proves each promise by naming tests: each must exist, so the page
    cannot outlive a renamed or deleted test. '::test_x' after 'file.py::…' is in that file."""
    import re

    text = (ROOT / "docs" / "reliability.md").read_text()
    named, current = [], None
    for match in re.finditer(r"`(?:(test_\w+\.py)|(test_\w+\.py)?::(test_\w+))`", text):
        whole_file, file_part, test = match.groups()
        current = whole_file or file_part or current
        if whole_file:
            named.append((whole_file, None))
        else:
            named.append((current, test))
    assert len(named) > 30, "the page should name its tests"
    for file, test in named:
        source = ROOT / "tests" / file
        assert source.is_file(), f"docs/reliability.md names {file}, which is not in tests/"
        if test:
            assert re.search(rf"^def {test}\(", source.read_text(), re.MULTILINE), (
                f"docs/reliability.md names {file}::{test}, which does not exist"
            )
