"""Tokens, sentences, quotation state and the features of the attribution model.

One module for training and tagging, so the model always sees features computed the
same way. Pure Python and the standard library: no model is loaded here.

Tokens are the ones SPEC section 9's measures count: ``\\w+(?:['’\\-.]\\w+)*`` or one
non-space character. A text is tagged paragraph by paragraph (blank-line or newline
separated), the unit in which a quotation opens and closes.
"""

import functools
import re

TOKEN = re.compile(r"\w+(?:['’\-.]\w+)*|\S")

OPEN_QUOTES = {"“", "‘", "«", "„"}
CLOSE_QUOTES = {"”", "’", "»"}
STRAIGHT_QUOTES = {'"'}
SENTENCE_END = {".", "!", "?"}


def _inflect(base):
    """Rough English inflections of a reporting verb: enough for a lexicon feature."""
    forms = {base, base + "s", base + "ed", base + "ing"}
    if base.endswith("e"):
        forms |= {base + "d", base[:-1] + "ing"}
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    if re.search(r"[^aeiou][aeiou][bdgmnprt]$", base):
        forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    if base.endswith(("s", "sh", "ch", "x", "z")):
        forms.add(base + "es")
    return forms


# Verbs and nouns that introduce what someone asserts (reporting, belief, proposal).
_CUE_VERBS = """
say tell state claim report announce add note explain argue insist assert declare
confirm deny admit acknowledge suggest warn predict write reply respond answer ask
agree disagree believe think feel hope fear expect estimate reckon guess doubt know
accuse allege charge contend maintain reveal disclose describe call praise criticize
criticise blame slam blast attack condemn defend urge demand vow pledge promise
propose recommend tweet post quote cite mention complain concede testify recall
remark comment observe point stress emphasize emphasise underline highlight indicate
show find conclude decide determine announce threaten boast brag joke mock question
challenge dispute reject dismiss contradict caution advise tout hail label brand
characterize characterise portray depict paint frame signal hint imply speculate
wonder worry acknowledge recount recall relate narrate inform notify assure reassure
counter retort rebut scoff sneak lament regret apologize apologise thank congratulate
welcome celebrate support endorse oppose favor favour back want wish plan intend
refuse decline fail seem appear prove suspect consider view regard see
""".split()
_CUE_IRREGULAR = """
said told wrote written thought felt knew known found saw seen shown showed
according spokesman spokeswoman spokesperson statement statements report reports
interview interviews remarks claim claims told quoted sources
""".split()
CUE_WORDS = frozenset(f for base in _CUE_VERBS for f in _inflect(base)) | frozenset(_CUE_IRREGULAR)

SOURCE_NOUNS = frozenset("""
official officials source sources spokesman spokeswoman spokesperson aide aides adviser
advisers advisor advisors analyst analysts expert experts campaign president senator
governor candidate nominee minister ministry agency department police authorities
government administration committee report poll survey study researchers scientists
critics supporters voters republicans democrats people residents defector defectors
witness witnesses officer officers lawyer attorney judge prosecutors economist professor
director chairman chief leader leaders spokesmen statement website newspaper agency
""".split())

_IRREGULAR_BASE = {"said": "say", "told": "tell", "wrote": "write", "written": "write", "thought": "think",
                   "felt": "feel", "knew": "know", "known": "know", "found": "find", "saw": "see",
                   "seen": "see", "shown": "show", "showed": "show"}
# Word form -> the lexicon's base ("says", "saying", "said" -> "say"): one feature for all forms.
CUE_BASE = {}
for _base in _CUE_VERBS:
    for _form in _inflect(_base):
        CUE_BASE.setdefault(_form, _base)
CUE_BASE.update(_IRREGULAR_BASE)

# Coarse classes of function words: a stand-in for parts of speech in the lexicon features.
FUNCTION_CLASSES = {}
for _cls, _words in (
    ("aux", "is are was were be been being am has have had having do does did will would can could "
            "may might shall should must 's 're 've 'd ’s ’re ’ve ’d"),
    ("neg", "not n't never no ’t"),
    ("det", "the a an his her their its our my your this these those that's"),
    ("prep", "of in on at for with about from by into over after before during against under between "
             "through to as"),
    ("that", "that whether if"),
    ("conj", "and or but while because although though"),
    ("wh", "what why how when where who whom whose which"),
):
    for _w in _words.split():
        FUNCTION_CLASSES[_w] = _cls

