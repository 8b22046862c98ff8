"""The Bot: wires the stages. Query analysis → skills (by precedence) or the extractive reader → a
`Draft` → the renderer → the figure guard → an `Answer`."""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from .chunking import is_heading
from .config import Settings
from .draft import Draft
from .errors import HistoryError, IndexStaleError, InvalidQuestionError
from .facts import FactTable
from .followup import Lexicon
from .guard import check_figures, repair
from .index import Index, build_index, load_index, staleness
from .knowledge import Knowledge
from .model import DATA, Logistic
from .quantity import find_periods
from .query import Analyzer, Query
from .ranker import FEATURES, MODEL_FILE, Features
from .reader import ANSWERABLE_FEATURES, Reader
from .render import Rendered, answer_kind, render
from .rows import RowModel
from .session import Chat
from .skills import SKILLS, Context
from .types import Answer, Document, FigureCheck

log = logging.getLogger("bot")

ANSWERABLE_FILE = DATA / "answerable.json"

# Sentences handed to an LLM backend as numbered passages.
LLM_PASSAGES = 6
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NUMBERISH = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion|trillion|half|third|quarter|double|triple)s?\b", re.I)
_SENTENCE_DONE = re.compile(r"[.!?](?:\s*\[[\d,\s-]+\])*\s+(?=\S)")


