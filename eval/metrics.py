"""Metric functions of the evaluation harness: pure, deterministic, no model and no I/O.

Retrieval:  `reference_spans`, `is_relevant`, `hit_at_k`, `mrr_at_k`, `ndcg_at_k`.
Evidence:   `overlaps`, `evidence_hit`.
Answers:    `normalize_answer`, `token_f1` (SQuAD), `figure_match` (DROP / TAT-QA style figure exact
            match), `premise_corrected`, `refusal_pr`.
Citations:  `split_answer`, `citation_scores`.
Statistics: `bootstrap_ci` (percentile bootstrap, fixed seed), `percentile`.

Figures are compared as normalised quantities, not as strings: "US$2.8 billion" and "$2.8 billion"
are the same (money, USD, 2.8e9); "3% to 13%" is the two percentages 3 and 13. The normaliser is
`bot.quantity.find_quantities` when that module exists (see `FigureReader`), else the small local
grammar below; dates ("April 2021") and years are always read locally.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# --------------------------------------------------------------------------------------------------
# Retrieval

Span = tuple[str, int, int]  # (doc_id, start, end), character offsets into Document.text


def find_all(text: str, sub: str) -> list[int]:
    """Every start offset of `sub` in `text` (str.find repeated)."""
    out, i = [], text.find(sub)
    while sub and i != -1:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def reference_spans(doc_texts: dict[str, str], contexts: Iterable[str]) -> list[Span]:
    """The spans of the verbatim reference contexts in the documents (every occurrence)."""
    spans: list[Span] = []
    for ctx in contexts:
        if not isinstance(ctx, str) or not ctx:
            continue
        for doc_id in sorted(doc_texts):
            for s in find_all(doc_texts[doc_id], ctx):
                spans.append((doc_id, s, s + len(ctx)))
    return spans


def is_relevant(chunk: Span, refs: Sequence[Span]) -> bool:
    """A chunk is relevant when its span contains a whole reference span of the same document."""
    doc, start, end = chunk
    return any(d == doc and start <= s and e <= end for d, s, e in refs)


def overlaps(span: Span, refs: Sequence[Span]) -> bool:
    """Whether a span shares at least one character with a reference span of the same document."""
    doc, start, end = span
    return any(d == doc and start < e and s < end for d, s, e in refs)


def hit_at_k(rels: Sequence[bool], k: int) -> float:
    """1 when a relevant item is among the first k, else 0."""
    return 1.0 if any(rels[:k]) else 0.0


def mrr_at_k(rels: Sequence[bool], k: int = 10) -> float:
    """Reciprocal rank of the first relevant item within the first k (0 when none)."""
    for i, r in enumerate(rels[:k]):
        if r:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at_k(rels: Sequence[bool], k: int = 10, n_relevant: int | None = None) -> float:
    """Binary-relevance nDCG@k. `n_relevant` is how many relevant items exist in the whole collection
    (the ideal ranking puts min(n_relevant, k) of them first); by default those in `rels`."""
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(rels[:k]) if r)
    n = sum(1 for r in rels if r) if n_relevant is None else n_relevant
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n, k)))
    return dcg / ideal if ideal > 0 else 0.0


def evidence_hit(cited: Sequence[Span], refs: Sequence[Span], k: int) -> float:
    """1 when one of the first k citations overlaps a reference span."""
    return 1.0 if any(overlaps(c, refs) for c in cited[:k]) else 0.0


# --------------------------------------------------------------------------------------------------
# Token F1 (SQuAD v1.1 normalisation)

_MARKER = re.compile(r"\s*\[\d+\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | set("\u2018\u2019\u201c\u201d\u2014\u2013")


def strip_markers(text: str) -> str:
    """Answer text without its `[n]` citation markers."""
    return _MARKER.sub("", text or "").strip()


def normalize_answer(text: str) -> str:
    """Lower case, punctuation and articles removed, whitespace collapsed (SQuAD)."""
    text = (text or "").lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between two texts."""
    p, r = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not p or not r:
        return float(p == r)
    common = Counter(p) & Counter(r)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(r)
    return 2 * precision * recall / (precision + recall)


# --------------------------------------------------------------------------------------------------
# Figures: a small quantity grammar (dates always; numbers unless bot.quantity exists)


