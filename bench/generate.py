#!/usr/bin/env python3
"""Generate a synthetic seed tree in the SPEC section 3 format, for benchmarks.

Usage::

    python bench/generate.py OUT_DIR --claims N [--seed S] [--force]

writes ``OUT_DIR/sources.yml`` and ``OUT_DIR/documents/*.yml`` and nothing else.
From Python::

    from bench.generate import generate      # or load the file by path
    counts = generate(pathlib.Path("/tmp/seeds"), claims=100_000, seed=0)
    # {'sources': ..., 'documents': ..., 'claims': ..., 'appearances': ..., 'links': ...}

Shape of the data (so that benchmarks look like real use, not like a grid):

* sources of every SPEC section 2 type, ~300 at 10k claims growing gently to ~1000 at
  1M; informants spread over a handful of outlets (``outlet:``), every state medium in
  ``group: dprk-state-media``, protected defectors and informants, reliability A-F
  skewed per type (a few left out, i.e. the default F), notes and urls on some;
* about 1.6 appearances per claim: each claim is defined once (id + text), further
  appearances are ``ref:`` entries in other documents, picked with a heavy tail so
  that popular claims are repeated by hundreds of documents; ~2% ``stance: denies``;
* about 0.3 links per claim, a tenth ``contradicts``; never a self link and never a
  duplicate (unordered pair) anywhere in the tree;
* documents of 5-15 appearances published by a news outlet or state medium, partial
  dates (YYYY, YYYY-MM, YYYY-MM-DD; all real calendar dates), authors on some,
  ``via`` chains on some appearances, short quotes (no text files are written, so
  quotes are unverified by the tracker).

The output is a pure function of (claims, seed): same arguments, byte-identical
files.  YAML is written as text (string scalars through ``json.dumps``, which is valid
YAML double-quoted style); slugs, dates and letters are written bare, like the SPEC's
own example (so ``published: 2020-01-07`` loads as a date and ``published: 2020`` as an
int under YAML 1.1, exactly as in hand-written seeds).

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import pathlib
import random
import sys
import time

__all__ = ["generate", "main"]

M64 = (1 << 64) - 1

# --------------------------------------------------------------------------- helpers


def _mix(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def _slug(text: str) -> str:
    out = []
    dash = False
    for ch in text.lower():
        if "a" <= ch <= "z" or "0" <= ch <= "9":
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def _q(s: str) -> str:
    """A YAML double-quoted scalar (JSON string syntax is a subset of it)."""
    return json.dumps(s, ensure_ascii=False)


def _weighted(rng: random.Random, table):
    """Pick from [(value, weight), ...]."""
    total = 0
    for _, w in table:
        total += w
    r = rng.random() * total
    for v, w in table:
        r -= w
        if r < 0:
            return v
    return table[-1][0]


def _render_date(d: _dt.date, precision: int) -> str:
    """precision 0: YYYY, 1: YYYY-MM, 2: YYYY-MM-DD (always a real calendar date)."""
    if precision == 0:
        return "%04d" % d.year
    if precision == 1:
        return "%04d-%02d" % (d.year, d.month)
    return "%04d-%02d-%02d" % (d.year, d.month, d.day)


# --------------------------------------------------------------------------- vocabulary

PLACES = [
    "Pyongyang", "Hyesan", "Sinuiju", "Chongjin", "Wonsan", "Hamhung", "Kaesong",
    "Nampo", "Rason", "Kanggye", "Haeju", "Sariwon", "Pyongsong", "Hoeryong", "Musan",
    "Manpo", "Kimchaek", "Tanchon", "Anju", "Sunchon", "Samjiyon", "Onsong",
    "Kilju", "Hyangsan", "Unsan",
]
PLACE_SLUG = {p: _slug(p) for p in PLACES}

SLOTS = {
    "place": PLACES,
    "leader": ["Kim Jong Un", "Kim Yo Jong", "Premier Pak Thae Song", "Choe Ryong Hae",
               "Jo Yong Won", "Pak Jong Chon", "Ri Pyong Chol", "Kim Tok Hun"],
    "facility": ["a fertilizer plant", "a greenhouse farm", "a munitions factory",
                 "a new hospital", "a housing project", "a fish farm", "a tractor factory",
                 "a cement plant", "a textile mill", "a power station", "a catfish farm",
                 "a machine-tool works", "a pharmaceutical factory", "a ski resort"],
    "n": ["two", "three", "four", "five", "six", "eight", "several"],
    "contraband": ["South Korean dramas", "Chinese mobile phones", "smuggled copper",
                   "illegal mobile calls", "private grain trading", "narcotics",
                   "foreign-style clothing", "USB sticks with foreign films"],
    "days": ["three", "five", "seven", "ten", "fifteen", "thirty"],
    "official": ["A Foreign Ministry spokesperson", "A KCNA commentary", "Kim Yo Jong",
                 "The Defence Minister", "A Rodong Sinmun editorial",
                 "The Committee for the Peaceful Reunification of the Country",
                 "A KPA General Staff spokesperson"],
    "resp": ["resolute countermeasures", "an overwhelming response",
             "merciless retaliation", "strategic countermeasures",
             "a thousand-fold revenge"],
    "campaign": ["80-day battle", "200-day battle", "five-year plan",
                 "spring farming campaign", "20x10 regional development policy"],
    "item": ["rice", "corn", "pork", "diesel", "gasoline", "soybean oil", "flour",
             "sugar", "potatoes", "eggs"],
    "price": ["{:,}".format(v) for v in range(600, 15001, 150)],
    "rate": ["{:,}".format(v) for v in range(3000, 40001, 250)],
    "pct": [str(v) for v in range(2, 61)],
    "mt": ["%.1f" % (v / 10) for v in range(38, 62)],
    "org": ["South Korea's NIS", "The US State Department", "The UN Panel of Experts",
            "Japan's Defence Ministry", "A think-tank report", "The Bank of Korea",
            "A ratings agency note", "The Unification Ministry",
            "US Forces Korea", "An academic study"],
    "nth": ["seventh", "eighth", "new"],
    "grew": ["grew", "shrank"],
    "rumor": ["a purge of senior officials", "a currency redenomination",
              "a ban on private grain sales", "a mass mobilisation for rice planting",
              "an outbreak of illness", "public executions", "a new border fence",
              "the closure of all private markets", "a new round of household checks"],
    "obs": ["long queues at state grain shops", "soldiers guarding the border fence",
            "new apartment blocks nearing completion", "frequent power cuts",
            "more cars on the streets", "trucks carrying coal towards the port",
            "students mobilised for farm work", "empty shelves in state stores",
            "rising numbers of homeless children", "solar panels on many balconies"],
    "imgobs": ["new excavation", "vehicle activity", "a new support building",
               "water discharge", "a launch-pad extension", "cleared snow on roads",
               "a new barge", "steam from the reactor cooling system"],
    "site": ["Yongbyon", "Sohae", "Punggye-ri", "Sinpo", "Sunan airfield",
             "Mirim parade ground", "Nampho port", "Kusong", "Wonsan-Kalma"],
}

# (kind, topic slug, tags, text template, quote template, weight).  The quote template
# is a literal part of the text template, so the quote is a verbatim span of the text.
TEMPLATES = [
    ("event", "inspection", ["leadership", "economy"],
     "{leader} inspected {facility} in {place}.", "inspected {facility}", 10),
    ("event", "missile-launch", ["missiles", "military"],
     "The Korean People's Army fired {n} ballistic missiles from near {place}.",
     "{n} ballistic missiles", 7),
    ("event", "crackdown", ["social-control"],
     "Security officials in {place} launched a crackdown on {contraband}.",
     "a crackdown on {contraband}", 6),
    ("event", "market-closure", ["markets"],
     "Authorities closed the main market in {place} for {days} days.",
     "closed the main market", 4),
    ("event", "border-shooting", ["border", "military"],
     "Border guards near {place} opened fire on people trying to cross the river.",
     "opened fire", 3),
    ("statement", "warning", ["diplomacy", "military"],
     "{official} warned of {resp} against joint military drills.",
     "{resp}", 8),
    ("statement", "self-reliance", ["ideology", "economy"],
     '{official} called on workers in {place} to uphold "self-reliance" in the {campaign}.',
     'uphold "self-reliance"', 7),
    ("statement", "talks", ["diplomacy"],
     "{official} said there was no interest in talks with Washington.",
     "no interest in talks", 5),
    ("figure", "prices", ["markets", "prices"],
     "The price of {item} in {place} markets reached {price} won per kilogram.",
     "{price} won per kilogram", 7),
    ("figure", "exchange-rate", ["currency", "markets"],
     "The US dollar traded at {rate} won in {place}.", "{rate} won", 4),
    ("figure", "trade", ["trade", "sanctions"],
     "Trade with China fell {pct}% year on year.", "fell {pct}%", 2),
    ("figure", "harvest", ["food-security"],
     "Grain output was estimated at {mt} million tonnes.", "{mt} million tonnes", 2),
    ("observation", "daily-life", ["public-sentiment"],
     "Residents of {place} reported {obs}.", "{obs}", 10),
    ("observation", "imagery", ["imagery", "construction"],
     "Satellite imagery showed {imgobs} at {site}.", "{imgobs}", 5),
    ("assessment", "nuclear", ["nuclear"],
     "{org} assessed that the North is preparing a {nth} nuclear test.",
     "preparing a {nth} nuclear test", 5),
    ("assessment", "economy", ["economy"],
     "{org} estimated that the economy {grew} {pct}% last year.", "{grew} {pct}%", 4),
    ("assessment", "succession", ["leadership"],
     "{org} judged that Kim Ju Ae is being groomed as successor.",
     "groomed as successor", 3),
    ("rumor", "rumour", ["rumours"],
     "Rumours in {place} say that {rumor} is planned.", "{rumor}", 5),
    ("rumor", "leader-health", ["leadership", "rumours"],
     "People in {place} whisper that {leader} is seriously ill.", "seriously ill", 3),
]

EXTRA_TAGS = ["sanctions", "china", "border", "food-security", "markets", "leadership",
              "military", "human-rights", "covid-19", "energy", "smuggling", "weather"]

LINK_NOTES_CORR = ["Two accounts of the same event.", "Same figure, different channel.",
                   "Consistent with the imagery.", "Independent report of the same mood.",
                   "Both describe the same campaign."]
LINK_NOTES_CONTRA = ["Figures disagree by more than 20%.", "Official line denies it.",
                     "Dates do not match.", "Imagery shows no such activity."]

TITLE_TEMPLATES = [
    "{place}: {topic}", "Report on {topic} in {place}", "{Topic} and the {place} market",
    'Officials urge "{topic}" measures in {place}', "What we know about {topic}",
    "{Topic}: sources in {place} speak", "Analysis: {topic} ({year})",
]

FAMILY = ["Kim", "Lee", "Park", "Choi", "Jang", "Kang", "Han", "Ko", "Jo", "Yun", "Song",
          "Hwang", "Ahn", "Moon", "Seo", "Ri", "Pak", "Choe", "Jung", "Shin"]
GIVEN = ["Young-ho", "Myong-chol", "Hye-sook", "Ji-hyun", "Sung-min", "Chol-ho",
         "Eun-hee", "Kwang-il", "Ok-sun", "Jin-sung", "Seul-gi", "Min-ji", "Tae-yong",
         "Su-jin", "Hyun-woo", "Mi-rae"]
WEST_FIRST = ["Andrei", "Victor", "Sue", "Bruce", "Jenny", "Ruediger", "Peter", "Marcus",
              "Rachel", "Daniel", "Anna", "Thomas", "Laura", "Benjamin", "Sophie", "Olivier",
              "Hiroshi", "Yuki", "Chen", "Maria"]
WEST_LAST = ["Asmolov", "Bennett", "Town", "Frank", "Ward", "Noland", "Haggard",
             "Pinkston", "Smith", "Tanaka", "Mueller", "Dubois", "Zhang", "Rossi",
             "Novak", "O'Carroll", "Delury", "Silberstein", "Habib", "Lewis"]
AFFILIATIONS = ["Kookmin University", "Johns Hopkins SAIS", "CSIS", "Stimson Center",
                "KINU", "Asan Institute", "Sejong Institute", "Peterson Institute",
                "Middlebury CNS", "Leiden University", "RAND", "Carnegie Endowment"]

STATE_MEDIA = [
    ("kcna", "Korean Central News Agency (조선중앙통신)", "http://www.kcna.kp"),
    ("rodong-sinmun", "Rodong Sinmun (로동신문)", "http://www.rodong.rep.kp"),
    ("kctv", "Korean Central Television", None),
    ("uriminzokkiri", "Uriminzokkiri", "http://www.uriminzokkiri.com"),
    ("minju-joson", "Minju Joson", None),
    ("voice-of-korea", "Voice of Korea", "http://www.vok.rep.kp"),
    ("pyongyang-times", "The Pyongyang Times", None),
    ("naenara", "Naenara", "http://naenara.com.kp"),
    ("tongil-sinbo", "Tongil Sinbo", None),
    ("arirang-meari", "Arirang Meari", None),
    ("dprk-today", "DPRK Today", None),
    ("echo-of-truth", "Echo of Truth", None),
]
INFORMANT_OUTLETS = [
    ("daily-nk", "Daily NK", "https://www.dailynk.com"),
    ("rfa", "Radio Free Asia", "https://www.rfa.org"),
    ("asiapress", "Asia Press", "https://www.asiapress.org"),
    ("nk-news", "NK News", "https://www.nknews.org"),
    ("sandtimes", "Sand Times", None),
    ("open-news-korea", "Open News Korea", None),
]
NEWS_OUTLETS = [
    ("yonhap", "Yonhap News Agency", "https://en.yna.co.kr"),
    ("reuters", "Reuters", "https://www.reuters.com"),
    ("afp", "Agence France-Presse", "https://www.afp.com"),
    ("ap", "Associated Press", "https://apnews.com"),
    ("bloomberg", "Bloomberg", "https://www.bloomberg.com"),
    ("straits-times", "The Straits Times", "https://www.straitstimes.com"),
    ("korea-herald", "The Korea Herald", "https://www.koreaherald.com"),
    ("joongang-daily", "Korea JoongAng Daily", None),
    ("chosun-ilbo", "Chosun Ilbo (조선일보)", None),
    ("kyodo", "Kyodo News", None),
    ("nikkei-asia", "Nikkei Asia", None),
    ("bbc", "BBC News", "https://www.bbc.co.uk/news"),
    ("guardian", "The Guardian", None),
    ("nyt", "The New York Times", None),
    ("wapo", "The Washington Post", None),
    ("voa", "Voice of America", None),
    ("korea-times", "The Korea Times", None),
    ("hankyoreh", "Hankyoreh (한겨레)", None),
    ("donga-ilbo", "Dong-A Ilbo", None),
    ("nhk", "NHK World", None),
    ("ft", "Financial Times", None),
    ("economist", "The Economist", None),
]
IMAGERY = [
    ("38-north", "38 North", "https://www.38north.org"),
    ("beyond-parallel", "CSIS Beyond Parallel", None),
    ("nk-pro-imagery", "NK Pro imagery desk", None),
    ("planet-labs", "Planet Labs", None),
    ("maxar", "Maxar Technologies", None),
    ("airbus-ds", "Airbus Defence and Space", None),
    ("cns-middlebury", "James Martin CNS imagery team", None),
]
GOVERNMENT = [
    ("nis", "National Intelligence Service (South Korea)", None),
    ("unification-ministry", "Ministry of Unification (South Korea)", None),
    ("rok-jcs", "Joint Chiefs of Staff (South Korea)", None),
    ("us-state-department", "US Department of State", "https://www.state.gov"),
    ("us-treasury-ofac", "US Treasury, OFAC", None),
    ("japan-mod", "Ministry of Defense (Japan)", None),
    ("un-poe", "UN Panel of Experts (1718 Committee)", None),
    ("kotra", "KOTRA", None),
    ("bank-of-korea", "Bank of Korea", None),
    ("china-customs", "General Administration of Customs (China)", None),
]
ANALYSTS = [
    ("fitch", "Fitch Ratings", None),
    ("moodys", "Moody's", None),
    ("s-and-p", "S&P Global Ratings", None),
    ("nomura", "Nomura research", None),
    ("hyundai-research", "Hyundai Research Institute", None),
]
OTHER_KINDS = ["Chinese trader in Dandong", "tour operator", "NGO aid worker",
               "foreign diplomat's blog", "shipping tracker", "Chinese smuggler",
               "church mission network", "former resident's social media post"]
DEFECTOR_ROLES = ["soldier", "trade official", "teacher", "factory worker",
                  "party cadre", "diplomat", "security officer", "market trader"]

RELIABILITY = {
    "state_media": [("B", 50), ("C", 40), ("D", 10)],
    "news_outlet": [("A", 5), ("B", 45), ("C", 40), ("D", 10)],
    "informant": [("B", 10), ("C", 35), ("D", 25), ("E", 10), ("F", 20)],
    "defector": [("B", 10), ("C", 30), ("D", 25), ("E", 10), ("F", 25)],
    "academic": [("A", 5), ("B", 40), ("C", 40), ("D", 10), ("F", 5)],
    "imagery": [("A", 30), ("B", 55), ("C", 15)],
    "government": [("A", 10), ("B", 50), ("C", 30), ("D", 10)],
    "analyst": [("B", 40), ("C", 45), ("D", 10), ("F", 5)],
    "other": [("C", 20), ("D", 20), ("E", 15), ("F", 45)],
}

# how often each type is the origin of an appearance in a non-state-media document
ORIGIN_TYPE_WEIGHTS = [
    ("state_media", 18), ("informant", 24), ("defector", 9), ("academic", 10),
    ("government", 13), ("imagery", 6), ("news_outlet", 14), ("analyst", 3), ("other", 3),
]

# which source types tend to originate each kind of claim (used for 60% of
# appearances outside state media; the rest follow ORIGIN_TYPE_WEIGHTS)
KIND_ORIGINS = {
    "event": ["informant", "informant", "state_media", "government", "news_outlet"],
    "statement": ["state_media", "state_media", "government"],
    "figure": ["informant", "analyst", "government", "news_outlet"],
    "observation": ["informant", "informant", "defector", "other"],
    "assessment": ["academic", "academic", "government", "analyst"],
    "rumor": ["informant", "informant", "defector", "other"],
    "imagery": ["imagery"],
}

# shape parameters
P_REF = 0.375          # share of appearances that are refs: 1 / (1 - 0.375) = 1.6 per claim
P_LINK = 0.3 / 1.6     # links started per appearance: 0.3 per claim
P_CONTRA = 0.10
P_DENIES = 0.02
ZIPF_A = 2.2           # rank = N * u**A: density ~ rank**(1/A - 1), a heavy tail
START = _dt.date(2000, 1, 1).toordinal()
END = _dt.date(2025, 6, 30).toordinal()


# --------------------------------------------------------------------------- claims


class _Claims:
    """Content of claim i (id, text, quote, kind, tags) as a pure function of i."""

    def __init__(self, seed: int):
        self.salt = _mix(seed * 0x51ED27 + 0x1234567)
        table = []
        compiled = []
        import string
        fmt = string.Formatter()
        for idx, (kind, topic, tags, text_t, quote_t, weight) in enumerate(TEMPLATES):
            slots = []
            for _, name, _, _ in fmt.parse(text_t):
                if name and name not in slots:
                    slots.append(name)
            compiled.append((kind, topic, tags, text_t, quote_t,
                             [(s, SLOTS[s], len(SLOTS[s])) for s in slots]))
            table.extend([idx] * weight)
        self.table = table
        self.compiled = compiled

    def get(self, i: int):
        h = _mix(self.salt ^ i)
        t = self.table[h % len(self.table)]
        h //= len(self.table)
        kind, topic, tags, text_t, quote_t, slots = self.compiled[t]
        vals = {}
        for name, values, n in slots:
            vals[name] = values[h % n]
            h //= n
        place = vals.get("place")
        cid = "%s-%s-%d" % (topic, PLACE_SLUG[place], i) if place else "%s-%d" % (topic, i)
        return cid, text_t.format(**vals), quote_t.format(**vals), kind, tags, h

    def cid(self, i: int) -> str:
        return self.get(i)[0]


# --------------------------------------------------------------------------- sources


def _n_sources(claims: int) -> int:
    # ~300 at 10k, ~550 at 100k, ~1000 at 1M
    k = math.log(1000 / 300) / math.log(100)
    return max(60, int(round(300 * (max(claims, 1) / 10_000) ** k)))


def _build_sources(rng: random.Random, claims: int):
    """Return (records, pools): records are dicts in write order; pools by type."""
    total = _n_sources(claims)
    want = {
        "news_outlet": max(len(INFORMANT_OUTLETS) + 6, round(0.12 * total)),
        "informant": max(12, round(0.30 * total)),
        "defector": max(6, round(0.14 * total)),
        "academic": max(6, round(0.14 * total)),
        "imagery": max(3, round(0.05 * total)),
        "government": max(4, round(0.08 * total)),
        "analyst": max(3, round(0.04 * total)),
    }
    want["other"] = max(3, total - len(STATE_MEDIA) - sum(want.values()))

    records = []
    seen = set()

    def add(sid, name, typ, **extra):
        assert sid not in seen, sid
        seen.add(sid)
        rec = {"id": sid, "name": name, "type": typ}
        if rng.random() >= 0.05 or typ == "state_media":
            rec["reliability"] = _weighted(rng, RELIABILITY[typ])
        if sid == "kcna":
            rec["reliability"] = "B"
        rec.update(extra)
        records.append(rec)
        return rec

    def fill(typ, fixed, count, make):
        out = []
        for sid, name, url in fixed[:count]:
            extra = {}
            if url:
                extra["url"] = url
            if rng.random() < 0.35:
                extra["notes"] = "%s; %s." % (name, rng.choice(
                    ["widely cited", "often first to report", "relays KCNA verbatim at times",
                     "good on economics", "Seoul-based", "paywalled"]))
            out.append(add(sid, name, typ, **extra))
        k = 1
        while len(out) < count:
            sid, name, extra = make(k)
            k += 1
            if sid in seen:
                continue
            out.append(add(sid, name, typ, **extra))
        return out

    pools = {}
    # state media: one independence group
    pools["state_media"] = []
    for sid, name, url in STATE_MEDIA:
        extra = {"group": "dprk-state-media"}
        if url:
            extra["url"] = url
        if sid == "kcna":
            extra["notes"] = "Authoritative for what the regime says; not for facts it asserts."
        pools["state_media"].append(add(sid, name, "state_media", **extra))

    def make_outlet(k):
        name = "%s %s" % (rng.choice(["Seoul", "Tokyo", "Beijing", "Dandong", "Busan",
                                       "Osaka", "Hong Kong", "Singapore", "Berlin"]),
                          rng.choice(["Daily", "Herald", "Times", "Post", "Wire", "Review"]))
        extra = {"url": "https://news%d.example.org" % k} if rng.random() < 0.6 else {}
        return "%s-%d" % (_slug(name), k), "%s %d" % (name, k), extra

    pools["news_outlet"] = fill("news_outlet", INFORMANT_OUTLETS + NEWS_OUTLETS,
                                want["news_outlet"], make_outlet)
    outlets = pools["news_outlet"][: len(INFORMANT_OUTLETS)]
    outlet_weights = [(o, w) for o, w in zip(outlets, [40, 22, 15, 12, 6, 5])]

    informants_by_outlet = {o["id"]: [] for o in outlets}

    def make_informant(k):
        outlet = _weighted(rng, outlet_weights)
        place = PLACES[int(rng.random() ** 1.5 * len(PLACES))]
        sid = "%s-source-%s-%d" % (outlet["id"], PLACE_SLUG[place], k)
        extra = {"outlet": outlet["id"]}
        if rng.random() < 0.25:
            extra["sensitivity"] = "protected"
        if rng.random() < 0.3:
            extra["notes"] = "Relayed by %s; in contact since %d." % (
                outlet["name"], 2005 + int(rng.random() * 19))
        return sid, "%s-based source %d (%s)" % (place, k, outlet["name"]), extra

    pools["informant"] = fill("informant", [], want["informant"], make_informant)
    for rec in pools["informant"]:
        informants_by_outlet[rec["outlet"]].append(rec)

    def make_defector(k):
        role = rng.choice(DEFECTOR_ROLES)
        year = 1997 + int(rng.random() * 27)
        if rng.random() < 0.35:
            extra = {"sensitivity": "protected",
                     "notes": "Former %s; left in %d. Do not identify." % (role, year)}
            return "defector-%d" % k, "Defector %d (former %s)" % (k, role), extra
        name = "%s %s" % (rng.choice(FAMILY), rng.choice(GIVEN))
        extra = {}
        if rng.random() < 0.5:
            extra["notes"] = "Former %s; left in %d." % (role, year)
        return "%s-%d" % (_slug(name), k), name, extra

    pools["defector"] = fill("defector", [], want["defector"], make_defector)

    def make_academic(k):
        if rng.random() < 0.4:
            name = "%s %s" % (rng.choice(FAMILY), rng.choice(GIVEN))
        else:
            name = "%s %s" % (rng.choice(WEST_FIRST), rng.choice(WEST_LAST))
        extra = {}
        if rng.random() < 0.6:
            extra["notes"] = rng.choice(AFFILIATIONS)
        if rng.random() < 0.3:
            extra["url"] = "https://%s.example.edu/~%s" % (
                _slug(rng.choice(AFFILIATIONS)), _slug(name))
        return "%s-%d" % (_slug(name), k), name, extra

    pools["academic"] = fill("academic", [], want["academic"], make_academic)

    def make_generic(prefix, label):
        def make(k):
            extra = {"notes": "%s %d." % (label, k)} if rng.random() < 0.4 else {}
            return "%s-%d" % (prefix, k), "%s %d" % (label, k), extra
        return make

    pools["imagery"] = fill("imagery", IMAGERY, want["imagery"],
                            make_generic("imagery-analyst", "Imagery analyst"))
    pools["government"] = fill("government", GOVERNMENT, want["government"],
                               make_generic("gov-agency", "Government agency"))
    pools["analyst"] = fill("analyst", ANALYSTS, want["analyst"],
                            make_generic("research-desk", "Research desk"))

    def make_other(k):
        what = rng.choice(OTHER_KINDS)
        extra = {"notes": "Other: %s." % what}
        if rng.random() < 0.15:
            extra["sensitivity"] = "protected"
        return "other-%s-%d" % (_slug(what), k), "%s %d" % (what.capitalize(), k), extra

    pools["other"] = fill("other", [], want["other"], make_other)
    return records, pools, informants_by_outlet


def _write_sources(path: pathlib.Path, records) -> None:
    out = []
    for r in records:
        out.append("- id: %s\n  name: %s\n  type: %s\n" % (r["id"], _q(r["name"]), r["type"]))
        if "reliability" in r:
            out.append("  reliability: %s\n" % r["reliability"])
        if "group" in r:
            out.append("  group: %s\n" % r["group"])
        if "outlet" in r:
            out.append("  outlet: %s\n" % r["outlet"])
        if "url" in r:
            out.append("  url: %s\n" % _q(r["url"]))
        if "notes" in r:
            out.append("  notes: %s\n" % _q(r["notes"]))
        if "sensitivity" in r:
            out.append("  sensitivity: %s\n" % r["sensitivity"])
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("".join(out))


# --------------------------------------------------------------------------- documents


def generate(out_dir: pathlib.Path, claims: int, seed: int = 0, *, force: bool = False) -> dict:
    """Write OUT_DIR/sources.yml and OUT_DIR/documents/*.yml; return the counts.

    Refuses to write into a documents/ folder that already holds .yml files unless
    ``force`` (then those .yml files, and only those, are removed first).
    """
    if claims < 1:
        raise ValueError("claims must be >= 1")
    out_dir = pathlib.Path(out_dir)
    docs_dir = out_dir / "documents"
    docs_dir.mkdir(parents=True, exist_ok=True)
    old = [e for e in os.scandir(docs_dir) if e.name.endswith(".yml")]
    if old:
        if not force:
            raise FileExistsError("%s already holds %d .yml files (use force)" % (docs_dir, len(old)))
        for e in old:
            os.unlink(e.path)

    N = claims
    rng = random.Random(seed)
    records, pools, informants_by_outlet = _build_sources(rng, N)
    _write_sources(out_dir / "sources.yml", records)

    cl = _Claims(seed)
    rand = rng.random

    # sources as plain tuples for the hot loop
    pool_ids = {t: [r["id"] for r in rs] for t, rs in pools.items()}
    informant_outlet = {r["id"]: r["outlet"] for r in pools["informant"]}
    inf_by_outlet = {o: [r["id"] for r in rs] for o, rs in informants_by_outlet.items()}
    state_ids = pool_ids["state_media"]
    news_ids = pool_ids["news_outlet"]
    relay_ids = news_ids + pool_ids["academic"] + pool_ids["defector"][: max(1, len(pool_ids["defector"]) // 3)]
    type_table = []
    for t, w in ORIGIN_TYPE_WEIGHTS:
        type_table.extend([pool_ids[t]] * w)
    n_type = len(type_table)
    informant_ids = pool_ids["informant"]
    kind_origins = {k: [pool_ids[t] for t in v] for k, v in KIND_ORIGINS.items()}

    def topic_of_imagery(cid: str) -> bool:
        return cid.startswith("imagery-")

    # publishers: state media ~22% of documents, informant outlets heavily, the rest tail
    publisher_table = []
    for k, sid in enumerate(state_ids):
        publisher_table.extend([sid] * max(1, 12 - k))
    for k, sid in enumerate(news_ids):
        publisher_table.extend([sid] * (max(1, 40 - 5 * k) if k < len(INFORMANT_OUTLETS) else
                                        (4 if k < len(INFORMANT_OUTLETS) + len(NEWS_OUTLETS) else 1)))
    n_pub = len(publisher_table)
    domain = {}
    for r in records:
        if r["type"] in ("news_outlet", "state_media"):
            u = r.get("url")
            domain[r["id"]] = u.rstrip("/") if u else "https://%s.example.org" % r["id"]

    authors = []
    for f in FAMILY:
        for g in GIVEN:
            authors.append("%s %s" % (f, g))
    for f in WEST_FIRST:
        for l in WEST_LAST:
            authors.append("%s %s" % (f, l))
    rng.shuffle(authors)
    authors = authors[:200]

    # popularity: rank -> claim index through an affine bijection of range(N)
    mult = 2654435761 % N or 1
    while math.gcd(mult, N) != 1:
        mult += 1
    offset = int(rand() * N)

    def popular() -> int:
        return (int(N * rand() ** ZIPF_A) * mult + offset) % N

    def pick(ids, skew=1.8):
        return ids[int(len(ids) * rand() ** skew)]

    est_docs = max(1.0, N / (10 * (1 - P_REF)))
    span = END - START
    fromordinal = _dt.date.fromordinal
    links_seen = set()
    q = _q
    n_docs = n_apps = n_links = 0
    next_claim = 0
    j = 0

    while next_claim < N:
        size = 5 + int(rand() * 11)
        n_ref = 0
        for _ in range(size):
            if rand() < P_REF:
                n_ref += 1
        n_def = min(size - n_ref, N - next_claim)
        if n_def <= 0 and N - next_claim > 0 and n_ref == 0:
            continue

        publisher = publisher_table[int(rand() * n_pub)]
        is_state = publisher in state_ids
        frac = min(1.0, j / est_docs)
        pub_ord = START + int(span * (0.85 * frac + 0.15 * rand()))
        if pub_ord > END:
            pub_ord = END
        pub_date = fromordinal(pub_ord)
        r = rand()
        pub_prec = 2 if r < 0.72 else (1 if r < 0.92 else 0)
        doc_id = "%s-%d-%d" % (publisher, pub_date.year, j)

        entries = []  # (claim index, defined here?)
        in_doc = set()
        for _ in range(n_def):
            entries.append((next_claim, True))
            in_doc.add(next_claim)
            next_claim += 1
        for _ in range(n_ref):
            for _try in range(4):
                c = popular() if rand() < 0.8 else int(rand() * N)
                if c not in in_doc:
                    in_doc.add(c)
                    entries.append((c, False))
                    break
        if not entries:
            continue
        rng.shuffle(entries)

        out = []
        title_claim = cl.get(entries[0][0])
        place = PLACES[int(rand() * len(PLACES))]
        topic = title_claim[4][0].replace("-", " ")
        tt = TITLE_TEMPLATES[int(rand() * len(TITLE_TEMPLATES))]
        title = tt.format(place=place, topic=topic, Topic=topic.capitalize(), year=pub_date.year)
        out.append("id: %s\ntitle: %s\npublisher: %s\n" % (doc_id, q(title), publisher))
        if not is_state and rand() < 0.55 or is_state and rand() < 0.05:
            na = 1 + int(rand() ** 2 * 3)
            names = []
            for _ in range(na):
                a = authors[int(len(authors) * rand() ** 1.5)]
                if a not in names:
                    names.append(a)
            out.append("authors: [%s]\n" % ", ".join(q(a) for a in names))
        out.append("published: %s\n" % _render_date(pub_date, pub_prec))
        if rand() < 0.6:
            out.append("url: %s\n" % q("%s/%d/%d" % (domain[publisher], pub_date.year, j)))
        out.append("claims:\n")

        pub_informants = inf_by_outlet.get(publisher)
        for c, defined in entries:
            cid, text, quote, kind, tags, h = cl.get(c)
            # origin
            r = rand()
            if is_state:
                origin = publisher if r < 0.6 else (pick(state_ids) if r < 0.85
                                                    else pick(type_table[int(rand() * n_type)]))
            elif r < 0.6:
                prefs = kind_origins["imagery" if topic_of_imagery(cid) else kind]
                pl = prefs[int(rand() * len(prefs))]
                if pl is informant_ids and pub_informants and rand() < 0.75:
                    origin = pick(pub_informants, 1.3)
                else:
                    origin = pick(pl)
            else:
                origin = pick(type_table[int(rand() * n_type)])
            # via chain
            via = None
            o_outlet = informant_outlet.get(origin)
            if o_outlet is not None and o_outlet != publisher:
                via = [o_outlet]
                if rand() < 0.3:
                    v = pick(relay_ids)
                    if v not in via and v != origin and v != publisher:
                        via.append(v)
            elif rand() < 0.15:
                via = []
                for _ in range(1 + int(rand() ** 2 * 3)):
                    v = pick(relay_ids)
                    if v not in via and v != origin and v != publisher:
                        via.append(v)
            elif rand() < 0.03:
                via = []
            if defined:
                out.append("  - id: %s\n    text: %s\n    kind: %s\n" % (cid, q(text), kind))
                if rand() < 0.6:
                    occ = fromordinal(pub_ord - int(rand() ** 2 * 900))
                    r = rand()
                    out.append("    occurred: %s\n" % _render_date(occ, 2 if r < 0.4 else (1 if r < 0.8 else 0)))
                if rand() < 0.85:
                    tl = list(tags[: 1 + (h & 1)])
                    if rand() < 0.3:
                        t = EXTRA_TAGS[int(rand() * len(EXTRA_TAGS))]
                        if t not in tl:
                            tl.append(t)
                    out.append("    tags: [%s]\n" % ", ".join(tl))
            else:
                out.append("  - ref: %s\n" % cid)
            out.append("    source: %s\n" % origin)
            if via is not None:
                out.append("    via: [%s]\n" % ", ".join(via))
            if rand() < 0.9:
                if not defined and rand() < 0.3:
                    words = text.split(" ")
                    quote = " ".join(words[: min(len(words), 3 + int(rand() * 3))])
                out.append("    quote: %s\n" % q(quote))
            r = rand()
            if r < P_DENIES:
                out.append("    stance: denies\n")
            elif r < 0.06:
                out.append("    stance: asserts\n")
            n_apps += 1

        # links, started from claims in this document
        link_lines = []
        n_entries = len(entries)
        for c, _defined in entries:
            if rand() >= P_LINK:
                continue
            for _try in range(4):
                r = rand()
                if r < 0.4 and n_entries > 1:
                    other = entries[int(rand() * n_entries)][0]
                elif r < 0.7:
                    other = (c + int(rand() * 1001) - 500) % N
                else:
                    other = popular()
                if other == c:
                    continue
                key = c * N + other if c < other else other * N + c
                if key in links_seen:
                    continue
                links_seen.add(key)
                relation = "contradicts" if rand() < P_CONTRA else "corroborates"
                if rand() < 0.5:
                    a, b = c, other
                else:
                    a, b = other, c
                link_lines.append("  - from: %s\n    to: %s\n    relation: %s\n"
                                  % (cl.cid(a), cl.cid(b), relation))
                if rand() < 0.3:
                    notes = LINK_NOTES_CONTRA if relation == "contradicts" else LINK_NOTES_CORR
                    link_lines.append("    note: %s\n" % q(notes[int(rand() * len(notes))]))
                n_links += 1
                break
        if link_lines:
            out.append("links:\n")
            out.extend(link_lines)

        with open(docs_dir / (doc_id + ".yml"), "w", encoding="utf-8", newline="\n") as fh:
            fh.write("".join(out))
        n_docs += 1
        j += 1

    return {"sources": len(records), "documents": n_docs, "claims": N,
            "appearances": n_apps, "links": n_links}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate a synthetic seed tree (SPEC section 3) for benchmarks.")
    ap.add_argument("out_dir", type=pathlib.Path, help="output folder (sources.yml, documents/)")
    ap.add_argument("--claims", type=int, required=True, help="number of claims to define")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--force", action="store_true",
                    help="remove .yml files already in OUT_DIR/documents first")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        counts = generate(args.out_dir, args.claims, args.seed, force=args.force)
    except (ValueError, FileExistsError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    dt = time.perf_counter() - t0
    print(" ".join("%s=%d" % kv for kv in counts.items()) + " seconds=%.1f" % dt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
