"""Who a source span names: a seed source (by name or alias), or a guess at a new one.

Names are compared in a normalised form that forgets case, hyphens, spaces, a leading
"the" and the common romanisation variants of Korean names (Kim Jong Un / Kim Jong-un,
Ryanggang / Yanggang, Rodong / Nodong), so the alias lists stay short.
"""

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+")
_STATE_MEDIA = re.compile(r"\b(kcna|korean central news agency|rodong|nodong|kctv|uriminzokkiri|"
                          r"korean central (tv|television)|state media|state-run media|pyongyang times|"
                          r"kim jong[- ]?un|kim yo[- ]?jong|kim jong[- ]?il|kim il[- ]?sung|workers[’']? party|wpk|"
                          r"central committee|politburo|north korean leader|pyongyang regime|the regime|the party)\b", re.I)
_ACADEMIC = re.compile(r"\b(institute|university|professor|researcher|scholar|academy|think[- ]tank|"
                       r"center for|centre for|fellow|studies|expert|analyst at)\b", re.I)
_DEFECTOR = re.compile(r"\bdefect(or|ors|ed)\b|\bescapee", re.I)
_GOVERNMENT = re.compile(r"\b(ministry|minister|nis|national intelligence service|government|official|officials|"
                         r"department|pentagon|white house|military|joint chiefs|unification|spokes(man|woman|person)|"
                         r"president|lawmaker|assembly|embassy|police)\b", re.I)
_INFORMANT = re.compile(r"\b([A-Z][\w’'-]*?)(?: Province)?(?:[- ]based)? sources?\b|\bsources? (in|from|inside) ([A-Z][\w-]+)"
                        r"|\b(our|daily nk(’s|'s)?|a|an|the) sources?\b|\bsources? (said|told|reported)", re.I)
_OUTLET = re.compile(r"\b(news|times|post|press|agency|yonhap|reuters|bloomberg|afp|ap|associated press|"
                     r"journal|daily|tribune|herald|broadcast|radio|television|tv|newspaper|magazine)\b", re.I)


def _romanise(word):
    # South and North Korean romanisations differ mostly in initial r/l/n and hyphens.
    if word[:2] in ("ry", "ly"):
        return word[1:]
    if word[:1] in ("r", "l") and len(word) > 2:
        return "n" + word[1:]
    return word


def name_key(name):
    """Normalised word tuple of a name: case, accents, hyphens and 'the' forgotten."""
    name = unicodedata.normalize("NFKD", name)
    name = re.sub(r"\(.*?\)", " ", name)  # "Pyongyang-based source (Daily NK)"
    # "North Korea's leadership", "the North Korean leader": the DPRK's
    name = re.sub(r"\bnorth korea(?:n|[’']s)?\b|\bdprk[’']s\b", "dprk", name, flags=re.I)
    words = [w.lower() for w in _WORD.findall(name)]
    if words and words[0] == "the":
        words = words[1:]
    # Korean given names: "Jong Un", "Jong-un" and "Jongun" are one name.
    return "".join(_romanise(w) for w in words)


def source_names(source):
    names = [source.name, *source.aliases]
    # "Kim Jong Un and the WPK/SPA, as reported by ..." also answers to "Kim Jong Un"
    for part in re.split(r"\s+and\s+|,|;", re.sub(r"\(.*?\)", " ", source.name)):
        if len(part.split()) >= 2 and part.strip() != source.name:
            names.append(part.strip())
    if source.type.value != "informant":
        names.append(source.id.replace("-", " "))
    return names


class Resolver:
    """Match source spans against the seed sources (names and aliases)."""

    def __init__(self, sources):
        self.sources = {s.id: s for s in sources}
        self.keys = []  # (key, source id): longest first, so "Rodong Sinmun" beats "Rodong"
        for s in sources:
            for name in source_names(s):
                key = name_key(name)
                if len(key) >= 3:
                    self.keys.append((key, s.id))
        self.keys.sort(key=lambda k: -len(k[0]))

    def informant(self, span_text, outlet):
        """An informant source of `outlet` named by an "X-based source" span, if any."""
        m = re.search(r"([A-Z][\w’'-]*?(?: Province)?)(?:[- ]based)? sources?|sources? (?:in|from) ([A-Z][\w-]+)",
                      span_text)
        place = (m.group(1) or m.group(2)) if m else None
        candidates = [s for s in self.sources.values()
                      if s.type.value == "informant" and (outlet is None or s.outlet == outlet)]
        if not place:
            return None
        place_key, based_key = name_key(place), name_key(place + " based source")
        best, best_score = None, 0
        for s in candidates:
            keys = [name_key(n) for n in source_names(s)] + [name_key(s.id.replace("-", " "))]
            score = 2 if any(based_key in k for k in keys) else 1 if any(place_key in k for k in keys) else 0
            if score > best_score:
                best, best_score = s, score
        return best

    def resolve(self, span_text, outlet=None):
        """The seed source a span names, or None."""
        if _INFORMANT.search(span_text):
            found = self.informant(span_text, outlet)
            if found:
                return found
        key = name_key(span_text)
        if not key:
            return None
        for name_key_, sid in self.keys:  # a name or alias exactly
            if name_key_ == key:
                return self.sources[sid]
        for name_key_, sid in self.keys:  # a name inside the span, or most of one
            if name_key_ in key or (len(key) >= 6 and key in name_key_ and len(key) * 2 >= len(name_key_)):
                return self.sources[sid]
        return None


# The first that matches names the type (state media before outlets: "news agency").
_TYPE_CUES = ((_STATE_MEDIA, "state_media"), (_DEFECTOR, "defector"), (_GOVERNMENT, "government"),
              (_INFORMANT, "informant"), (_ACADEMIC, "academic"), (_OUTLET, "news_outlet"))


def guess_type(span_text):
    """A source type for a source the seeds do not know (SPEC section 2)."""
    return next((kind for cue, kind in _TYPE_CUES if cue.search(span_text)), "other")
