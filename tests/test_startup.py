"""A rebuild with nothing changed loads none of the heavy libraries (issue 14): with
nothing changed, start-up is most of what a rebuild costs."""

import json
import sqlite3
import subprocess
import sys

# Modules that only changed files, or a comparison, need: the pydantic models of the
# seed formats (building them is most of their cost) and rapidfuzz. (pydantic itself is
# loaded anyway: typer coerces the command's parameters with it.)
NOT_LOADED_WHEN_NOTHING_CHANGED = ("rapidfuzz", "tracker.models", "rich.console")

REBUILD = """
import json, sys
from typer.testing import CliRunner
from tracker.cli import app
result = CliRunner().invoke(app, ["build", sys.argv[1], "--db", sys.argv[2]])
print(json.dumps({"output": result.output, "exit": result.exit_code,
                  "loaded": sorted(name for name in sys.argv[3:] if name in sys.modules)}))
"""


def rebuild_in_fresh_process(seeds, db_path, modules):
    done = subprocess.run([sys.executable, "-c", REBUILD, str(seeds), str(db_path), *modules],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_a_rebuild_with_nothing_changed_loads_no_heavy_module(seeds, db_path):
    found = rebuild_in_fresh_process(seeds, db_path, NOT_LOADED_WHEN_NOTHING_CHANGED)
    assert found["exit"] == 0, found["output"]
    assert "Nothing changed since the last build" in found["output"]
    assert found["loaded"] == []


def test_a_changed_file_is_parsed_in_the_parser_process(seeds, db_path):
    # the check above must be able to fail: a real change is parsed, by the parser process
    # (tracker/parser_process.py) that loaded the models while the tree was listed
    document = seeds / "documents" / "dailynk-report.yml"  # three protected quotes
    document.write_text(document.read_text().replace("title: ", "title: Edited ", 1))
    found = rebuild_in_fresh_process(seeds, db_path, ("tracker.models", "rapidfuzz", "rich.console", "yaml"))
    assert found["exit"] == 0, found["output"]
    assert "(1 file(s) parsed, 1 document(s) rewritten" in " ".join(found["output"].split())
    # ...and a title edit meets no protected quote anew: nothing is compared, and the
    # build's lines are printed without rich
    assert found["loaded"] == []
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT title FROM documents WHERE id = 'dailynk-report'").fetchone()[0].startswith("Edited")
    conn.close()


def test_the_command_line_starts_without_the_build_or_the_models():
    # `tracker --help`, status, review, serve...: only build and check need the parsers
    modules = ("tracker.build", "tracker.cache", "yaml", "tracker.models", "rapidfuzz", "rich.progress")
    done = subprocess.run([sys.executable, "-c", "import sys, tracker.cli; "
                           f"print([name for name in {modules!r} if name in sys.modules])"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


PROGRESS = """
import sys
from tracker.cli import BuildProgress
BuildProgress.DELAY = 0  # as if the build had run long
with BuildProgress() as progress:
    progress("parsing changed documents", 1, 2)
print("rich.progress" in sys.modules)
"""


def test_the_progress_bar_is_shown_on_a_terminal_only():
    # a build whose stderr is a file or a pipe (a script, CI, the benchmark) has nobody
    # to show a bar to, and never pays for rich's progress display
    import os
    import pty

    piped = subprocess.run([sys.executable, "-c", PROGRESS], capture_output=True, text=True, check=True)
    assert piped.stdout.strip() == "False"
    assert piped.stderr == ""
    leader, follower = pty.openpty()
    try:
        on_terminal = subprocess.run([sys.executable, "-c", PROGRESS], stdout=subprocess.PIPE, stderr=follower,
                                     text=True, check=True)
    finally:
        os.close(follower)
        os.close(leader)
    assert on_terminal.stdout.strip() == "True"