# Multiword cues: each token of a match is marked (B first, I the rest).
MULTIWORD_CUES = [tuple(m.split()) for m in """
according to|in a statement|in an interview|pointed out|point out|points out|called for|calls for|call for
called on|calls on|call on|made clear|make clear|makes clear|told reporters|as saying|quoted as|went on to
in a tweet|in a post|in a speech|in an email|in a letter|on twitter|made the case|spoke of|speaking of
took aim at|takes aim at|went after|weighed in|weigh in|weighs in|raised concerns|expressed concern
referred to|refers to|pushed back|push back|came out|come out|lashed out|signed off|set out|laid out
""".replace("|", "\n").split("\n") if m.strip()]
_MW_FIRST = {}
for _m in MULTIWORD_CUES:
    _MW_FIRST.setdefault(_m[0], []).append(_m)


def multiword_marks(lower):
    marks = [None] * len(lower)
    for i, w in enumerate(lower):
        for m in _MW_FIRST.get(w, ()):
            if tuple(lower[i:i + len(m)]) == m:
                marks[i] = "B"
                for k in range(i + 1, i + len(m)):
                    marks[k] = "I"
    return marks


PRONOUNS = frozenset("i we you he she they it me us him her them who which that this".split())
SUBJECT_PRONOUNS = frozenset("i we you he she they".split())


@functools.lru_cache(maxsize=1 << 16)  # three regex passes a token otherwise: a good share of tagging time
def shape(word):
    s = re.sub("[A-Z]+", "A", word)
    s = re.sub("[a-z]+", "a", s)
    s = re.sub("[0-9]+", "0", s)
    return s[:6]


def tokenize(text):
    """[(start, end, word)] for every token of the text."""
    return [(m.start(), m.end(), m.group()) for m in TOKEN.finditer(text)]


def paragraphs(text, tokens):
    """Split token indices into paragraphs: a newline between two tokens ends one."""
    groups, current = [], []
    for i, (start, _end, _w) in enumerate(tokens):
        if current and "\n" in text[tokens[current[-1]][1]:start]:
            groups.append(current)
            current = []
        current.append(i)
    if current:
        groups.append(current)
    return groups


def sentence_ids(words, quotes=None):
    """Sentence number of each token of a paragraph (a simple, fast splitter).

    With `quotes` (quote_state), a quotation is never split: a quoted passage of
    several sentences and its "he said" are one unit for the features.
    """
    ids, sid, n = [], 0, len(words)
    for i, w in enumerate(words):
        ids.append(sid)
        if quotes and quotes[i] and i + 1 < n and quotes[i + 1]:
            continue
        if w in SENTENCE_END and i + 1 < n:
            nxt = words[i + 1]
            if nxt in CLOSE_QUOTES or nxt in STRAIGHT_QUOTES:
                continue  # the quote mark closes the sentence: split after it
            if nxt[:1].isupper() or nxt[:1].isdigit() or nxt in OPEN_QUOTES:
                sid += 1
        elif (w in CLOSE_QUOTES or w in STRAIGHT_QUOTES) and i > 0 and words[i - 1] in SENTENCE_END \
                and i + 1 < n and words[i + 1][:1].isupper():
            sid += 1
    return ids


def quote_state(words):
    """1 for tokens inside quotation marks (the marks included), else 0."""
    state, inside, straight_open = [], False, False
    for i, w in enumerate(words):
        if w in OPEN_QUOTES and w != "‘":
            inside = True
            state.append(1)
            continue
        if w == "‘" and (i + 1 < len(words) and words[i + 1][:1].isalnum()):
            state.append(1 if inside else 0)
            continue
        if w in STRAIGHT_QUOTES:
            straight_open = not straight_open
            inside = straight_open
            state.append(1)
            continue
        state.append(1 if inside else 0)
        if w == "”" or w == "»":
            inside = False
    return state


def quote_distances(words):
    """Token distance to the nearest quotation mark on the left and on the right (None: no mark)."""
    n = len(words)
    marks = [w in OPEN_QUOTES or w in CLOSE_QUOTES or w in STRAIGHT_QUOTES for w in words]
    left, last = [], None
    for i in range(n):
        left.append(None if last is None else i - last)
        if marks[i]:
            last = i
    right, nxt = [None] * n, None
    for i in range(n - 1, -1, -1):
        right[i] = None if nxt is None else nxt - i
        if marks[i]:
            nxt = i
    return left, right


def _bucket(d):
    if d <= 3:
        return str(d)
    if d <= 5:
        return "4-5"
    if d <= 10:
        return "6-10"
    if d <= 20:
        return "11-20"
    return "21+"


# The feature sets a model can be trained on (models of an ensemble differ in them).
FEATURE_SETS = ("base", "rich", "context")