@dataclass(frozen=True)
class Fig:
    """One atomic figure: a range is read as its two ends."""

    text: str
    start: int
    end: int
    kind: str  # money, percent, percentage_points, count, duration, date, year, ordinal, multiple
    value: float
    currency: str | None = None
    unit: str | None = None
    scaled: bool = False
    negated: bool = False

    @property
    def dimension(self) -> tuple | None:
        """What the figure measures; two figures can contradict only when their dimensions agree.
        An unscaled count with no noun after it ("1+6+N", "Battlefield 2") has none."""
        if self.kind == "count":
            unit = "scaled" if self.scaled else self.unit
            return None if unit is None else ("count", None, unit)
        return (self.kind, self.currency, self.unit)


_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
_DATE = re.compile(rf"\b({'|'.join(_MONTHS)})\s+((?:19|20)\d{{2}})\b", re.I)
_YEAR_RANGE = re.compile(r"(?<![\w.])((?:19|20)\d{2})\s*[-\u2013]\s*((?:19|20)\d{2})(?![\w.%])")
_YEAR = re.compile(r"(?<![\w.$])((?:19|20)\d{2})(?![\w%]|\.\d|,\d)")

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_CURRENCIES = {"us$": "USD", "usd": "USD", "$": "USD", "dollars": "USD", "dollar": "USD", "hk$": "HKD",
               "cny": "CNY", "rmb": "CNY", "yuan": "CNY", "¥": "CNY", "€": "EUR", "eur": "EUR", "£": "GBP"}
