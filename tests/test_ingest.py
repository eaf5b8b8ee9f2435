"""tracker ingest (issue 10): each format, dates, idempotence, duplicates, bad input.

Real samples are read at run time from ../shared/corpora (skipped with a reason when it
is absent); every other input is written by the tests themselves.
"""

import copy
import datetime
import gzip
import json
import pathlib

import pytest
import yaml
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from conftest import SHARED, SOURCES, write_seeds
from tracker.build import build, check
from tracker.cli import app
from tracker.ingest import core, normalise
from tracker.ingest.core import document_yaml, ingest
from tracker.models import Document
from tracker.seeds import SeedLoader

CORPORA = SHARED / "corpora"
KCNA_2024 = CORPORA / "kcna-2024.json"
KCNA_2011 = CORPORA / "kcna-2011-2012.jsonl.gz"
needs_2024 = pytest.mark.skipif(not KCNA_2024.is_file(), reason="../shared/corpora/kcna-2024.json is absent")
needs_2011 = pytest.mark.skipif(not KCNA_2011.is_file(), reason="../shared/corpora/kcna-2011-2012.jsonl.gz is absent")

INGEST_SOURCES = copy.deepcopy(SOURCES)
INGEST_SOURCES[0]["aliases"] = ["KCNA", "the Korean Central News Agency"]
INGEST_SOURCES[2]["aliases"] = ["the Daily NK", "dailynk.com"]

DAY_MS = 86_400_000
JAN_16_UTC_MS = int(datetime.datetime(2024, 1, 16, tzinfo=datetime.timezone.utc).timestamp() * 1000)


@pytest.fixture
def tree(tmp_path):
    seeds = write_seeds(tmp_path / "seeds", sources=INGEST_SOURCES, documents={})
    return seeds, tmp_path / "texts"


def run(*args):
    result = CliRunner().invoke(app, ["ingest", *map(str, args)])
    output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
    return result.exit_code, " ".join(output.split())  # rich wraps long lines


def kcna_record(headline="Kim Jong Un Inspects Factory", day_ms=JAN_16_UTC_MS, text="Pyongyang, January 16 (KCNA) -- "
                "Kim Jong Un inspected the Pyongyang Textile Mill.\nHe praised the workers.", link=None, **extra):
    record = {"topic": "Top News", "headline": headline, "link": link or f"http://www.kcna.kp/en/article/{abs(hash(headline + text))}.kcmsf",
              "date": day_ms, "story_text": text}
    if day_ms is not None and isinstance(day_ms, int):
        record["date_str"] = datetime.datetime.fromtimestamp(day_ms / 1000, datetime.timezone.utc).date().isoformat()
    record.update(extra)
    return record


def write_json(path, records):
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def documents(seeds):
    return {p.name: yaml.load(p.read_bytes(), Loader=SeedLoader) for p in sorted((seeds / "documents").glob("*.yml"))}


# --- dates --------------------------------------------------------------------------

