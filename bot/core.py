"""The Bot: wires corpus, index, retrieval, fact table, answer composition and the figure guard."""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from .chunking import is_heading
from .compose import METRIC_NOUNS, Choice, cite, extractive_answer, question_type, rank_sentences, refusal
from .config import Settings
from .elapsed import Dated, elapsed_answer, first_period, order_answer
from .errors import HistoryError, IndexStaleError, InvalidQuestionError
from .facts import ENTITY_ALIASES, FactTable
from .figures import FACT_MIN_SCORE, FigureReply, SentenceFinder, derived_answer, premise_answer, row_answer, rows_asked, table_answer
from .followup import Lexicon, asks_for_other, resolve_followup
from .guard import check_figures, repair
from .index import Index, build_index, load_index, staleness
from .quantity import find_periods
from .retrieval import Retriever
from .session import Chat
from .text import bm25_tokens, own_words
from .types import Answer, Document, FigureCheck

log = logging.getLogger("bot")

# Sentences handed to an LLM backend as numbered passages.
LLM_PASSAGES = 6
# A figure question that no row answers outright is still answered by quoting when a cited sentence
# holds a row of the asked kind scoring at least this in the lookup (entity plus some metric words).
WEAK_FACT_SCORE = 1.5
_ASKS_TITLE = re.compile(
    r"\b(?:title|headline|called|named)\b[^?]*\b(?:article|piece|story|essay)\b|\b(?:article|piece)(?:'s)? (?:title|headline)\b"
    r"|\bthe headline\s*(?:[?.!]|$)|\bthe headline (?:say|says|call|calls|read|reads|use|uses)\b",
    re.I,
)
# "What is the article about?", "Summarize the piece", "The article's main claim in one line?": the
# summary's words (or the subtitle's, or the first lines of a document without either).
_GIST_NOUN = r"(?:(?:main|central|key|core)\s+(?:point|claim|argument|idea|message|thesis|takeaway)s?|thesis|gist|summary)"
_DOCUMENT = r"(?:article|piece|essay|story|text)"
_IN_ONE_LINE = r"(?:in|as)\s+(?:one|a single|a)\s+(?:line|sentence)"
_ASKS_GIST = re.compile(
    rf"\b{_DOCUMENT}\b(?:'s|’s)?\s+(?:(?:is\s+)?about|{_GIST_NOUN})(?:\s+{_IN_ONE_LINE})?\s*[?.!]*$"
    rf"|\b(?:{_GIST_NOUN}|tl;?dr)\b(?:\s+of)?\s+(?:the|this)\s+{_DOCUMENT}\b"
    rf"|^\s*(?:please\s+)?(?:summari[sz]e|sum up)\s+(?:(?:the|this)\s+{_DOCUMENT}\b|it\s*[?.!]*$)|^\s*sum it up\b|^\s*tl;?dr\b",
    re.I,
)
_ONE_LINE = re.compile(rf"\b{_IN_ONE_LINE}\b|\bone-liner\b", re.I)
# Sentences quoted for a gist question ("in one line": one).
GIST_SENTENCES = 2
_PERIODISH = re.compile(r"(?:FY|H|Q)\d{1,4}|FY", re.I)
_NAMEISH = re.compile(r"\b[A-Z][\w&-]*(?:\.[A-Za-z]+)*\b")
# A question naming a person in a role ("Jack Ma ... as CEO in 2023") is checked against the best of
# this many sentences that hold the role and the year.
ROLE_SENTENCES = 5
_ROLE = re.compile(r"\b(?:CEO|chief executive|chairman|chairwoman|president)\b", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Bot:
    """Answers questions about the articles of one corpus, quoting and citing them."""

    def __init__(self, index: Index, facts: FactTable | None = None, settings: Settings | None = None):
        self.index = index
        self.facts = facts if facts is not None else FactTable()
        self.settings = settings or Settings()
        self.retriever = Retriever(index, self.settings)
        self.finder = SentenceFinder(index.sentences)
        entities = {f.entity for f in self.facts.facts}
        names = list(entities) + [a for e, aliases in ENTITY_ALIASES.items() if e in entities for a in aliases]
        self.lexicon = Lexicon.from_texts((s.text for s in index.sentences), extra=names)
        self._section_names: tuple[re.Pattern[str] | None, dict[str, list[tuple[str, int, int]]]] | None = None
        self.llm = None
        if self.settings.llm_base_url:
            from .llm import LLMBackend

            self.llm = LLMBackend.from_settings(self.settings)

    @classmethod
    def load(cls, corpus_dir: str | Path = "corpus", index_dir: str | Path = "index", settings: Settings | None = None) -> Bot:
        """Load the persisted index, building it first when it is missing or stale (logged with the reason)."""
        settings = settings or Settings()
        reason = staleness(corpus_dir, index_dir, settings)
        if reason:
            if not _writable(Path(index_dir)):
                raise IndexStaleError(f"The index in {index_dir} must be rebuilt ({reason}) but the folder is read-only: run `python -m bot index` where it is writable.")
            log.info("building the index: %s", reason)
            build_index(corpus_dir, index_dir, settings, force=False)
        return cls(load_index(index_dir, settings), FactTable.load(corpus_dir), settings)

    @property
    def documents(self) -> dict[str, Document]:
        """The indexed documents by doc_id."""
        return self.index.documents

    def ask(self, question: str, history: Sequence[tuple[str, Answer | str]] | None = None) -> Answer:
        """Answer one question from the article, with citations.

        `history` holds earlier (question, answer) pairs of the same conversation, oldest first; the
        answers may be `Answer`s or their text (as HTTP callers send them).
        """
        *_, final = self.ask_stream(question, history)
        return final

    def ask_stream(self, question: str, history: Sequence[tuple[str, Answer | str]] | None = None) -> Iterator[Answer]:
        """Like `ask`, yielding provisional answers while an LLM backend streams; the last one is final.

        Provisional answers carry the note "provisional: figures not checked yet"; only the final answer
        has passed the figure guard. Without an LLM backend the one final answer comes at once.
        """
        q = self.clean_question(question)
        turns = self._standalone_history(history)
        standalone = resolve_followup(q, turns, self.lexicon)
        if self.llm is not None and turns and standalone != q:
            standalone = self.llm.condense(q, turns) or standalone
        said = turns[-1][1] if turns and standalone != q and asks_for_other(q, self.lexicon) else ""
        answer = self._answer(standalone, said)
        if self.llm is not None and answer.answerable and answer.backend == "extractive" and not answer.notes:
            yield from self._llm_answer(standalone, answer, q)
            return
        answer.question = q
        answer.standalone_question = standalone
        yield answer

    def _llm_answer(self, question: str, fallback: Answer, asked: str) -> Iterator[Answer]:
        """The LLM's answer over the retrieved passages, guarded; the extractive answer when it fails."""
        from .llm import LLMError, cited, is_dont_know, renumber, validate_markers

        found = self.retriever.search(question)
        ranked = rank_sentences(found, question, question_type(question), self.index)[:LLM_PASSAGES]
        passages = [(i + 1, c.sentence.text) for i, c in enumerate(ranked)]
        text = ""
        try:
            for delta in self.llm.stream_answer(question, passages):
                text += delta
                yield Answer(text=text, answerable=True, question=asked, standalone_question=question, notes=["provisional: figures not checked yet"], backend="llm")
        except LLMError as e:
            yield self._fallback(fallback, asked, question, f"the LLM backend failed ({e})")
            return
        if is_dont_know(text):
            yield self._fallback(fallback, asked, question, "the LLM found no answer in the passages")
            return
        problems = validate_markers(text, {n for n, _ in passages})
        if problems:
            yield self._fallback(fallback, asked, question, "the LLM's citations did not check out: " + "; ".join(problems))
            return
        order = cited(text)
        mapping = {old: new for new, old in enumerate(order, start=1)}
        _, cites = cite([ranked[old - 1] for old in order])
        answer = Answer(text=renumber(text, mapping), citations=cites, answerable=True, question=asked, standalone_question=question, backend="llm")
        checks = check_figures(answer.text, self.facts)
        bad = [f"{c.text} ({c.status})" for c in checks if c.status not in ("ok", "derived")] + _unread_numbers(answer.text, checks)
        if bad:
            why = ", ".join(bad)
            yield self._fallback(fallback, asked, question, f"the LLM's answer stated figures the article does not support: {why}")
            return
        answer.figures = checks
        yield answer

    @staticmethod
    def _fallback(answer: Answer, asked: str, standalone: str, why: str) -> Answer:
        answer.question, answer.standalone_question = asked, standalone
        answer.notes.append(f"extractive answer shown because {why}")
        return answer

    def check_figures(self, text: str) -> list[FigureCheck]:
        """The guard's verdict on every figure of any text (an LLM's answer, a draft) against the fact table."""
        if not isinstance(text, str):
            raise InvalidQuestionError(f"check_figures takes text, not {type(text).__name__}.")
        return check_figures(text, self.facts)

    def _answer(self, question: str, said: str = "") -> Answer:
        """Premise check, then the fact table for figure questions, then extractive sentences; then the guard.
        A question asking two figures ("How big was Alibaba's GMV and what share of the market did it
        hold?") gets both answers, the second part read as a follow-up of the first.

        `said` is the last answer's text when the question is a follow-up asking for something else:
        quoting it again is a last resort."""
        two = _TWO_PARTS.match(question)
        if two is not None:
            first = two.group(1).strip(" ,;:") + "?"
            second = resolve_followup(two.group(2)[0].upper() + two.group(2)[1:], [(first, "")], self.lexicon)
            if question_type(first) == question_type(second) == "figure":
                a, b = self._answer_one(first, said), self._answer_one(second, said)
                names = self.lexicon.find(second)
                if not b.answerable and len(names) == 1 and not _METRIC.search(second):
                    # "... and how many did Taobao have?": the first part's question about Taobao
                    second = resolve_followup(f"And {names[0][2]}?", [(first, "")], self.lexicon)
                    b = self._answer_one(second, said)
                return _joined(a, b, first, second, question)
        return self._answer_one(question, said)

    def _answer_one(self, question: str, said: str = "") -> Answer:
        reply = premise_answer(question, self.facts, self.finder)
        qtype = question_type(question)
        figure_question = qtype == "figure"
        if reply is None and qtype in ("figure", "how", "other"):  # "Who will lead ...?" is no arithmetic
            reply = derived_answer(question, self.facts, self.finder)
        if reply is None:
            reply = self._elapsed(question)
        if reply is None and (order := order_answer(question, self._date_of)):
            reply = FigureReply(order[0], order[1], kind="order")
        if reply is None and figure_question:
            reply = table_answer(question, self.facts, self.finder, within=self._sections_named(question))
        if reply is not None:
            return self._guarded(self._from_reply(question, reply), reply.derived)
        unknown = self._unknown_names(question)
        if unknown:
            return refusal(question, [], f"anything about {', '.join(unknown)}")
        corrected = self._date_premise(question) or self._role_premise(question)
        if corrected is not None:
            return self._guarded(corrected)
        own = own_words(question)  # a follow-up's own words, before the context a rewrite borrows
        if _ASKS_TITLE.search(own):
            return self._title_answer(question)
        if _ASKS_GIST.search(own):
            return self._guarded(self._gist_answer(question))
        answer, ranked, _ = extractive_answer(question, self.retriever, self.settings.max_sentences, self.settings.min_score, said, self.lexicon.persons)
        if figure_question and answer.answerable and len(self.facts) and not self._states_asked_figure(question, answer):
            # The table holds every figure the articles state; no row fits, so no figure answers it.
            return refusal(question, ranked, "that figure")
        return self._guarded(answer)

    def _elapsed(self, question: str) -> FigureReply | None:
        """Time between two dated events; the table's own wording when a row states that very gap."""
        gap = elapsed_answer(question, self._date_of)
        if gap is None:
            return None
        stated = [f for f in rows_asked(question, self.facts, FACT_MIN_SCORE) if f.kind == "duration" and f.value == gap.figure.value and f.unit == gap.figure.unit]
        reply = row_answer(stated[0], self.facts, self.finder) if stated else None
        return reply or FigureReply(gap.text, gap.sentences, (gap.figure,), kind="elapsed")

    def _date_of(self, event: str, ranked: list[Choice] | None = None) -> Dated | None:
        """The sentence that dates an event: its best-matching sentence, or the one before it in the same paragraph.

        `ranked` is the event's when-ranking when the caller has it already."""
        if ranked is None:
            ranked = rank_sentences(self.retriever.search(event), event, "when", self.index)
        if not ranked or ranked[0].score < self.settings.min_score:
            return None
        best = ranked[0].sentence
        period = first_period(best.text)
        if period is not None:
            return Dated(best, best, period)
        prev_id = self.index.paragraph_previous(best.sid)
        if prev_id < 0:
            return None
        prev = self.index.sentences[prev_id]
        period = first_period(prev.text)
        return None if period is None else Dated(prev, best, period)

    def _date_premise(self, question: str) -> Answer | None:
        """ "Why did Alibaba withdraw the Cainiao IPO in 2022?" when the article dates that event to
        March 2024: a "No" with the article's date and its sentence. Only when the question's year
        appears in none of the passages that match the event best."""
        asked = [p for p in find_periods(question) if p.end_year is None and p.quarter is None and not p.open_ended]
        if len(asked) != 1:
            return None
        p = asked[0]
        event = " ".join((question[: p.start] + question[p.end :]).replace(" in ?", "?").split())
        event = re.sub(r"\b(?:in|during|by)\s*(?=[?.!]|$)", "", event).strip()
        ranked = rank_sentences(self.retriever.search(event), event, "when", self.index)
        dated = self._date_of(event, ranked)
        if dated is None or dated.period.year == p.year and (p.month is None or dated.period.month in (None, p.month)):
            return None
        near = ranked[:3]
        around = [self.index.previous[c.sentence.sid] for c in near]  # a date often opens the sentence before
        texts = [c.sentence.text for c in near] + [self.index.sentences[i].text for i in around if i >= 0]
        texts += [dated.date_sentence.text, dated.event_sentence.text]
        if any(str(p.year) in t for t in texts):
            return None
        cited = [dated.date_sentence] if dated.date_sentence.sid == dated.event_sentence.sid else sorted((dated.date_sentence, dated.event_sentence), key=lambda s: s.sid)
        quotes, cites = cite([Choice(s, 1.0) for s in cited])
        n = next(c.n for c in cites if c.start == dated.date_sentence.start)
        text = f"No: the article dates this to {dated.period.text}. [{n}] {quotes}"
        return Answer(text=text, citations=cites, answerable=True, question=question, standalone_question=question,
                      notes=["checked the date in the question against the article"])

    def _role_premise(self, question: str) -> Answer | None:
        """ "What did Jack Ma do after returning as CEO in 2023?" when the article's sentence on who held
        that role that year names others: a "No" with that sentence. Only for a named person, a role
        (CEO, chairman, president) and one year, and only when the best such sentence names people."""
        role = _ROLE.search(question)
        asked = [p for p in find_periods(question) if p.end_year is None and p.quarter is None and not p.open_ended]
        people = [name for _, _, name in self.lexicon.find(question) if name in self.lexicon.persons]
        if role is None or len(asked) != 1 or not people:
            return None
        year = str(asked[0].year)
        found = self.retriever.search(question)
        for c in rank_sentences(found, question, "who", self.index)[:ROLE_SENTENCES]:
            text = c.sentence.text
            if year not in text or not re.search(rf"\b{re.escape(role.group())}\b", text, re.I):
                continue
            named = [name for _, _, name in self.lexicon.find(text) if name in self.lexicon.persons]
            if not named or any(p in named for p in people):
                return None
            quote, cites = cite([Choice(c.sentence, c.score)])
            names = list(dict.fromkeys(named))
            others = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            return Answer(text=f"No: the article names {others}, not {people[0]}. [1] {quote}", citations=cites, answerable=True,
                          question=question, standalone_question=question, notes=["checked the person in the question against the article"])
        return None

    def _sections_named(self, question: str) -> list[tuple[str, int, int]]:
        """Spans of the sections a question points to by name ("in the introduction", "in Battlefield 2")."""
        if self._section_names is None:
            spans: dict[str, list[tuple[str, int, int]]] = {}
            for doc in self.documents.values():
                for s in doc.sections:
                    key = s.title.split(":")[0].strip().lower()
                    if s.level and 0 < len(key.split()) <= 3:
                        spans.setdefault(key, []).append((doc.doc_id, s.start, s.end))
            alternation = "|".join(re.escape(k) for k in sorted(spans, key=len, reverse=True))
            self._section_names = (re.compile(rf"\b(?:{alternation})\b") if spans else None, spans)
        pattern, spans = self._section_names
        if pattern is None:
            return []
        q = re.sub(r"\bintro\b", "introduction", " ".join(question.lower().replace("’", "'").split()))
        return [span for m in pattern.finditer(q) for span in spans[m.group()]]

    def _states_asked_figure(self, question: str, answer: Answer) -> bool:
        """True when a cited sentence holds a row the question at least partly asks for."""
        rows = rows_asked(question, self.facts, WEAK_FACT_SCORE)
        return any(c.doc_id == f.doc_id and c.start <= f.start < c.end for f in rows for c in answer.citations)

    def _best_document(self, question: str) -> str:
        """The doc_id of the article a question about "the article" means: the best-matching one."""
        if len(self.documents) == 1:
            return next(iter(self.documents))
        found = self.retriever.search(question)
        return self.index.chunks[found.chunk_ids[0]].doc_id if found.chunk_ids else next(iter(self.documents))

    def _title_answer(self, question: str) -> Answer:
        """The title line of the article (of the best-matching one when there are several)."""
        doc_id = self._best_document(question)
        title = next(s for s in self.index.sentences if s.doc_id == doc_id)
        text, cites = cite([Choice(title, 1.0)])
        return Answer(text=f"The article is titled: {text}", citations=cites, question=question, standalone_question=question)

    def _gist_answer(self, question: str) -> Answer:
        """The first sentences of the article's summary; of its subtitle, or of its body, when it has none."""
        doc_id = self._best_document(question)
        sentences = [s for s in self.index.sentences if s.doc_id == doc_id and not is_heading(s)]
        for part in ("Summary", "Subtitle"):
            chosen = [s for s in sentences if s.section == part]
            if chosen:
                break
        else:
            chosen = [s for s in sentences if s.section != "Title"]
        n = 1 if _ONE_LINE.search(question) else GIST_SENTENCES
        text, cites = cite([Choice(s, 1.0) for s in chosen[:n]])
        return Answer(text=f"In the article's words: {text}", citations=cites, question=question, standalone_question=question,
                      notes=[f"quoted the article's {(cites[0].section if cites[0].section in ('Summary', 'Subtitle') else 'opening').lower()}"])

    def _from_reply(self, question: str, reply: FigureReply) -> Answer:
        _, cites = cite([Choice(s, 1.0) for s in reply.sentences])
        note = {"table": "answered from the fact table", "derived": "derived from fact-table rows", "premise": "checked the figure in the question against the fact table",
                "elapsed": "computed from the dates of the cited passages", "order": "ordered by the dates of the cited passages", "period": "the fact table holds this figure for other periods only"}[reply.kind]
        return Answer(text=reply.text, citations=cites, answerable=reply.kind != "period", question=question, standalone_question=question, notes=[note])

    def _guarded(self, answer: Answer, derived: tuple = ()) -> Answer:
        """Check every figure of the answer; repair or mark any the article does not support."""
        checks = check_figures(answer.text, self.facts, derived=derived)
        answer.figures = checks
        bad = [c for c in checks if c.status not in ("ok", "derived")]
        if bad:
            answer.text, notes = repair(answer.text, bad)
            answer.notes.extend(notes)
            answer.figures = check_figures(answer.text, self.facts, derived=derived)
        return answer

    def _unknown_names(self, question: str) -> list[str]:
        """Names in the question that no document mentions ("JD.com", "Meituan"): the article cannot answer."""
        out = []
        periods = [(p.start, p.end) for p in find_periods(question)]
        for m in _NAMEISH.finditer(question):
            word = m.group()
            if any(s <= m.start() < e for s, e in periods) or _PERIODISH.fullmatch(word):
                continue
            if m.start() == 0 and "." not in word and not any(c.isupper() for c in word[1:]):
                continue  # a capitalised first word is just the start of the question
            if self.lexicon.find(word):
                continue
            stems = bm25_tokens(word)
            if stems and not any(self.retriever.in_vocabulary(t) for t in stems):
                out.append(word)
        return out

    def chat(self) -> Chat:
        """A new conversation that keeps its own history."""
        return Chat(self)

    def _standalone_history(self, history: object) -> list[tuple[str, str]]:
        """Earlier turns as (standalone question, answer text), resolving plain-text histories turn by turn."""
        if history is None:
            return []
        if not isinstance(history, (list, tuple)):
            raise HistoryError("History must be a list of [question, answer] pairs, oldest first.")
        if len(history) > self.settings.max_history_turns:
            history = history[len(history) - self.settings.max_history_turns:]
        out: list[tuple[str, str]] = []
        for i, item in enumerate(history):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise HistoryError(f"History item {i} is not a [question, answer] pair.")
            q, a = item
            a_text = a.text if isinstance(a, Answer) else a
            if not isinstance(q, str) or not isinstance(a_text, str | None):
                raise HistoryError(f"History item {i} must hold two texts (question, answer).")
            if isinstance(a, Answer) and a.standalone_question:
                standalone = a.standalone_question
            else:
                try:
                    earlier = self.clean_question(q)
                except InvalidQuestionError as e:
                    raise HistoryError(f"History item {i}: {e}") from None
                standalone = resolve_followup(earlier, out, self.lexicon)
            out.append((standalone, a_text or ""))
        return out

    def clean_question(self, question: object) -> str:
        """The question as searched: text, control characters removed, within the length limit."""
        if not isinstance(question, str):
            raise InvalidQuestionError(f"A question must be text, not {type(question).__name__}.")
        if len(question) > self.settings.max_question_chars:
            raise InvalidQuestionError(f"The question is {len(question):,} characters long; the limit is {self.settings.max_question_chars:,}. Ask something shorter.")
        q = question.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become '?'
        q = unicodedata.normalize("NFC", _CONTROL.sub(" ", q))
        q = " ".join(q.split())
        if not q:
            raise InvalidQuestionError("The question is empty: type a question about the article.")
        return q


_NUMBERISH = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|trillion|half|third|quarter|double|triple)s?\b", re.I)


