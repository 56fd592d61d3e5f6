"""The README and docs/ kept honest: the user part comes first and is short, every link and
screenshot exists, and every `dangjian` command they show is a real command with the options used.
(The settings table, the curl lines and the LangChain example are run by test_config,
service/test_api and test_langchain.)"""

from __future__ import annotations

import re
import shlex

import pytest
from click.testing import CliRunner

from dangjian.cli.base import main

from .conftest import REPO, documentation

README = (REPO / "README.md").read_text(encoding="utf-8")
PAGES = sorted((REPO / "docs").glob("*.md"))


def test_the_readme_is_a_short_user_guide_that_links_the_reference_pages():
    assert len(README) < 8000
    assert "后续版本" not in README
    first = README.split("\n## ")[1:4]
    assert [part.split("\n", 1)[0] for part in first] == ["现在能做什么", "两条命令", "网页"]
    assert "bash scripts/start.sh" in README and "bash scripts/test.sh" in README
    linked = set(re.findall(r"\]\((docs/[a-z_]+\.md)\)", README))
    assert linked == {f"docs/{p.name}" for p in PAGES}


def test_every_link_and_image_of_the_docs_exists():
    for page in [REPO / "README.md", *PAGES]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://")):
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"
    shots = re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+\.png)\)", README)
    assert len(shots) == 2


def documented_commands() -> list[list[str]]:
    """Each `dangjian …` line of a shell block in the README and docs/, as argv (comments removed)."""
    commands = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", documentation(), re.S):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("dangjian "):
                commands.append(shlex.split(line.replace("[", "").replace("]", "").replace("|", " "))[1:])
    return commands


def test_the_documented_commands_exist():
    commands = documented_commands()
    assert len(commands) >= 20
    names = {argv[0] for argv in commands}
    assert {"ingest", "search", "ask", "serve", "keys", "quiz", "draft"} <= names


@pytest.mark.parametrize("argv", documented_commands(), ids=lambda argv: " ".join(argv[:2]))
def test_each_documented_command_and_its_options_are_accepted(argv):
    """`dangjian <command> [<subcommand>] -h` answers, and every --option the docs use is in its help."""
    path = [argv[0]]
    if argv[0] in main.commands and hasattr(main.commands[argv[0]], "commands") and len(argv) > 1:
        path.append(argv[1])
    out = CliRunner().invoke(main, [*path, "-h"])
    assert out.exit_code == 0, (argv, out.output)
    for option in (a.split("=", 1)[0] for a in argv if a.startswith("--")):
        assert option in out.output, (argv, option)