@pytest.mark.parametrize("moment, day", [
    (datetime.datetime(2024, 1, 16, 0, 0), "2024-01-16"),  # the corpus: UTC midnight of the day
    (datetime.datetime(2024, 1, 15, 15, 0), "2024-01-16"),  # Pyongyang midnight (UTC+9)
    (datetime.datetime(2024, 1, 15, 14, 59, 59, 999000), "2024-01-15"),  # a millisecond before it
    (datetime.datetime(2016, 1, 15, 15, 29, 59), "2016-01-15"),  # Pyongyang time was UTC+8:30 then
    (datetime.datetime(2016, 1, 15, 15, 30, 0), "2016-01-16"),
])
def test_kcna_milliseconds_are_read_as_a_pyongyang_day(moment, day):
    ms = int(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
    assert normalise.kcna_day(ms) == day


@pytest.mark.parametrize("value", ["2024-01-16", None, True, 10 ** 20, -10 ** 15])
def test_kcna_milliseconds_that_are_not_dates(value):
    with pytest.raises(ValueError, match="date"):
        normalise.kcna_day(value)


@needs_2024
def test_kcna_2024_dates_agree_with_the_corpus_date_strings(tree, tmp_path):
    records = json.loads(KCNA_2024.read_text(encoding="utf-8"))
    assert all(normalise.kcna_day(r["date"]) == r["date_str"] for r in records)
    sample = write_json(tmp_path / "sample.json", records[:150])
    seeds, texts = tree
    report = ingest("kcna-json", [sample], seeds, texts)
    by_link = {}
    for record in records[:150]:
        by_link.setdefault(record["link"], record["date_str"])
    for document in documents(seeds).values():
        assert document["published"] == by_link[document["url"]]
        assert document["id"].startswith(f"kcna-{document['published']}-")
    assert report.taken


def test_a_day_boundary_record_gets_the_pyongyang_day_and_date_str_is_checked(tree, tmp_path):
    seeds, texts = tree
    pyongyang_midnight = JAN_16_UTC_MS - 9 * 3_600_000
    records = [kcna_record("Before Midnight", pyongyang_midnight - 1, "One text.", date_str=None),
               kcna_record("After Midnight", pyongyang_midnight, "Another text.", date_str=None),
               kcna_record("Disagrees", JAN_16_UTC_MS, "A third text.", date_str="2024-01-17")]
    report = ingest("kcna-json", [write_json(tmp_path / "a.json", records)], seeds, texts)
    published = {d["title"]: d["published"] for d in documents(seeds).values()}
    assert published == {"Before Midnight": "2024-01-15", "After Midnight": "2024-01-16"}
    [problem] = report.refused
    assert (problem.entry, problem.field) == ("record 2", "date")
    assert "2024-01-16 in Pyongyang, but date_str says 2024-01-17" in problem.message


# --- each format ----------------------------------------------------------------------

def test_kcna_json_document_files(tree, tmp_path):
    seeds, texts = tree
    record = kcna_record("Kim Jong Un Inspects Pyongyang Textile Mill")
    code, output = run("kcna-json", write_json(tmp_path / "a.json", [record]), "--seeds", seeds, "--texts", texts)
    assert code == 0, output
    assert "1 taken" in output
    [(name, document)] = documents(seeds).items()
    assert name == "kcna-2024-01-16-kim-jong-un-inspects-pyongyang-textile-mill.yml"
    assert document == {
        "id": "kcna-2024-01-16-kim-jong-un-inspects-pyongyang-textile-mill",
        "title": "Kim Jong Un Inspects Pyongyang Textile Mill", "publisher": "kcna", "published": "2024-01-16",
        "url": record["link"], "text": "kcna-2024-01-16-kim-jong-un-inspects-pyongyang-textile-mill.txt",
        "sha256": normalise.sha256_file(texts / "kcna-2024-01-16-kim-jong-un-inspects-pyongyang-textile-mill.txt"),
        "claims": [],
    }
    text = (texts / document["text"]).read_text(encoding="utf-8")
    assert text == ("Pyongyang, January 16 (KCNA) -- Kim Jong Un inspected the Pyongyang Textile Mill.\n\n"
                    "He praised the workers.\n")
    Document.model_validate(document)


@needs_2011
def test_kcna_jsonl_sample_undoes_the_paragraph_join(tree, tmp_path):
    lines = []
    with gzip.open(KCNA_2011, "rt", encoding="utf-8") as corpus:
        for line in corpus:
            lines.append(line)
            if len(lines) == 120:
                break
    sample = tmp_path / "sample.jsonl.gz"
    sample.write_bytes(gzip.compress("".join(lines).encode("utf-8")))
    seeds, texts = tree
    report = ingest("kcna-jsonl", [sample], seeds, texts)
    assert not report.refused
    assert len(report.taken) + len(report.duplicates) == 120
    records = [json.loads(line) for line in lines]
    stories = {normalise.sha256_text(normalise.paragraphs_to_text(normalise.split_joined_paragraphs(r["story"])))
               for r in records}
    assert len(report.taken) <= len(stories)
    for document in documents(seeds).values():
        text = (texts / document["text"]).read_text(encoding="utf-8")
        assert ", ," not in text and not text.rstrip().endswith(",")
        assert "\n\n" in text or len(text) < 400
    first = records[0]
    paragraphs = [p.strip() for p in first["story"].split(", ,") if p.strip(" ,")]
    text = (texts / documents(seeds)[f"{report.taken[0].id}.yml"]["text"]).read_text(encoding="utf-8")
    assert text.split("\n\n")[0] == paragraphs[0].strip()


def test_kcna_jsonl_plain_and_gzip_read_the_same(tree, tmp_path):
    seeds, texts = tree
    lines = [json.dumps({"date": "2011-12-01", "title": "Greetings to Lao President", "link":
                         "http://www.kcna.co.jp/item/2011/201112/2011-12-01ee.html",
                         "story": "Kim Jong Il sent greetings., ,  The message said:, ,  Warm wishes., , ,  , , ,"}),
             json.dumps({"date": "2011-12-01", "title": None, "link":
                         "http://www.kcna.co.jp/item/2011/201112/2011-12-01ee.html",
                         "story": "Pyongyangites continue visiting mourning places at their units every day in grief."})]
    plain = tmp_path / "a.jsonl"
    plain.write_text("\n".join(lines) + "\n")
    report = ingest("kcna-jsonl", [plain], seeds, texts)
    assert [o.id for o in report.taken] == [
        "kcna-2011-12-01-greetings-to-lao-president",
        "kcna-2011-12-01-pyongyangites-continue-visiting-mourning-places-at-their"]
    assert (texts / "kcna-2011-12-01-greetings-to-lao-president.txt").read_text() == (
        "Kim Jong Il sent greetings.\n\nThe message said:\n\nWarm wishes.\n")
    untitled = documents(seeds)["kcna-2011-12-01-pyongyangites-continue-visiting-mourning-places-at-their.yml"]
    assert untitled["title"].startswith("Pyongyangites continue visiting") and "no headline" in untitled["notes"]
    # the two share a day page: that url does not make them one article
    assert untitled["url"] == "http://www.kcna.co.jp/item/2011/201112/2011-12-01ee.html"
    gz = tmp_path / "a.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    again = ingest("kcna-jsonl", [gz], seeds, texts)
    assert not again.taken and len(again.unchanged) == 2


def test_text_files(tree, tmp_path):
    seeds, texts = tree
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "report.txt").write_text(
        "N. Koreans criticize calls for self-reliance\nDate: 2020-01-07\nAuthor: Jang Seul Gi; Another Writer\n"
        "Publisher: the Daily NK\nURL: https://www.dailynk.com/english/report\n\n"
        "People are saying   the future looks bleak.\r\n\r\nA second paragraph.\n", encoding="utf-8")
    (folder / "2021-01-note.txt").write_text("A Wire Note\n\nThe congress opened.\n", encoding="utf-8")
    report = ingest("text", [folder], seeds, texts, publisher=None)
    assert [p.message for p in report.refused] == [
        "no publisher: the file names none; pass --publisher"]
    [taken] = report.taken
    document = documents(seeds)[f"{taken.id}.yml"]
    assert document["id"] == "daily-nk-2020-01-07-n-koreans-criticize-calls-for-self-reliance".replace("daily-nk", "dailynk")
    assert (document["publisher"], document["published"], document["authors"], document["url"]) == (
        "dailynk", "2020-01-07", ["Jang Seul Gi", "Another Writer"], "https://www.dailynk.com/english/report")
    assert (texts / document["text"]).read_text() == "People are saying the future looks bleak.\n\nA second paragraph.\n"
    again = ingest("text", [folder / "2021-01-note.txt"], seeds, texts, publisher="A Wire")
    [note] = again.taken
    assert note.id == "wire-2021-01-a-wire-note"
    assert documents(seeds)["wire-2021-01-a-wire-note.yml"]["published"] == "2021-01"