# "<question>, and <wh-question>": two questions in one ("How big was X and what share did it hold?").
_TWO_PARTS = re.compile(r"^(.{8,}?)[,;]?\s+and\s+((?:how|what|which|who|whom|when|why|where)\b.{6,})$", re.I)
_MARKER = re.compile(r"\[(\d+)\]")
_METRIC = re.compile(rf"\b(?:{METRIC_NOUNS})\b", re.I)


def _joined(a: Answer, b: Answer, first: str, second: str, question: str) -> Answer:
    """One answer from the answers to the two parts of a question. The second's markers are renumbered
    after the first's; a passage the first already quotes keeps its number and is not quoted again. A
    part the article does not answer says so by name, without pointing to a closest passage, unless
    both parts are refused."""
    if not a.answerable and not b.answerable:
        return Answer(text=a.text, citations=a.citations, answerable=False, question=question, standalone_question=question)
    cites, mapping, b_text = list(a.citations), {}, b.text
    for c in b.citations if b.answerable else []:
        same = next((x for x in cites if (x.doc_id, x.start) == (c.doc_id, c.start)), None)
        if same is not None:  # quoted already: keep the number, drop the repeated quote
            b_text = b_text.replace(f" {c.text.strip()} [{c.n}]", "", 1) if not b_text.startswith(c.text.strip()) else b_text
        else:
            same = replace(c, n=len(cites) + 1)
            cites.append(same)
        mapping[c.n] = same.n
    parts = [_refused_part(first, a) if not a.answerable else a.text]
    parts.append(_refused_part(second, b) if not b.answerable else _MARKER.sub(lambda m: f"[{mapping.get(int(m.group(1)), m.group(1))}]", b_text))
    if not a.answerable:
        cites = [replace(c, n=i) for i, c in enumerate(cites[len(a.citations):], start=1)]
        parts[1] = _MARKER.sub(lambda m: f"[{int(m.group(1)) - len(a.citations)}]", parts[1])
    text = " ".join(parts)
    figures, cursor = [], 0
    for f in (a.figures if a.answerable else []) + (b.figures if b.answerable else []):
        at = text.find(f.text, cursor)
        if at >= 0:  # a figure of a dropped repeated quote is not in the text any more
            figures.append(replace(f, start=at, end=at + len(f.text)))
            cursor = at + len(f.text)
    return Answer(text=text, citations=cites, answerable=True, question=question, standalone_question=question,
                  figures=figures, notes=list(dict.fromkeys(a.notes + b.notes)), backend=a.backend)


def _refused_part(part: str, answer: Answer) -> str:
    return f"On “{part}” the article doesn't say." if answer.text.startswith("The article doesn't say") else answer.text.split(" The closest passage is:")[0]


def _unread_numbers(text: str, checks: list[FigureCheck]) -> list[str]:
    """Numbers in an LLM's text that the guard did not read ("1.82e10 yuan", "a third of"): not checkable, so not shown."""
    covered = [(c.start, c.end) for c in checks] + [(p.start, p.end) for p in find_periods(text)]
    covered += [(m.start(), m.end()) for m in re.finditer(r"\[\d+(?:\s*[,-]\s*\d+)*\]", text)]
    out = []
    for m in _NUMBERISH.finditer(text):
        if not any(s <= m.start() < e for s, e in covered):
            out.append(f"{text[max(0, m.start() - 10):m.end() + 10].strip()!r} (not a figure the guard can read)")
    return out


def _writable(folder: Path) -> bool:
    probe = folder if folder.exists() else folder.parent
    return os.access(probe, os.W_OK)
