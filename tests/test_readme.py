"""The README's experiment table is the registry's (`practica list --markdown`)."""

from pathlib import Path

from practica import cli

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_matches_registry(capsys):
    text = README.read_text()
    start = text.index("<!-- experiments:start -->\n") + len("<!-- experiments:start -->\n")
    end = text.index("<!-- experiments:end -->")
    assert cli.main(["list", "--markdown"]) == 0
    assert text[start:end] == capsys.readouterr().out, \
        "README table is stale: paste the output of `practica list --markdown`"


def test_readme_commands_point_at_existing_scripts():
    text = README.read_text()
    root = README.parent
    for script in ("scripts/setup.sh", "scripts/test.sh"):
        assert script in text and (root / script).is_file()
