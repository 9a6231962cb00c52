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