_DURATIONS = r"hours?|days?|weeks?|months?|years?|quarters?|decades?"
_ATOM = re.compile(
    rf"""(?<![\w.$])
    (?:(?P<cur>US\$|HK\$|USD|CNY|RMB|\$|¥|€|£)\s?)?
    (?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?|(?:{'|'.join(_WORD_NUMBERS)})\b)
    (?:\s?(?P<pct>%|percent\b)
      |\s(?P<pp>percentage\s+points?|points?|pp)\b
      |\s?(?P<scale>thousand|million|billion|trillion)\b(?:\s(?P<cur2>yuan|dollars|USD|CNY|RMB)\b)?
      |(?P<dur>(?:\s+(?!(?:of|the|in|a|an|to|and|or|for|from|by|with|on|at|as|its|their)\b)[a-z]+){{0,2}}?\s+(?:{_DURATIONS}))\b
    )?""",
    re.I | re.X,
)
_STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between both but by
    can could did do does doing down during each few for from further had has have having he her here hers him his how i if
    in into is it its itself just me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your also per""".split()
)
_NEG = re.compile(r"(?:\bnot|n't|\bnever|\brather than|\binstead of)\s+(?:[\w$.,%-]+\s+){0,2}$", re.I)


def _num(text: str) -> float:
    t = text.lower()
    return float(_WORD_NUMBERS[t]) if t in _WORD_NUMBERS else float(t.replace(",", ""))


def _negated(text: str, start: int) -> bool:
    return bool(_NEG.search(text[max(0, start - 40):start]))


def _next_noun(text: str, end: int) -> str | None:
    m = re.match(r"\s+([A-Za-z][A-Za-z-]*)", text[end:])
    if not m:
        return None
    w = m.group(1).lower()
    if w in _STOP or w in _WORD_NUMBERS:
        return None
    return w[:-1] if w.endswith("s") and len(w) > 3 else w


def date_figures(text: str) -> list[Fig]:
    """Month-year dates and years (a year range is its two years)."""
    out: list[Fig] = []
    taken: list[tuple[int, int]] = []
    for m in _DATE.finditer(text):
        month = _MONTHS.index(m.group(1).lower()) + 1
        out.append(Fig(m.group(0), m.start(), m.end(), "date", float(int(m.group(2)) * 100 + month), negated=_negated(text, m.start())))
        taken.append(m.span())
    for m in _YEAR_RANGE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        for g in (1, 2):
            out.append(Fig(m.group(g), m.start(g), m.end(g), "year", float(m.group(g)), negated=_negated(text, m.start())))
        taken.append(m.span())
    for m in _YEAR.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        out.append(Fig(m.group(1), m.start(), m.end(), "year", float(m.group(1)), negated=_negated(text, m.start())))
        taken.append(m.span())
    return sorted(out, key=lambda f: (f.start, f.end))


def local_figures(text: str) -> list[Fig]:
    """Numbers with their currency, scale, percent sign or duration unit (dates excluded)."""
    raw: list[Fig] = []
    for m in _ATOM.finditer(text):
        num = m.group("num")
        if not m.group("cur") and not any(m.group(g) for g in ("pct", "pp", "scale", "dur")):
            # a bare number: a year is a date's business; "88VIP"-like tokens are not figures
            if re.match(r"[\w%]", text[m.end():m.end() + 1] or " "):
                continue
        value = _num(num)
        cur = m.group("cur") or m.group("cur2")
        currency = _CURRENCIES.get(cur.lower()) if cur else None
        scale = m.group("scale")
        if scale:
            value *= _SCALES[scale.lower()]
        neg = _negated(text, m.start())
        if m.group("pct"):
            kind, unit = "percent", None
        elif m.group("pp"):
            kind, unit = "percentage_points", None
        elif currency:
            kind, unit = "money", None
        elif m.group("dur"):
            kind = "duration"
            unit = re.search(rf"(?:{_DURATIONS})$", m.group("dur"), re.I).group(0).lower().rstrip("s")
        else:
            kind, unit = "count", (None if scale else _next_noun(text, m.end()))
        raw.append(Fig(m.group(0).strip(), m.start(), m.end(), kind, value, currency, unit, bool(scale), neg))
    # "3-5 years", "5 to 6 billion": a bare number joined to the next figure shares its unit
    out: list[Fig] = []
    for i, f in enumerate(raw):
        if f.kind == "count" and not f.scaled and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt.kind != "count" or nxt.scaled:
                between = text[f.end:nxt.start]
                if re.fullmatch(r"\s*(?:-|\u2013|to)\s*", between):
                    mult = 1.0
                    if nxt.scaled:
                        sc = re.search(r"thousand|million|billion|trillion", nxt.text, re.I)
                        mult = _SCALES[sc.group(0).lower()] if sc else 1.0
                    f = Fig(f.text, f.start, f.end, nxt.kind, f.value * mult, nxt.currency, nxt.unit, nxt.scaled, f.negated)
        out.append(f)
    return out


_CANON_KIND = {"percentage_point": "percentage_points", "pp": "percentage_points", "percentage": "percent"}


def _from_quantity(q, text: str) -> list[Fig]:
    """Atoms of a `bot.quantity.Quantity` (a range gives its two ends)."""
    kind = _CANON_KIND.get(getattr(q, "kind", "") or "", getattr(q, "kind", None) or "count")
    cur = getattr(q, "currency", None)
    currency = _CURRENCIES.get(str(cur).lower(), str(cur).upper()) if cur else None
    unit = getattr(q, "unit", None)
    unit = str(unit).lower().rstrip("s") if unit else None
    scaled = bool(getattr(q, "scale", None))
    start, end = int(getattr(q, "start", -1)), int(getattr(q, "end", -1))
    neg = _negated(text, start) if start >= 0 else False
    if kind == "count" and unit is None and not scaled and end >= 0:
        unit = _next_noun(text, end)
    values = [getattr(q, "value", None)]
    if values[0] is None:
        values = [getattr(q, "low", None), getattr(q, "high", None)]
    return [Fig(str(getattr(q, "text", "")), start, end, kind, float(v), currency, unit, scaled, neg) for v in values if v is not None]


class FigureReader:
    """Reads the figures of a text: `bot.quantity.find_quantities` when available (mode "auto" or
    "bot"), else the local grammar; dates and years always come from `date_figures`."""

    def __init__(self, mode: str = "auto"):
        self.finder: Callable | None = None
        if mode in ("auto", "bot"):
            try:
                from bot.quantity import find_quantities  # noqa: PLC0415 - optional, written by another engineer

                find_quantities("CNY 18.2 billion (US$2.8 billion), 33%")
                self.finder = find_quantities
            except Exception:  # missing or broken: the local grammar stands in
                if mode == "bot":
                    raise
        self.name = "bot.quantity" if self.finder else "local"
        self._cache: dict[str, list[Fig]] = {}

    def __call__(self, text: str) -> list[Fig]:
        text = text or ""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        dates = date_figures(text)
        nums: list[Fig] = []
        if self.finder is not None:
            try:
                for q in self.finder(text):
                    nums.extend(_from_quantity(q, text))
            except Exception:
                nums = local_figures(text)
        else:
            nums = local_figures(text)
        spans = [(d.start, d.end) for d in dates]
        nums = [n for n in nums if not any(s < n.end and n.start < e for s, e in spans)]
        out = sorted(dates + nums, key=lambda f: (f.start, f.end))
        if len(self._cache) < 20000:
            self._cache[text] = out
        return out


_default_reader: FigureReader | None = None


def default_reader() -> FigureReader:
    global _default_reader
    if _default_reader is None:
        _default_reader = FigureReader("auto")
    return _default_reader


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def same_figure(expected: Fig, got: Fig) -> bool:
    """Same kind, currency, value; durations also the same unit. A year matches any date in it."""
    if expected.kind == "year" and got.kind == "date":
        return _close(expected.value, math.floor(got.value / 100))
    if expected.kind != got.kind:
        return False
    if expected.currency and got.currency and expected.currency != got.currency:
        return False
    if expected.kind == "duration" and expected.unit != got.unit:
        return False
    return _close(expected.value, got.value)


def norm_text(text: str) -> str:
    """Lower case, dashes as spaces, whitespace collapsed: for verbatim figure look-ups."""
    return " ".join(re.sub(r"[-\u2013\u2014]", " ", (text or "").lower()).split())


@dataclass
class FigureResult:
    score: float  # 1 when every expected figure is present and nothing contradicts them
    present: float  # share of expected figures present
    missing: list[str]
    contradicting: list[str]
    stated: list[str]


def figure_match(expected: Sequence[str], answer: str, licensed_texts: Sequence[str] = (), reader: FigureReader | None = None) -> FigureResult:
    """DROP / TAT-QA style figure exact match of an answer against the expected figures.

    An expected figure is present when the answer states the same normalised quantity (every atom
    of a range or list) or contains the figure verbatim (after `norm_text`). A stated figure
    contradicts when it measures the same thing as an expected one (same `Fig.dimension`), equals no
    expected figure, is not negated ("not CNY 28 billion") and does not occur in `licensed_texts`
    (the item's reference, reference contexts and inputs, which legitimately carry neighbouring
    figures such as Taobao's 237 million beside Pinduoduo's 259 million). A contradiction zeroes the item.
    """
    reader = reader or default_reader()
    answer = strip_markers(answer)
    stated = reader(answer)
    answer_norm = norm_text(answer)
    exp_atoms: list[Fig] = []
    missing: list[str] = []
    for fig in expected:
        atoms = reader(fig)
        exp_atoms.extend(atoms)
        verbatim = norm_text(fig) in answer_norm
        found = bool(atoms) and all(any(same_figure(a, s) for s in stated) for a in atoms)
        if not (verbatim or found):
            missing.append(fig)
    licensed = [f for t in licensed_texts for f in reader(t)]
    dims = {a.dimension for a in exp_atoms if a.dimension is not None}
    contradicting = []
    for s in stated:
        if s.negated or s.dimension is None or s.dimension not in dims:
            continue
        if any(same_figure(a, s) for a in exp_atoms) or any(same_figure(lf, s) for lf in licensed):
            continue
        contradicting.append(s.text)
    n = len(expected)
    present = (n - len(missing)) / n if n else 1.0
    score = 1.0 if not missing and not contradicting else 0.0
    return FigureResult(score, present, missing, list(dict.fromkeys(contradicting)), list(dict.fromkeys(s.text for s in stated)))


def premise_corrected(answer: str, figures: Sequence[str], premise: str, reader: FigureReader | None = None) -> tuple[bool, str]:
    """A false premise is corrected when the answer begins with "No", or states the correct figure
    (all of `figures`) and does not assert a wrong premise figure (one matching no correct figure;
    a negated mention such as "not CNY 28 billion" is allowed). Returns (corrected, why)."""
    reader = reader or default_reader()
    text = strip_markers(answer)
    if re.match(r"\s*no\b", text, re.I):
        return True, "begins with No"
    fm = figure_match(figures, text, reader=reader)
    correct = [a for f in figures for a in reader(f)]
    wrong = [p for p in reader(premise or "") if not any(same_figure(c, p) or same_figure(p, c) for c in correct)]
    asserted = [s.text for s in reader(text) if not s.negated and any(same_figure(w, s) for w in wrong)]
    if fm.missing:
        return False, f"correct figure missing: {', '.join(fm.missing)}"
    if asserted:
        return False, f"repeats the premise's {', '.join(asserted)}"
    return True, "states the correct figure"


# --------------------------------------------------------------------------------------------------
# Refusals

def refusal_pr(gold_unanswerable: Sequence[bool], pred_refused: Sequence[bool]) -> tuple[float | None, float | None]:
    """Precision and recall of refusals (positive class: the article does not answer)."""
    tp = sum(1 for g, p in zip(gold_unanswerable, pred_refused, strict=True) if g and p)
    pp = sum(1 for p in pred_refused if p)
    gp = sum(1 for g in gold_unanswerable if g)
    return (tp / pp if pp else None, tp / gp if gp else None)


# --------------------------------------------------------------------------------------------------
# Citations

_MARKER_GROUP = re.compile(r"(?:\s*\[(\d+)\])+")
_SENT_BOUNDARY = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(]?[A-Z])")
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")


@dataclass
class AnswerSentence:
    text: str
    markers: list[int]


def split_answer(text: str) -> list[AnswerSentence]:
    """Answer sentences with the markers that follow them; a sentence carries the markers of the
    marker group right after it (the text before a group may hold earlier, unmarked sentences)."""
    out: list[AnswerSentence] = []
    pos = 0
    text = text or ""

    def add(segment: str, markers: list[int]) -> None:
        # a fragment with no word in it (the full stop after a marker inside a sentence) is punctuation
        parts = [p.strip() for p in _SENT_BOUNDARY.split(segment) if re.search(r"\w", p)]
        for p in parts[:-1] if markers else parts:
            out.append(AnswerSentence(p, []))
        if markers:
            out.append(AnswerSentence(parts[-1] if parts else "", markers))

    for m in _MARKER_GROUP.finditer(text):
        markers = [int(x) for x in re.findall(r"\[(\d+)\]", m.group(0))]
        add(text[pos:m.start()], markers)
        pos = m.end()
    if text[pos:].strip():
        add(text[pos:], [])
    return out


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall((text or "").lower()) if w not in _STOP and len(w) > 1}


def supports(sentence: str, cited: str, reader: FigureReader | None = None, derived: Sequence[str] = ()) -> bool:
    """Whether a cited span supports an answer sentence: the sentence is contained in it, or all the
    sentence's figures and at least half of its content words appear in it. Figures in `derived` (the
    guard's `derived` verdicts: computed from the cited inputs) need not appear in the span."""
    reader = reader or default_reader()
    if not cited:
        return False
    if normalize_answer(sentence) and normalize_answer(sentence) in normalize_answer(cited):
        return True
    cited_figs = reader(cited)
    cited_norm = norm_text(cited)
    figs = reader(sentence)
    is_derived = [any(norm_text(f.text) in norm_text(d) or norm_text(d) in norm_text(f.text) for d in derived) for f in figs]
    if figs and all(is_derived):
        return True  # a computed figure: its support is the cited inputs, checked on their own sentences
    for f, computed in zip(figs, is_derived, strict=False):
        if computed:
            continue
        if not (any(same_figure(f, c) for c in cited_figs) or norm_text(f.text) in cited_norm):
            return False
    words = content_words(sentence)
    if not words:
        return False
    return len(words & content_words(cited)) / len(words) >= 0.5