def lexicon_class(word, lower, rich=True):
    """The lexicon class of a token: a reporting cue, a source noun, a subject pronoun, a
    class of function words (the rich set's), a capitalised word, a punctuation mark (the
    quotation marks and sentence punctuation each their own), or any other word."""
    if lower in CUE_WORDS:
        return "cue"
    if lower in SOURCE_NOUNS:
        return "src"
    if lower in SUBJECT_PRONOUNS:
        return "pro"
    if rich and lower in FUNCTION_CLASSES:
        return FUNCTION_CLASSES[lower]
    if word[:1].isupper():
        return "cap"
    if not word[:1].isalnum():
        if word in OPEN_QUOTES or word in CLOSE_QUOTES or word in STRAIGHT_QUOTES or word in ",:;.?!":
            return "p:" + word
        return "p"
    return "w"


def base_features(words, clusters=None, variant="base"):
    """Word, shape, lexicon, cluster, quotation, sentence and window features of a paragraph.

    clusters: {word: [coarse id, fine id]} (bench/attributions/clusters.py), or None.
    variant: one of FEATURE_SETS. "base" is the original set; "rich" adds coarse classes
    of function words to the lexicon feature, the base form of lexicon cue words, known
    multiword cues, words at +-3, longer word and class n-grams and the distance to the
    nearest quotation mark on each side; "context" adds a word trigram, 4-letter affixes
    and what lies just ahead ("that", a colon, an opening quotation) or behind (a
    closing quotation) of the token.
    """
    if variant not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {variant!r} (known: {', '.join(FEATURE_SETS)})")
    rich = variant == "rich"
    n = len(words)
    lower = [w.lower() for w in words]
    quotes = quote_state(words)
    sids = sentence_ids(words, quotes)
    lex = [lexicon_class(w, lw, rich) for w, lw in zip(words, lower)]
    # Sentence-level facts: does it hold a quotation mark, a lexicon cue; position in it.
    sent_quote, sent_cue, sent_start = {}, {}, {}
    for i in range(n):
        s = sids[i]
        sent_start.setdefault(s, i)
        if lex[i].startswith("p:") and words[i] not in ",:;.?!":
            sent_quote[s] = True
        if lex[i] == "cue":
            sent_cue[s] = True
    sent_end = {}
    for i in range(n):
        sent_end[sids[i]] = i

    if clusters:
        none = ("-", "-")
        cl = [clusters.get(lw, none) for lw in lower]
        cl_p = [("<s>", "<s>")] * 2 + cl + [("</s>", "</s>")] * 2
    if rich:
        lem = [CUE_BASE.get(lw, lw) if lx == "cue" else None for lw, lx in zip(lower, lex)]
        mw = multiword_marks(lower)
        q_left, q_right = quote_distances(words)
    feats = []
    pad = ["<s>", "<s>", "<s>"]
    lw_p = pad + lower + ["</s>"] * 3
    lex_p = pad + lex + ["</s>"] * 3
    for i in range(n):
        w, lw, s = words[i], lower[i], sids[i]
        j = i + 3
        f = [
            "b",
            "w=" + lw,
            "s3=" + lw[-3:],
            "s2=" + lw[-2:],
            "p3=" + lw[:3],
            "sh=" + shape(w),
            "L=" + lex[i],
            "q=%d" % quotes[i],
            "w-1=" + lw_p[j - 1],
            "w+1=" + lw_p[j + 1],
            "w-2=" + lw_p[j - 2],
            "w+2=" + lw_p[j + 2],
            "w-1|w=" + lw_p[j - 1] + "|" + lw,
            "w|w+1=" + lw + "|" + lw_p[j + 1],
            "L-1=" + lex_p[j - 1],
            "L+1=" + lex_p[j + 1],
            "L-2=" + lex_p[j - 2],
            "L+2=" + lex_p[j + 2],
            "L-3=" + lex_p[j - 3],
            "L+3=" + lex_p[j + 3],
            "L-1|L=" + lex_p[j - 1] + "|" + lex[i],
            "L|L+1=" + lex[i] + "|" + lex_p[j + 1],
            "sq=%d" % (1 if s in sent_quote else 0),
            "sc=%d" % (1 if s in sent_cue else 0),
        ]
        if clusters:
            j2 = i + 2
            f += ["k1=%s" % cl[i][0], "k2=%s" % cl[i][1], "k2-1=%s" % cl_p[j2 - 1][1], "k2+1=%s" % cl_p[j2 + 1][1],
                  "k1-2=%s" % cl_p[j2 - 2][0], "k1+2=%s" % cl_p[j2 + 2][0],
                  "k1-1|k1=%s|%s" % (cl_p[j2 - 1][0], cl[i][0])]
        if rich:
            f += ["w-3=" + lw_p[j - 3], "w+3=" + lw_p[j + 3],
                  "w-2|w-1=" + lw_p[j - 2] + "|" + lw_p[j - 1], "w+1|w+2=" + lw_p[j + 1] + "|" + lw_p[j + 2],
                  "L-2|L-1|L=" + lex_p[j - 2] + "|" + lex_p[j - 1] + "|" + lex[i],
                  "L|L+1|L+2=" + lex[i] + "|" + lex_p[j + 1] + "|" + lex_p[j + 2]]
            if lem[i]:
                f.append("lem=" + lem[i])
            if i and lem[i - 1]:
                f.append("lem-1=" + lem[i - 1])
            if i + 1 < n and lem[i + 1]:
                f.append("lem+1=" + lem[i + 1])
            if mw[i]:
                f.append("mw=" + mw[i])
            f.append("ql=" + ("-" if q_left[i] is None else _bucket(q_left[i])))
            f.append("qr=" + ("-" if q_right[i] is None else _bucket(q_right[i])))
        elif variant == "context":
            f += ["w-1|w|w+1=" + lw_p[j - 1] + "|" + lw + "|" + lw_p[j + 1], "s4=" + lw[-4:], "p4=" + lw[:4]]
            ahead = lower[i + 1:i + 5]
            if "that" in ahead:
                f.append("that>")
            if ":" in ahead[:3]:
                f.append("colon>")
            if any(x in OPEN_QUOTES or x in STRAIGHT_QUOTES for x in words[i + 1:i + 4]):
                f.append("quote>")
            if any(x in CLOSE_QUOTES or x in STRAIGHT_QUOTES for x in words[max(0, i - 4):i]):
                f.append("<quote")
            if i + 1 < n and lex[i + 1] == "cap" and lex[i] == "cue":
                f.append("cue>cap")
        if w[:1].isupper():
            f.append("T")
        if i == sent_start[s]:
            f.append("bos")
        if i == sent_end[s]:
            f.append("eos")
        pos = (i - sent_start[s]) / max(1, sent_end[s] - sent_start[s])
        f.append("sp=%d" % int(pos * 4))
        if i == 0:
            f.append("bop")
        feats.append(f)
    return feats, sids, quotes


