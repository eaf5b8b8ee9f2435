"""The parser process a rebuild starts (tracker/parser_process.py): it parses the changed
files as the build itself would, a problem it finds is reported as the build reports
one, and a parser that died leaves the work to the build."""

import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from tracker import parser_process
from tracker.cache import parse_file

BUILD = [sys.executable, "-m", "tracker", "build"]


def rebuild(seeds, db_path):
    # a fresh process, as the tracker command runs: its entry point starts the parser
    # process before the command line loads
    return subprocess.run(BUILD + [str(seeds), "--db", str(db_path)], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="1000"))


def work_of(seeds):
    return [(str(path), f"documents/{path.name}", None, None) for path in sorted((seeds / "documents").glob("*.yml"))]


def test_it_parses_as_the_build_does(seeds):
    work = work_of(seeds)
    parser = parser_process.ParserProcess()
    assert parser.parse(work) == [parse_file(item) for item in work]
    parser.close()  # (after parse: nothing left to end)


def test_a_parser_that_died_leaves_the_work_to_the_build(seeds):
    work = work_of(seeds)
    parser = parser_process.ParserProcess()
    os.kill(parser.pid, signal.SIGKILL)
    assert parser.parse(work) == [parse_file(item) for item in work]


def test_an_unused_parser_is_ended(seeds):
    parser = parser_process.ParserProcess()
    parser.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(parser.pid, os.WNOHANG)  # reaped: no such child any more


@pytest.mark.parametrize("edit, expected", [
    (lambda text: text.replace("published: '2020-01-07'", "published: '2020-13-07'", 1),
     ["dailynk-report.yml:4", "published", "has no month 13"]),
    (lambda text: text + "\n  - [unclosed\n", ["dailynk-report.yml:", "not valid YAML"]),
])
def test_a_problem_found_by_the_parser_process_is_reported_and_nothing_written(seeds, db_path, edit, expected):
    before = db_path.read_bytes()
    document = seeds / "documents" / "dailynk-report.yml"
    document.write_text(edit(document.read_text()))
    done = rebuild(seeds, db_path)
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert "nothing was written" in output and all(part in output for part in expected), output
    assert db_path.read_bytes() == before


def test_check_reports_a_problem_found_by_the_parser_process(seeds):
    document = seeds / "documents" / "wire-story.yml"
    document.write_text(document.read_text().replace("relation: corroborates", "relation: echoes", 1))
    done = subprocess.run([sys.executable, "-m", "tracker", "check", str(seeds)], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="1000"))
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1 and "Traceback" not in output, output
    assert "wire-story.yml:" in output and "links[0]" in output and "relation" in output, output


def test_an_edit_is_picked_up_through_the_parser_process(seeds, db_path):
    document = seeds / "documents" / "kcna-congress.yml"
    document.write_text(document.read_text().replace("title: ", "title: Retitled ", 1))
    done = rebuild(seeds, db_path)
    assert done.returncode == 0, done.stderr
    assert "1 file(s) parsed" in " ".join(done.stdout.split())
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT title FROM documents WHERE id = 'kcna-congress'").fetchone()[0].startswith("Retitled")
    conn.close()