class Bot:
    """Answers questions about the articles of one corpus, quoting and citing them."""

    def __init__(self, index: Index, facts: FactTable | None = None, settings: Settings | None = None,
                 models: tuple[Logistic, RowModel, Logistic | None] | None = None):
        """`models`: the sentence ranker, the row model and the answerability model; by default the fitted ones in bot/data."""
        self.index = index
        self.facts = facts if facts is not None else FactTable()
        self.settings = settings or Settings()
        from .retrieval import Retriever

        self.retriever = Retriever(index, self.settings)
        knowledge = self.facts.knowledge
        # Names a document uses, and every name readers use for the entities of its rows; a name the
        # knowledge file lists but no document uses stays unknown (the article says nothing of it).
        corpus_text = "\n".join(d.text for d in index.documents.values())
        entities = {f.entity for f in self.facts.facts}
        names = list(entities) + [n for e, aliases in knowledge.aliases.items() for n in (e, *aliases) if e in entities or e in corpus_text]
        # Headings are title case: their capitalised words are no evidence of names ("The Next 3-5 Years").
        self.lexicon = Lexicon.from_texts((s.text for s in index.sentences if not is_heading(s)), extra=names + list(knowledge.people),
                                          people=knowledge.people)
        self.analyzer = Analyzer(self.lexicon, self.facts, _section_names(index.documents), self.retriever.in_vocabulary,
                                 {d: doc.text.lower() for d, doc in index.documents.items()} if len(index.documents) > 1 else {},
                                 getattr(index.encoder, "words", frozenset))
        self.features = Features(index, self.facts, self.lexicon, knowledge.cause_cues)
        sentence_model, self.rows, answerable = models or (Logistic.load(MODEL_FILE, FEATURES), RowModel.load(), Logistic.load(ANSWERABLE_FILE, ANSWERABLE_FEATURES))
        self.reader = Reader(index, self.retriever, self.features, sentence_model, self.settings, answerable)
        self.context = Context(index, self.facts, self.rows, self.analyzer, self.reader, self.draft)
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
        index = load_index(index_dir, settings)
        knowledge = Knowledge.load(corpus_dir, {d: doc.text for d, doc in index.documents.items()})
        return cls(index, FactTable.load(corpus_dir, knowledge), settings)

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

        A provisional answer holds only whole sentences whose figures the guard has passed (note
        "provisional"); without an LLM backend the one final answer comes at once.
        """
        query = self.analyze(question, history)
        draft = self.draft(query)
        answer = self._answer(query, draft)
        if self.llm is not None and draft.kind == "quote" and not query.parts:
            yield from self._llm_answer(query, answer)
            return
        yield answer

    def analyze(self, question: str, history: Sequence[tuple[str, Answer | str]] | None = None) -> Query:
        """The `Query` a question (and its conversation) comes to."""
        q = self.clean_question(question)
        turns = self._standalone_history(history)
        query = self._read(q, turns)
        if self.llm is not None and turns and query.followup:
            condensed = self.llm.condense(q, turns)
            if condensed:
                query = replace(self.analyzer.analyze(condensed), asked=q, followup=True)
        return query

    def draft(self, query: Query) -> Draft:
        """The first skill's draft that answers, else the extractive reader's."""
        for skill in SKILLS:
            if skill.match(query):
                d = skill.run(query, self.context)
                if d is not None:
                    return d
        rows = self.context.scored_rows(query) if query.is_figure else []
        has_table = bool(self.facts.rows(query.doc_ids))
        # A figure answer must state one of these rows (the same ones eval.fit trains the answerability model with).
        stated = self.facts.stateable(query, query.doc_ids) if query.is_figure else []
        return self.reader.read(query, rows, stated if has_table else None)

    def _answer(self, query: Query, draft: Draft, backend: str = "extractive", repair_figures: bool = True) -> Answer:
        rendered = render(draft, self.index)
        answer = Answer(text=rendered.text, citations=rendered.citations, answerable=draft.answerable, question=query.asked,
                        standalone_question=query.standalone or query.text, notes=list(draft.notes), backend=backend, kind=answer_kind(draft))
        return self._guarded(answer, rendered, repair_figures)

    def _guarded(self, answer: Answer, rendered: Rendered, repair_figures: bool = True) -> Answer:
        """Check every figure the bot wrote itself against its documents' rows; repair or mark any they do
        not support. A figure inside a verbatim quote is the article's own and is left as it is."""
        doc_ids = sorted({c.doc_id for c in answer.citations}) or None
        checks = [self._quoted(c, rendered) for c in check_figures(answer.text, self.facts, doc_ids, rendered.derived)]
        bad = [c for c in checks if c.status not in ("ok", "derived")]
        if bad and repair_figures:
            answer.text, notes = repair(answer.text, bad)
            answer.notes.extend(notes)
            checks = [self._quoted(c, rendered) for c in check_figures(answer.text, self.facts, doc_ids, rendered.derived)]
        answer.figures = checks
        return answer

    @staticmethod
    def _quoted(c: FigureCheck, rendered: Rendered) -> FigureCheck:
        inside = any(a <= c.start and c.end <= b for a, b in rendered.quotes)
        derivations = {k.removeprefix("about "): v for k, v in rendered.derivations.items()}
        own = derivations.get(c.text.removeprefix("about "))
        if c.status == "ok" and not inside and own:
            # a figure the bot computed, in its own words, that happens to fall within a row's range ("129%"
            # in "triple-digit") is the computed one
            c = replace(c, status="derived", fact_id=None, expected=None)
        if c.status == "derived":
            return replace(c, derivation=own or next(iter(rendered.derivations.values()), None))
        return replace(c, status="ok", expected=None) if inside and c.status != "ok" else c

    def _llm_answer(self, query: Query, fallback: Answer) -> Iterator[Answer]:
        """The LLM's answer over the best sentences, shown sentence by sentence once each passes the guard
        and the marker checks; the extractive answer, with a note saying why, when any fails."""
        from .llm import LLMError, is_dont_know, segments, validate_markers

        ranked = self.reader.rank(query)[:LLM_PASSAGES]
        passages = [(i + 1, self.index.sentences[c.sid].text) for i, c in enumerate(ranked)]
        given = {n for n, _ in passages}
        text, shown = "", 0
        stream = self.llm.stream_answer(query.text, passages)
        try:
            for delta in stream:
                text += delta
                done = [m.end() for m in _SENTENCE_DONE.finditer(text)]
                if not done or done[-1] <= shown:
                    continue
                head = text[: done[-1]].strip()
                problem = self._llm_problem(head, given, ranked, query, validate_markers, segments)
                if problem:
                    yield self._fallback(fallback, problem)
                    return
                shown = done[-1]
                provisional = self._llm_draft(head, ranked, segments)
                partial = self._answer(query, provisional, backend="llm")
                partial.notes.append("provisional: more sentences may follow")
                yield partial
        except LLMError as e:
            yield self._fallback(fallback, f"the LLM backend failed ({e})")
            return
        finally:
            stream.close()  # subtle: a stream left to the garbage collector can deadlock the HTTP client's pool later
        if is_dont_know(text):
            yield self._fallback(fallback, "the LLM found no answer in the passages")
            return
        problem = self._llm_problem(text, given, ranked, query, validate_markers, segments)
        if problem:
            yield self._fallback(fallback, problem)
            return
        yield self._answer(query, self._llm_draft(text, ranked, segments), backend="llm")

    def _llm_problem(self, text: str, given: set[int], ranked: list, query: Query, validate_markers, segments) -> str:  # noqa: ANN001
        problems = validate_markers(text, given)
        if problems:
            return "the LLM's citations did not check out: " + "; ".join(problems)
        answer = self._answer(query, self._llm_draft(text, ranked, segments), backend="llm", repair_figures=False)  # judged as the LLM wrote it
        passages = " ".join(self.index.sentences[c.sid].text for c in ranked)
        bad = [f"{c.text} ({c.status})" for c in answer.figures if c.status not in ("ok", "derived")] + _unread_numbers(answer.text, answer.figures, passages)
        return f"the LLM's answer stated figures the article does not support: {', '.join(bad)}" if bad else ""

    @staticmethod
    def _llm_draft(text: str, ranked: list, segments) -> Draft:  # noqa: ANN001
        prose = tuple((words, tuple(ranked[n - 1].sid for n in numbers if 0 < n <= len(ranked))) for words, numbers in segments(text))
        return Draft("llm", prose=prose)

    @staticmethod
    def _fallback(answer: Answer, why: str) -> Answer:
        answer.notes.append(f"extractive answer shown because {why}")
        return answer

    def check_figures(self, text: str) -> list[FigureCheck]:
        """The guard's verdict on every figure of any text (an LLM's answer, a draft) against the fact table."""
        if not isinstance(text, str):
            raise InvalidQuestionError(f"check_figures takes text, not {type(text).__name__}.")
        return check_figures(text, self.facts)

    def chat(self) -> Chat:
        """A new conversation that keeps its own history."""
        return Chat(self)

    def _read(self, question: str, turns: list[tuple[str, str]]) -> Query:
        """The analyzer's Query; for a follow-up whose "it" may stand for several things, the reading whose
        best sentence the ranker finds likeliest to answer (the rules' own reading on a tie)."""
        query = self.analyzer.analyze(question, turns)
        if not turns or not query.followup or query.parts:
            return query
        others = self.analyzer.readings(question, turns)
        if not others:
            return query
        best, best_p = query, -1.0
        for reading in [query, *others]:
            ranked = self.reader.rank(reading)
            p = ranked[0].p if ranked else 0.0
            if p > best_p + 1e-9:
                best, best_p = reading, p
        return best

    def _standalone_history(self, history: object) -> list[tuple[str, str]]:
        """Earlier turns as (standalone question, answer text), resolving plain-text histories turn by turn."""
        if history is None:
            return []
        if not isinstance(history, (list, tuple)):
            raise HistoryError("History must be a list of [question, answer] pairs, oldest first.")
        if len(history) > self.settings.max_history_turns:
            history = history[len(history) - self.settings.max_history_turns :]
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
                standalone = self._read(earlier, out).standalone
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