HTML_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Markets raided in Hyesan | Daily NK</title>
<meta property="og:site_name" content="Daily NK"><meta property="og:title" content="Markets raided in Hyesan">
<meta name="author" content="Jang Seul Gi"><meta property="article:published_time" content="2020-01-07T10:00:00+09:00">
</head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Markets raided in Hyesan</h1>
<p>Authorities raided the market in Hyesan last week, a source in Ryanggang Province told Daily NK.</p>
<p>"The market was raided and many traders lost their goods," the source said on Tuesday, adding that
rations had also been cut for many families in the city this winter.</p>
<p>Traders said that the crackdown was the harshest they had seen since the border was closed.</p>
</article><footer>Copyright Daily NK. All rights reserved. Subscribe to our newsletter.</footer></body></html>"""


def test_html_page_read_by_trafilatura(tree, tmp_path):
    seeds, texts = tree
    page = tmp_path / "page.html"
    page.write_text(HTML_PAGE, encoding="utf-8")
    report = ingest("html", [page], seeds, texts)
    assert not report.refused, report.refused
    document = documents(seeds)[f"{report.taken[0].id}.yml"]
    assert (document["title"], document["publisher"], document["published"], document["authors"]) == (
        "Markets raided in Hyesan", "dailynk", "2020-01-07", ["Jang Seul Gi"])
    text = (texts / document["text"]).read_text()
    assert "The market was raided" in text and "Subscribe" not in text and "Home" not in text
    assert not text.startswith("Markets raided in Hyesan")


# --- stable and idempotent -------------------------------------------------------------

def test_second_ingest_changes_nothing_and_says_so(tree, tmp_path):
    seeds, texts = tree
    source = write_json(tmp_path / "a.json", [kcna_record("One"), kcna_record("Two", text="Second text.")])
    code, _ = run("kcna-json", source, "--seeds", seeds, "--texts", texts)
    assert code == 0
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in [*seeds.rglob("*.yml"), *texts.iterdir()]}
    code, output = run("kcna-json", source, "--seeds", seeds, "--texts", texts)
    assert code == 0
    assert "Nothing changed" in output and "0 taken, 2 already there" in output
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in [*seeds.rglob("*.yml"), *texts.iterdir()]}
    assert after == before


def test_ids_are_the_same_on_every_run_and_unique(tmp_path):
    records = [kcna_record("Same Headline", text="First text."), kcna_record("Same Headline", text="Second text."),
               kcna_record("Same Headline", text="Third text.")]
    ids = []
    for run_number in range(2):
        seeds = write_seeds(tmp_path / f"seeds{run_number}", sources=INGEST_SOURCES, documents={})
        report = ingest("kcna-json", [write_json(tmp_path / "a.json", records)], seeds, tmp_path / f"texts{run_number}")
        ids.append([o.id for o in report.taken])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == 3
    assert ids[0][0] == "kcna-2024-01-16-same-headline"
    sha = normalise.sha256_text("Second text.\n")
    assert ids[0][1] == f"kcna-2024-01-16-same-headline-{sha[:6]}"


def test_a_changed_text_is_reported_not_overwritten(tree, tmp_path):
    seeds, texts = tree
    record = kcna_record("Statement", text="The original statement.")
    ingest("kcna-json", [write_json(tmp_path / "a.json", [record])], seeds, texts)
    before = {p.name: p.read_bytes() for p in [*seeds.rglob("*.yml"), *texts.iterdir()]}
    record["story_text"] = "The statement, revised and expanded with a new paragraph about sanctions."
    code, output = run("kcna-json", write_json(tmp_path / "b.json", [record]), "--seeds", seeds, "--texts", texts)
    assert code == 1
    assert "kcna-2024-01-16-statement has the same url but another text: not overwritten" in output
    assert {p.name: p.read_bytes() for p in [*seeds.rglob("*.yml"), *texts.iterdir()]} == before


@pytest.mark.parametrize("second, kind", [
    ({"text": "Pyongyang, January 16 (KCNA) -- The same story.\nTold twice."}, "duplicate of {} (the same text)"),
    ({"text": "PYONGYANG January 16 (KCNA) - the same story; told twice!"}, "near-exact duplicate of {}"),
    ({"headline": "First Headline", "text": "Pyongyang, January 16 (KCNA) -- The same story.\nTold twice, and once "
      "more with a long tail of words so that one changed word is a small part of the whole text of it."},
     None),
])
def test_duplicates_within_a_stream_name_the_first(tree, tmp_path, second, kind):
    seeds, texts = tree
    first = kcna_record("First Headline", text="Pyongyang, January 16 (KCNA) -- The same story.\nTold twice.")
    other = kcna_record(second.get("headline", "Other Headline"), text=second["text"])
    report = ingest("kcna-json", [write_json(tmp_path / "a.json", [first, other])], seeds, texts)
    if kind is None:  # same headline and day, different enough: a second article
        assert len(report.taken) == 2
        return
    assert [o.id for o in report.taken] == ["kcna-2024-01-16-first-headline"]
    [duplicate] = report.duplicates
    assert duplicate.message == kind.format("kcna-2024-01-16-first-headline")
    assert duplicate.where.endswith("record 1")


def test_near_exact_duplicate_by_headline_and_similarity(tree, tmp_path):
    seeds, texts = tree
    body = "Kim Jong Un inspected the Pyongyang Textile Mill and spoke with its workers about the new looms. " * 5
    first = kcna_record("Kim Inspects Mill", text=body)
    second = kcna_record("Kim Inspects Mill", text=body.replace("new looms", "newest looms", 1))
    report = ingest("kcna-json", [write_json(tmp_path / "a.json", [first, second])], seeds, texts)
    assert [d.message for d in report.duplicates] == ["near-exact duplicate of kcna-2024-01-16-kim-inspects-mill"]


def test_the_index_is_rebuilt_from_the_files(tree, tmp_path):
    seeds, texts = tree
    source = write_json(tmp_path / "a.json", [kcna_record("One"), kcna_record("Two", text="Second text.")])
    ingest("kcna-json", [source], seeds, texts)
    (seeds / ".ingest-index.sqlite").write_bytes(b"not a database at all")
    report = ingest("kcna-json", [source], seeds, texts)
    assert (len(report.taken), len(report.unchanged), report.files_reread) == (0, 2, 2)
    again = ingest("kcna-json", [source], seeds, texts)
    assert again.files_reread == 0 and len(again.unchanged) == 2


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("change, field, message", [
    ({"date": None}, "date", "no date"),
    ({"date": "2024-01-16"}, "date", "'2024-01-16' is not a date"),
    ({"date": 10 ** 14}, "date", "not a plausible date"),
    ({"date": 10 ** 17}, "date", "milliseconds out of range"),
    ({"date_str": "2024-02-30"}, "date_str", "not a real calendar date"),
    ({"story_text": ""}, "story_text", "no text"),
    ({"story_text": "  \n \t "}, "story_text", "no text"),
    ({"headline": ""}, "headline", "no headline"),
    ({"link": "javascript:alert(1)"}, "link", "not an http(s) address"),
])
def test_bad_kcna_json_records_are_refused_one_by_one(tree, tmp_path, change, field, message):
    seeds, texts = tree
    bad = kcna_record("Bad One", text="Bad text.")
    bad.update(change)
    path = write_json(tmp_path / "a.json", [kcna_record("Good One"), bad, kcna_record("Good Two", text="Two.")])
    code, output = run("kcna-json", path, "--seeds", seeds, "--texts", texts)
    assert code == 1
    assert "2 taken" in output and "1 refused" in output
    assert f"{path}: record 1: {field}: " in output
    assert message in output


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not the kcna-json format: not JSON"),
    (b'{"headline": "x"}', "expected a JSON list of articles, found a JSON dict"),
    (b'[{"headline": "caf\xe9"}]', "not UTF-8 JSON: byte 0xe9 at line 1, column 19"),
    (b"<html><body><p>a page</p></body></html>", "not the kcna-json format: not JSON"),
    (gzip.compress(b'{"date": "2011-12-01"}'), "not the kcna-json format: a gzip file"),
])
def test_a_file_not_of_the_format_is_one_clear_problem(tree, tmp_path, content, message):
    seeds, texts = tree
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    report = ingest("kcna-json", [path], seeds, texts)
    [problem] = report.refused
    assert problem.file == str(path) and message in problem.message


def test_bad_jsonl_lines_are_refused_and_the_rest_taken(tree, tmp_path):
    seeds, texts = tree
    good = {"date": "2012-01-05", "title": "Good", "link": "http://www.kcna.co.jp/item/2012/201201/news05/20120105-52ee.html",
            "story": "A good story."}
    lines = [json.dumps(good).encode(), b'{"date": "2012-01-05", "title": "Truncated', json.dumps(
        {**good, "title": "Bad date", "date": "2012-13-01", "story": "x"}).encode(),
        json.dumps({**good, "title": "No date", "date": "", "story": "y"}).encode(),
        json.dumps({**good, "title": "Latin-1", "story": "caf\u00e9"}).encode().replace(b"\\u00e9", b"\xe9"),
        json.dumps({**good, "title": "Empty", "story": ", , , ,"}).encode(),
        json.dumps({**good, "title": "Good two", "story": "Another good story.", "link": None}).encode()]
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = ingest("kcna-jsonl", [path], seeds, texts)
    assert [o.id for o in report.taken] == ["kcna-2012-01-05-good", "kcna-2012-01-05-good-two"]
    assert [(p.line, p.field) for p in report.refused] == [(2, None), (3, "date"), (4, "date"), (5, None), (6, "story")]
    assert "not JSON" in report.refused[0].message
    assert "not a real calendar date" in report.refused[1].message
    assert report.refused[2].message == "no date"
    assert "not UTF-8 text: byte 0xe9 at line 5" in report.refused[3].message
    assert str(report.refused[3]).startswith(f"{path}:5: line 5")


@pytest.mark.parametrize("content, message", [
    (b"[\n", "not the kcna-jsonl format: line 1 is not JSON"),
    (b"\x1f\x8b\x08\x00garbage", "not the kcna-jsonl format: a damaged gzip file"),
])
def test_jsonl_file_not_of_the_format(tree, tmp_path, content, message):
    seeds, texts = tree
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    [problem] = ingest("kcna-jsonl", [path], seeds, texts).refused
    assert message in problem.message


@pytest.mark.parametrize("name, content, field, message", [
    ("2020-01-01-a.txt", b"\nDate: 2020-01-01\n\nBody.", "title", "no title"),
    ("2020-01-01-b.txt", b"Title only\n", "text", "no text"),
    ("c.txt", b"A title\n\nA body without any date.", "date", "no date"),
    ("d.txt", b"A title\nDate: 2020-02-30\n\nBody.", "date", "not a real calendar date"),
    ("e.txt", b"A title\nDate: yesterday\n\nBody.", "date", "is not a date"),
    ("2020-01-01-f.txt", b"A title\n\ncaf\xe9 body", None, "not UTF-8 text: byte 0xe9 at line 3, column 4"),
    ("2020-01-01-g.txt", b"\x00\x01binary", None, "not the text format: a binary file"),
])
def test_bad_text_files(tree, tmp_path, name, content, field, message):
    seeds, texts = tree
    path = tmp_path / name
    path.write_bytes(content)
    [problem] = ingest("text", [path], seeds, texts, publisher="wire").refused
    assert (problem.file, problem.field) == (str(path), field)
    assert message in problem.message


@pytest.mark.parametrize("content, message", [
    (b"just some words, no markup at all", "not the html format"),
    (HTML_PAGE.replace('<meta property="article:published_time" content="2020-01-07T10:00:00+09:00">', "").encode(),
     "no date"),
])
def test_bad_html_pages(tree, tmp_path, content, message):
    seeds, texts = tree
    path = tmp_path / "page.html"
    path.write_bytes(content)
    [problem] = ingest("html", [path], seeds, texts).refused
    assert message in problem.message


# --- publishers -------------------------------------------------------------------------

def test_publisher_option_by_alias_and_unknown_publisher(tree, tmp_path):
    seeds, texts = tree
    path = write_json(tmp_path / "a.json", [kcna_record("One")])
    code, output = run("kcna-json", path, "--seeds", seeds, "--texts", texts, "--publisher", "Pravda")
    assert code == 1 and "unknown publisher 'Pravda'" in output
    assert not (seeds / "documents").exists() or not list((seeds / "documents").iterdir())
    report = ingest("kcna-json", [path], seeds, texts, publisher="the Daily NK")
    assert report.taken[0].id.startswith("dailynk-2024-01-16-")


def test_kcna_formats_need_a_source_named_kcna(tmp_path):
    sources = [dict(s) for s in INGEST_SOURCES]
    sources[0].pop("aliases")
    sources[0]["id"] = "central-news"
    seeds = write_seeds(tmp_path / "seeds", sources=sources, documents={})
    with pytest.raises(core.IngestError, match="no source in sources.yml is named 'KCNA'"):
        ingest("kcna-json", [write_json(tmp_path / "a.json", [kcna_record()])], seeds, tmp_path / "texts")


def test_a_kcna_stream_into_an_empty_folder_starts_the_seed_tree(tmp_path):
    seeds, texts = tmp_path / "new" / "seeds", tmp_path / "new" / "texts"
    code, output = run("kcna-json", write_json(tmp_path / "a.json", [kcna_record()]), "--seeds", seeds, "--texts", texts)
    assert code == 0 and "Created" in output and "sources.yml" in output
    assert [d["publisher"] for d in documents(seeds).values()] == ["kcna"]
    assert CliRunner().invoke(app, ["check", str(seeds), "--texts", str(texts)]).exit_code == 0
    # other formats say what is missing instead of guessing a publisher
    code, output = run("text", tmp_path / "a.json", "--seeds", tmp_path / "other", "--texts", texts)
    assert code == 1 and "sources.yml not found" in output


def test_project_sources_carry_aliases():
    project = yaml.safe_load((pathlib.Path(__file__).parent.parent / "seeds" / "sources.yml").read_text())
    publishers = core.Publishers([__import__("tracker.models", fromlist=["Source"]).Source(**s) for s in project])
    for name, source in [("KCNA", "kcna"), ("the Korean Central News Agency", "kcna"), ("Rodong Sinmun", "rodong-sinmun"),
                         ("the Daily NK", "daily-nk"), ("38 North", "38-north"), ("AFP", "afp")]:
        assert publishers.find(name) == source


# --- unread documents are valid seeds ---------------------------------------------------

def test_ingested_tree_passes_check_and_builds(tree, tmp_path):
    seeds, texts = tree
    ingest("kcna-json", [write_json(tmp_path / "a.json", [kcna_record("One"), kcna_record("Two", text="2.")])],
           seeds, texts)
    # a document with no claims key at all is as valid as one with an empty list
    (seeds / "documents" / "by-hand.yml").write_text(
        "id: by-hand\ntitle: Written by hand\npublisher: wire\npublished: 2021\n")
    checked = check(seeds, texts)
    assert len(checked.files) == 3
    report = build(seeds, tmp_path / "db" / "t.db", texts)
    assert (report.documents, report.claims) == (3, 0)
    code, output = CliRunner().invoke(app, ["check", str(seeds), "--texts", str(texts)]).exit_code, ""
    assert code == 0


def test_a_rebuild_reads_only_texts_that_changed_and_sees_an_edit(tree, tmp_path):
    seeds, texts = tree
    ingest("kcna-json", [write_json(tmp_path / "a.json", [kcna_record("One", text="Same size text A.")])],
           seeds, texts)
    db = tmp_path / "db" / "t.db"
    build(seeds, db, texts)
    assert build(seeds, db, texts).files_parsed == 0
    [text] = texts.iterdir()
    text.write_text("Same size text B.\n")  # same size, new bytes, new mtime
    with pytest.raises(Exception, match="sha256 of .* is .*, not the recorded value"):
        build(seeds, db, texts)


# --- the hand-written YAML --------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "title", "url", "notes", "published"]), st.text(), min_size=1),
       st.lists(st.text(), max_size=3))
def test_document_yaml_loads_back_exactly(fields, authors):
    document = {**fields, "authors": authors, "claims": []}
    assert yaml.load(document_yaml(document), Loader=SeedLoader) == document