def cue_relative_features(words, feats, sids, quotes, cue_mask):
    """Features of each token relative to the cues of its paragraph (stage two).

    cue_mask: 1 where a token belongs to a cue (gold cues in training, predicted ones
    when tagging). Adds: inside a cue; direction and distance to the nearest cue of the
    same sentence (else of the paragraph); that cue's word; whether the token lies
    between that cue and the sentence's end (or its start and the cue); quotation state
    combined with both.
    """
    n = len(words)
    cue_positions = [i for i in range(n) if cue_mask[i]]
    lower = [w.lower() for w in words]
    # Cue runs: start..end of each contiguous cue, for the cue's first word.
    run_first = {}
    for i in cue_positions:
        run_first[i] = run_first.get(i - 1, i)
    out = []
    k = 0  # index into cue_positions: first cue at or after i
    for i in range(n):
        f = feats[i]
        extra = []
        while k < len(cue_positions) and cue_positions[k] < i:
            k += 1
        if cue_mask[i]:
            extra.append("c=in")
            extra.append("c=in|q=%d" % quotes[i])
        else:
            before = cue_positions[k - 1] if k > 0 else None  # nearest cue to the left
            after = cue_positions[k] if k < len(cue_positions) else None
            same_b = before is not None and sids[before] == sids[i]
            same_a = after is not None and sids[after] == sids[i]
            choices = []
            if same_b:
                choices.append((i - before, "R", before))
            if same_a:
                choices.append((after - i, "L", after))
            if choices:
                d, side, c = min(choices)
                cw = lower[run_first.get(c, c)]
                extra += [
                    "cd=" + side + _bucket(d),
                    "cs=" + side,
                    "cw=" + side + "|" + cw,
                    "cs|q=" + side + "|%d" % quotes[i],
                    "cs|L=" + side + "|" + f[6][2:],
                ]
                if same_b and same_a:
                    extra.append("c=between")
            else:
                near = [(i - before, "R") if before is not None else None,
                        (after - i, "L") if after is not None else None]
                near = [x for x in near if x]
                if near:
                    d, side = min(near)
                    extra += ["pc=" + side + _bucket(d), "pc|q=" + side + "|%d" % quotes[i]]
                else:
                    extra.append("nocue")
        # Cue state of the neighbours.
        for off in (-2, -1, 1, 2):
            j = i + off
            if 0 <= j < n and cue_mask[j]:
                extra.append("c%+d" % off)
        out.append(f + extra)
    return out
