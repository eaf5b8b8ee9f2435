"""The tracker command through typer's CliRunner."""

import pytest
from typer.testing import CliRunner

from tracker.cli import app

runner = CliRunner()


def test_build_and_status(tmp_path, seeds):
    db = tmp_path / "t.db"
    result = runner.invoke(app, ["build", str(seeds), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "6 claims, 9 appearances, 1 links, 3 documents, 9 sources" in " ".join(result.output.split())
    result = runner.invoke(app, ["status", "--db", str(db)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") >= 3}
    assert "3" in lines["corroborated"] and "1" in lines["circular"]
    assert lines["informant"].split("│")[2].strip() == "2"  # two informant origins


def test_check_writes_nothing(tmp_path, seeds):
    result = runner.invoke(app, ["check", str(seeds)])
    assert result.exit_code == 0
    assert "texts not checked" in result.output
    assert not (tmp_path / "db").exists()


def test_status_without_a_database_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["status", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "does not exist: run 'tracker build' first" in " ".join(result.output.split())
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("command", [
    "build", "check", "serve", "status", "review", "flag", "accept", "reject", "note", "export-reviews", "publish"])
def test_every_command_explains_itself(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--db" in result.output or command == "check"
    main = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert command in main.output