@dataclass
class CitationResult:
    markers: int
    supported: int
    sentences: int
    cited_sentences: int
    unsupported: list[str]


def citation_scores(text: str, citations: Sequence[str | None], reader: FigureReader | None = None, derived: Sequence[str] = ()) -> CitationResult:
    """Marker-level support (precision) and sentence-level marking (recall) of one answer.
    `citations[n-1]` is the cited text of marker `[n]` (None for a marker with no citation)."""
    sents = split_answer(text)
    markers = supported = 0
    bad: list[str] = []
    for s in sents:
        for n in s.markers:
            markers += 1
            cited = citations[n - 1] if 1 <= n <= len(citations) else None
            if cited is not None and supports(s.text, cited, reader, derived):
                supported += 1
            else:
                bad.append(f"[{n}] {s.text[:80]}")
    return CitationResult(markers, supported, len(sents), sum(1 for s in sents if s.markers), bad)


# --------------------------------------------------------------------------------------------------
# Statistics

def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), None for no values."""
    if not values:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))


def bootstrap_ci(n_items: int, stat: Callable[[np.ndarray], float | None], n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float] | None:
    """Percentile bootstrap interval of `stat(indices)` over items resampled with replacement.
    Resamples where the statistic is undefined (None / nan) are dropped. Deterministic for a seed."""
    if n_items <= 0 or n_boot <= 0:
        return None
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_items, size=(n_boot, n_items))
    vals = []
    for row in idx:
        v = stat(row)
        if v is not None and not (isinstance(v, float) and math.isnan(v)):
            vals.append(float(v))
    if not vals:
        return None
    lo, hi = np.percentile(vals, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def mean_ci(values: Sequence[float], n_boot: int = 1000, seed: int = 0) -> tuple[float, float] | None:
    """Bootstrap interval of a mean (vectorised)."""
    if not values or n_boot <= 0:
        return None
    arr = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arr), size=(n_boot, len(arr)))
    means = arr[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def mean(values: Sequence[float]) -> float | None:
    return float(sum(values) / len(values)) if values else None
