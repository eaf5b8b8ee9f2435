"""The edit loop at scale (issue 14): warnings kept per file in the seed cache and shown
as a summary, a no-change rebuild that parses nothing and says so, whole-tree checks
over what changed that still find every problem, and search counts bounded on the
Datasette plugin's path. Timings live in bench/, not here."""

import copy
import sqlite3

import pytest
import yaml
from typer.testing import CliRunner

from conftest import DOCUMENTS, write_seeds
from tracker import cli as cli_module
from tracker.build import build, cache_path_for, check
from tracker.cli import app
from tracker.seeds import SeedError
from tracker.serve import make_datasette
from test_datasette import signed_in

runner = CliRunner()
NAMED = 12  # documents whose claim text names its protected source: one warning each


def cli(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def naming_documents(count=NAMED):
    documents = copy.deepcopy(DOCUMENTS)
    for n in range(count):
        documents[f"named-{n:02d}"] = {
            "id": f"named-{n:02d}", "title": f"Report {n}", "publisher": "dailynk", "published": "2022",
            "claims": [{"id": f"named-claim-{n:02d}", "text": f"The Hyesan Trader Informant saw event {n}.",
                        "source": "dnk-hyesan", "quote": f"event {n}"}],
        }
    return documents


def warnings_table(db):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT kind, file, entry, field, message FROM warnings ORDER BY file, entry").fetchall()
    conn.close()
    return rows


def relative(rows):
    """Warnings rows with the seed tree's folder taken off (two trees, one content)."""
    return [(kind, file.split("/seeds")[-1], *rest) for kind, file, *rest in rows]


def test_a_build_shows_a_summary_of_its_warnings_and_keeps_them_all(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", documents=naming_documents())
    db = tmp_path / "t.db"
    result = cli("build", seeds, "--db", db)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"{NAMED} warning(s): {NAMED} protected source named" in output
    assert output.count("warning:") == cli_module.WARNINGS_SHOWN
    assert f"and {NAMED - cli_module.WARNINGS_SHOWN} more" in output and "tracker check --warnings" in output
    # the first ones shown in full, with their line
    assert "named-00.yml:" in output.split("warning:")[1].split(":")[0] + ":"
    rows = warnings_table(db)
    assert len(rows) == NAMED and {row[0] for row in rows} == {"protected source named"}

    listed = cli("check", seeds, "--warnings")
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if line.startswith("warning:")]
    assert len(lines) == NAMED
    # each with its file and line: "file.yml:LINE: claims[0] ..."
    assert all(".yml:" in line.split(": claims[0]")[0] for line in lines), lines


def test_a_rebuild_with_nothing_changed_parses_nothing_and_says_so(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", documents=naming_documents())
    db = tmp_path / "t.db"
    assert cli("build", seeds, "--db", db).exit_code == 0
    before = warnings_table(db)
    result = cli("build", seeds, "--db", db)
    assert result.exit_code == 0, result.output
    assert "Nothing changed since the last build" in " ".join(result.output.split())
    assert f"{NAMED} warning(s)" in " ".join(result.output.split())
    report = build(seeds, db)
    assert (report.files_parsed, report.documents_rewritten, report.claims_refreshed) == (0, 0, 0)
    assert warnings_table(db) == before


@pytest.mark.parametrize("edit", ["reword", "rename source", "remove document", "new document"])
def test_warnings_follow_an_edit_as_a_cold_build_finds_them(tmp_path, edit):
    documents = naming_documents()
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    db = tmp_path / "t.db"
    build(seeds, db)
    sources = None
    if edit == "reword":
        documents["named-03"]["claims"][0]["text"] = "Someone saw event 3."
    elif edit == "remove document":
        del documents["named-05"]
        (seeds / "documents" / "named-05.yml").unlink()
    elif edit == "new document":
        documents["named-99"] = copy.deepcopy(documents["named-01"])
        documents["named-99"].update(id="named-99")
        documents["named-99"]["claims"][0]["id"] = "named-claim-99"
    else:  # sources.yml changes: every warning is computed afresh
        from conftest import SOURCES
        sources = copy.deepcopy(SOURCES)
        next(s for s in sources if s["id"] == "dnk-hyesan")["name"] = "Border Trader"
    write_seeds(seeds, sources=sources, documents=documents)
    report = build(seeds, db)
    cold = tmp_path / "cold.db"
    build(write_seeds(tmp_path / "cold" / "seeds", sources=sources, documents=documents), cold)
    assert relative(warnings_table(db)) == relative(warnings_table(cold))
    assert len(report.warnings) == len(warnings_table(cold))
    expected = {"reword": NAMED - 1, "rename source": 0, "remove document": NAMED - 1, "new document": NAMED + 1}
    assert len(warnings_table(db)) == expected[edit]


QUOTE = "rice prices at the Hyesan market doubled in the last two weeks"


def quoted_and_definer(echo_text):
    """A protected quote in one document, which only refers to the claim `echo`; `echo`
    is defined in another document ("definer") with the text given."""
    documents = {**copy.deepcopy(DOCUMENTS), **FILLER}
    documents["quoted"] = {"id": "quoted", "title": "Quoted", "publisher": "dailynk", "published": "2022",
                           "claims": [{"id": "quoted-claim", "text": "Prices moved.", "source": "dnk-hyesan",
                                       "quote": QUOTE},
                                      {"ref": "echo", "source": "wire"}]}
    documents["definer"] = {"id": "definer", "title": "Definer", "publisher": "wire", "published": "2022",
                            "claims": [{"id": "echo", "text": echo_text, "source": "wire"}]}
    return documents


def test_a_reworded_claim_is_compared_with_the_quotes_of_every_document_it_appears_in(tmp_path):
    """The claim's text is defined in one file, the protected quote sits in another that
    only refers to it: rewording the text there is found by a rebuild of that one file."""
    documents = quoted_and_definer("Something else entirely.")
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    db = tmp_path / "t.db"
    assert build(seeds, db).warnings == []
    documents["definer"]["claims"][0]["text"] = "Rice prices at the Hyesan market doubled in the last two weeks."
    write_seeds(seeds, documents=documents)
    report = build(seeds, db)
    assert report.files_parsed == 1
    assert [(w.entry, w.kind) for w in report.warnings] == [("claims[0] (id echo)", "protected quote exposed")]


def test_a_claims_exposure_follows_its_file_edits_as_a_cold_build_sees_them(tmp_path):
    """The claim whose text renders a quote of another document is defined in a file that
    then changes: its title (the claim's text and place as they were: not compared again),
    then an entry before the claim (the same text at another place: the warning points at
    the new place). Each rebuild parses that one file and keeps the warnings a cold build
    of the same tree has."""
    documents = quoted_and_definer("Rice prices at the Hyesan market doubled in the last two weeks.")
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    db = tmp_path / "t.db"
    assert [w.entry for w in build(seeds, db).warnings] == ["claims[0] (id echo)"]
    for n, (edit, entry) in enumerate([("title", "claims[0] (id echo)"), ("entry before", "claims[1] (id echo)")]):
        if edit == "title":
            documents["definer"]["title"] = "Definer, retitled"
        else:
            documents["definer"]["claims"].insert(0, {"id": "first", "text": "Another thing.", "source": "wire"})
        write_seeds(seeds, documents=documents)
        report = build(seeds, db)
        assert report.files_parsed == 1
        assert [w.entry for w in report.warnings] == [entry]
        cold = tmp_path / f"cold-{n}.db"
        build(write_seeds(tmp_path / f"cold-{n}" / "seeds", documents=documents), cold)
        assert relative(warnings_table(db)) == relative(warnings_table(cold))


def test_a_linked_claims_text_is_compared_again_when_only_the_link_changes(tmp_path):
    """An exposure that comes from another file (a link recorded elsewhere) is found by a
    rebuild that parsed only that file."""
    documents = copy.deepcopy(DOCUMENTS)
    quote = "rice prices at the Hyesan market doubled in the last two weeks"
    documents["dailynk-report"]["claims"][2]["quote"] = quote
    documents["other"] = {"id": "other", "title": "Other", "publisher": "wire", "published": "2022",
                          "claims": [{"id": "prices-up", "text": "Rice prices at the Hyesan market doubled "
                                      "in the last two weeks.", "source": "wire"}]}
    seeds = write_seeds(tmp_path / "seeds", documents=documents)
    db = tmp_path / "t.db"
    assert build(seeds, db).warnings == []
    documents["linker"] = {"id": "linker", "title": "Linker", "publisher": "wire", "published": "2022",
                           "claims": [{"ref": "prices-up", "source": "wire"}],
                           "links": [{"from": "prices-up", "to": "market-crackdown", "relation": "corroborates"}]}
    write_seeds(seeds, documents=documents)
    report = build(seeds, db)
    assert report.files_parsed == 1
    assert [w.entry for w in report.warnings] == ["claims[0] (id prices-up)"]


RENDERING = "Rice prices at the Hyesan market tripled in the last two weeks."
STANDING = "residents were told to hand in two days of rations each month"


def exposure_world():
    """The protected Hyesan informant's quote on market-crackdown, a claim `echo` (defined
    in a document of its own) whose text renders it, not yet near it; and a standing
    exposure in echo's document (a claim text there renders the informant's quote on
    villa-rumour), which every edit must leave as it is."""
    documents = {**copy.deepcopy(DOCUMENTS), **FILLER}
    documents["dailynk-report"]["claims"][2]["quote"] = QUOTE
    documents["echo-doc"] = {
        "id": "echo-doc", "title": "Echo", "publisher": "wire", "published": "2022",
        "claims": [{"id": "echo", "text": RENDERING, "source": "wire"},
                   {"id": "standing", "text": "Residents were told to hand in two days of rations each month.",
                    "source": "wire"},
                   {"ref": "villa-rumour", "source": "dnk-hyesan", "quote": STANDING}]}
    return documents


def ref_in_the_quotes_document(d):
    d["dailynk-report"]["claims"].append({"ref": "echo", "source": "dnk-pyongyang"})


def quote_where_the_echo_is(d):
    d["echo-doc"]["claims"].append({"ref": "market-crackdown", "source": "dnk-hyesan", "quote": QUOTE})


def link_recorded_elsewhere(d):
    d["filler-3"]["claims"].append({"ref": "echo", "source": "wire"})
    d["filler-3"]["links"] = [{"from": "echo", "to": "market-crackdown", "relation": "corroborates"}]


def link_note_elsewhere(d):
    d["filler-4"]["links"] = [{"from": "filler-claim-4", "to": "market-crackdown", "relation": "corroborates",
                               "note": RENDERING}]


def document_note(d):
    d["dailynk-report"]["notes"] = RENDERING


def document_of_its_own(d):  # undone: the file is deleted
    d["linker"] = {"id": "linker", "title": "Linker", "publisher": "wire", "published": "2022",
                   "claims": [{"ref": "echo", "source": "wire"}],
                   "links": [{"from": "market-crackdown", "to": "echo", "relation": "contradicts"}]}


def title_of_the_standing_exposures_document(d):
    d["echo-doc"]["title"] = "Echo, retitled"


def title_of_the_quotes_document(d):
    d["dailynk-report"]["title"] = "Hard times, retitled"


# each edit, and the exposure warnings of the edited tree (the standing one included)
EXPOSURE_EDITS = {ref_in_the_quotes_document: 2, quote_where_the_echo_is: 2, link_recorded_elsewhere: 2,
                  link_note_elsewhere: 2, document_note: 2, document_of_its_own: 2,
                  title_of_the_standing_exposures_document: 1, title_of_the_quotes_document: 1}


def write_tree(seeds, documents):
    write_seeds(seeds, documents=documents)
    for path in (seeds / "documents").glob("*.yml"):
        if path.stem not in documents:
            path.unlink()


@pytest.mark.parametrize("direction", ["made", "undone"])
@pytest.mark.parametrize("edit", EXPOSURE_EDITS, ids=lambda edit: edit.__name__)
def test_exposure_warnings_after_a_one_file_edit_are_a_cold_builds(tmp_path, edit, direction):
    """The exposure check of a rebuild compares again only the quotes whose pairings the
    edited file's rows can change (cache.EXPOSURE_ROWS_CHANGED): each way a quote comes
    to meet a text, or stops meeting it, from one edited file, gives the warnings a cold
    build of the same tree gives."""
    base = exposure_world()
    edited = copy.deepcopy(base)
    edit(edited)
    before, after = (base, edited) if direction == "made" else (edited, base)
    seeds = write_seeds(tmp_path / "seeds", documents=before)
    db = tmp_path / "t.db"
    build(seeds, db)
    write_tree(seeds, after)
    report = build(seeds, db)
    assert report.files_parsed == (0 if edit is document_of_its_own and direction == "undone" else 1)
    cold = tmp_path / "cold.db"
    build(write_seeds(tmp_path / "cold" / "seeds", documents=after), cold)
    assert relative(warnings_table(db)) == relative(warnings_table(cold))
    expected = EXPOSURE_EDITS[edit] if direction == "made" else 1
    assert [w.kind for w in report.warnings] == ["protected quote exposed"] * expected


def edits_that_break():
    """(edit of the documents, the text of the problem): each touches one file, and the
    problem may sit in another file the rebuild did not parse."""
    def unknown_ref(d):
        d["kcna-congress"]["claims"].append({"ref": "no-such-claim", "source": "kcna"})

    def definition_removed(d):  # wire-story still refers to it
        d["kcna-congress"]["claims"] = [{"id": "other-claim", "text": "Other.", "source": "kcna"}]

    def duplicate_link(d):  # the same link as wire-story's, recorded elsewhere
        d["kcna-congress"]["links"] = [{"from": "market-crackdown", "to": "rations-cut", "relation": "corroborates"}]

    def duplicate_claim(d):
        d["kcna-congress"]["claims"].append({"id": "villa-rumour", "text": "Again.", "source": "kcna"})

    def duplicate_document(d):
        d["copy"] = dict(d["kcna-congress"], claims=[{"ref": "kim-plan-failed", "source": "kcna"}])

    def link_end_removed(d):  # wire-story's link points at market-crackdown
        d["dailynk-report"]["claims"].pop(2)

    def definition_made_draft(d):  # wire-story refers to it, in a file not parsed again
        d["dailynk-report"]["claims"][0]["draft"] = True

    def link_end_made_draft(d):  # wire-story's link points at market-crackdown
        d["dailynk-report"]["claims"][2]["draft"] = True

    return [(unknown_ref, "unknown claim 'no-such-claim'"),
            (definition_made_draft, "claim 'hardship-provinces' exists only as a draft"),
            (link_end_made_draft, "claim 'market-crackdown' exists only as a draft: confirm it"),
            (definition_removed, "unknown claim 'kim-plan-failed'"),
            (duplicate_link, "duplicate link"),
            (duplicate_claim, "is defined twice"),
            (duplicate_document, "duplicate document id 'kcna-congress'"),
            (link_end_removed, "unknown claim 'market-crackdown'")]


# Filler documents, so that one changed file is well under checks.FULL_CHECK_SHARE of
# the tree and the rebuild's checks really are scoped to what changed.
FILLER = {f"filler-{n}": {"id": f"filler-{n}", "title": f"Filler {n}", "publisher": "wire", "published": "2020",
                          "claims": [{"id": f"filler-claim-{n}", "text": f"Filler claim {n}.", "source": "wire"}]}
          for n in range(10)}


@pytest.mark.parametrize("edit, expected", edits_that_break(), ids=lambda v: getattr(v, "__name__", ""))
def test_checks_over_what_changed_find_what_a_full_check_finds(tmp_path, edit, expected):
    base = {**copy.deepcopy(DOCUMENTS), **FILLER}
    seeds = write_seeds(tmp_path / "seeds", documents=base)
    db = tmp_path / "t.db"
    build(seeds, db)
    documents = copy.deepcopy(base)
    edit(documents)
    write_seeds(seeds, documents=documents)
    with pytest.raises(SeedError) as scoped:
        build(seeds, db)
    with pytest.raises(SeedError) as full:
        check(seeds)  # a fresh cache: the whole tree
    assert sorted(map(str, scoped.value.problems)) == sorted(map(str, full.value.problems))
    assert any(expected in str(p) for p in scoped.value.problems), scoped.value.problems
    # still reported on the next attempt, the cache having seen the files already
    with pytest.raises(SeedError) as again:
        build(seeds, db)
    assert sorted(map(str, again.value.problems)) == sorted(map(str, full.value.problems))
    # fixed: the build goes through
    write_seeds(seeds, documents=base)
    for extra in set(documents) - set(base):
        (seeds / "documents" / f"{extra}.yml").unlink()
    assert build(seeds, db).claims == 6 + len(FILLER)


def test_the_warnings_table_stays_out_of_the_public_file(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", documents=naming_documents(2))
    db, public = tmp_path / "t.db", tmp_path / "public.db"
    build(seeds, db)
    assert len(warnings_table(db)) == 2
    assert cli("publish", "--db", db, "--out", public).exit_code == 0
    conn = sqlite3.connect(public)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'warnings'").fetchone()[0] == 0
    conn.close()


def test_warnings_are_kept_in_the_cache_by_file(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", documents=naming_documents(3))
    db = tmp_path / "t.db"
    build(seeds, db)
    conn = sqlite3.connect(cache_path_for(db))
    kept = conn.execute("SELECT claim_id, seed_file FROM exposure_warnings ORDER BY claim_id").fetchall()
    conn.close()
    assert kept == [(f"named-claim-{n:02d}", f"documents/named-{n:02d}.yml") for n in range(3)]


# --- search counts on the plugin's path ------------------------------------------------

@pytest.fixture(scope="module")
def many_matches(tmp_path_factory):
    """A tree where 'Chongjin' matches more claims than the cap, 'villa' one."""
    from tracker.plugin import SEARCH_COUNT_CAP

    root = tmp_path_factory.mktemp("search")
    documents = copy.deepcopy(DOCUMENTS)
    documents["many"] = {"id": "many", "title": "Many", "publisher": "wire", "published": "2022",
                         "claims": [{"id": f"chongjin-{n}", "text": f"Prices rose in Chongjin, report {n}.",
                                     "source": "wire"} for n in range(SEARCH_COUNT_CAP + 5)]}
    db = root / "t.db"
    build(write_seeds(root / "seeds", documents=documents), db)
    return db


@pytest.mark.parametrize("table", ["claims", "review_queue"])
async def test_a_search_of_a_common_word_counts_up_to_the_cap(many_matches, table):
    from tracker.plugin import SEARCH_COUNT_CAP

    ds = signed_in(make_datasette(many_matches))
    data = (await ds.client.get(f"/tracker/{table}.json?_search=Chongjin&_size=5")).json()
    assert data["filtered_table_rows_count"] == SEARCH_COUNT_CAP
    assert len(data["rows"]) == 5
    html = (await ds.client.get(f"/tracker/{table}?_search=Chongjin")).text
    assert f"{SEARCH_COUNT_CAP:,}+ rows" in html
    # facets of such a search: tests/test_search_scale.py


@pytest.mark.parametrize("table, word, count", [("claims", "villa", 1), ("claims", "Hyesan", 2),
                                                ("review_queue", "villa", 1)])
async def test_a_search_below_the_cap_is_counted_exactly(many_matches, table, word, count):
    ds = signed_in(make_datasette(many_matches))
    data = (await ds.client.get(f"/tracker/{table}.json?_search={word}")).json()
    assert data["filtered_table_rows_count"] == count and type(data["filtered_table_rows_count"]) is int
    html = (await ds.client.get(f"/tracker/{table}?_search={word}")).text
    assert f"{count} row" in html and "+ row" not in html


@pytest.mark.parametrize("thread", [True, False])
def test_beside_returns_the_value_and_raises_the_error_of_its_call(thread):
    # the exposure check and a first build's SQL checks run beside the write through it
    from tracker.checks import Beside

    done = Beside(divmod, 7, 2, thread=thread)
    assert done.result() == (3, 1) and done.ready()
    with pytest.raises(ZeroDivisionError):
        Beside(divmod, 1, 0, thread=thread).result()


def test_a_process_beside_the_build_runs_at_a_lower_priority():
    # the build's own work after the parse has one core: the checks beside it take the rest
    import os

    from tracker.checks import BESIDE_NICENESS, Beside

    ours = os.nice(0)
    assert Beside(os.nice, 0).result() == min(ours + BESIDE_NICENESS, 19)
    assert os.nice(0) == ours