def _section_names(documents: dict[str, Document]) -> dict[str, list[tuple[str, int, int]]]:
    """Short section names ("introduction", "battlefield 2") by the spans they stand for."""
    spans: dict[str, list[tuple[str, int, int]]] = {}
    for doc in documents.values():
        for s in doc.sections:
            key = s.title.split(":")[0].strip().lower()
            if s.level and 0 < len(key.split()) <= 3:
                spans.setdefault(key, []).append((doc.doc_id, s.start, s.end))
    return spans


def _unread_numbers(text: str, checks: list[FigureCheck], passages: str = "") -> list[str]:
    """Numbers in an LLM's text that the guard did not read ("1.82e10 yuan", "a third of"): not checkable, so
    not shown; unless the passages say the same words ("one of two", "a 5G plan"), which is no figure of the LLM's."""
    covered = [(c.start, c.end) for c in checks] + [(p.start, p.end) for p in find_periods(text)]
    covered += [(m.start(), m.end()) for m in re.finditer(r"\[\d+(?:\s*[,-]\s*\d+)*\]", text)]
    out = []
    for m in _NUMBERISH.finditer(text):
        words = re.search(r"\S*\s*\S*" + re.escape(m.group()) + r"\S*\s*\S*", text[max(0, m.start() - 20): m.end() + 20])
        if words and words.group().strip(" .,;:[]0123456789") and words.group().strip(" .,;:") in passages:
            continue
        if not any(s <= m.start() < e for s, e in covered):
            out.append(f"{text[max(0, m.start() - 10):m.end() + 10].strip()!r} (not a figure the guard can read)")
    return out


def _writable(folder: Path) -> bool:
    probe = folder if folder.exists() else folder.parent
    return os.access(probe, os.W_OK)
