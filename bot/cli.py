"""Command line: `python -m bot ask|chat|index|facts extract|knowledge extract|questions`. Reads the environment; prints errors as one line."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from .config import Settings
from .errors import BotError

ENV_PREFIX = "BOT_"


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    """Settings with overrides from BOT_MODEL, BOT_LLM_BASE_URL, BOT_LLM_MODEL, BOT_LLM_API_KEY."""
    env = dict(os.environ if env is None else env)
    changes: dict[str, object] = {}
    for field, var in (("model", "MODEL"), ("llm_base_url", "LLM_BASE_URL"), ("llm_model", "LLM_MODEL"), ("llm_api_key", "LLM_API_KEY")):
        value = env.get(ENV_PREFIX + var)
        if value:
            changes[field] = value
    return Settings().with_(**changes)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot", description="Ask questions about the articles in corpus/.")
    p.add_argument("--corpus", default=os.environ.get("BOT_CORPUS", "corpus"), help="corpus folder (default: corpus)")
    p.add_argument("--index", default=os.environ.get("BOT_INDEX", "index"), help="index folder (default: index)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
    sub = p.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    sub.add_parser("chat", help="an interactive conversation (follow-up questions welcome)")
    idx = sub.add_parser("index", help="build the index (always, unless --if-needed)")
    idx.add_argument("--if-needed", action="store_true", help="build only when missing or stale")
    facts = sub.add_parser("facts", help="fact tables")
    fsub = facts.add_subparsers(dest="facts_command", required=True)
    ext = fsub.add_parser("extract", help="draft fact-table rows (JSONL) for a document, to review by hand")
    ext.add_argument("doc", help="a document path, or a doc_id in the corpus folder")
    know = sub.add_parser("knowledge", help="entity knowledge files")
    ksub = know.add_subparsers(dest="knowledge_command", required=True)
    kext = ksub.add_parser("extract", help="draft a document's knowledge file (JSON: aliases, parts, people in roles), to review by hand")
    kext.add_argument("doc", help="a document path, or a doc_id in the corpus folder")
    q = sub.add_parser("questions", help="regenerate a document's build-time questions with the local LLMs (doc2query)", add_help=False)
    q.add_argument("rest", nargs=argparse.REMAINDER, help="arguments of `python -m bot.doc2query` (a document path, --models, --out)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (1 for a BotError, printed as one line)."""
    args, extra = _parser().parse_known_args(argv)
    if extra and args.command != "questions":
        _parser().error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    logging.getLogger("bot").setLevel(logging.INFO)
    try:
        return _run(args)
    except BotError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    settings = settings_from_env()
    if args.command == "index":
        from .index import build_index, staleness

        reason = staleness(args.corpus, args.index, settings)
        if args.if_needed and reason is None:
            print(f"index in {args.index} is up to date")
            return 0
        folder = build_index(args.corpus, args.index, settings)
        print(f"index built in {folder}" + (f" ({reason})" if reason else ""))
        return 0
    if args.command == "facts":
        return _facts_extract(args)
    if args.command == "knowledge":
        from .corpus import read_text
        from .knowledge import draft_knowledge

        sys.stdout.write(json.dumps(draft_knowledge(read_text(_document_path(args))).to_dict(), indent=1, ensure_ascii=False) + "\n")
        return 0
    if args.command == "questions":
        from .doc2query import main as questions_main

        return questions_main(args.rest + args.extra)

    from .core import Bot

    bot = Bot.load(args.corpus, args.index, settings)
    if args.command == "ask":
        answer = bot.ask(args.question)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(_render(answer))
        return 0
    return _chat(bot)


def _render(answer) -> str:  # noqa: ANN001 - an Answer
    lines = [answer.text]
    if answer.standalone_question and answer.standalone_question != answer.question:
        lines.insert(0, f"(searched: {answer.standalone_question})")
    for c in answer.citations:
        lines.append(f"  [{c.n}] {c.doc_id} · {c.section} · {c.start}-{c.end}")
    for note in answer.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _chat(bot) -> int:  # noqa: ANN001 - a Bot
    chat = bot.chat()
    print("Ask about the article (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("> ")
        except EOFError:
            print()
            return 0
        if not question.strip():
            return 0
        try:
            print(_render(chat.ask(question)))
        except BotError as e:
            print(f"error: {e}")


def _facts_extract(args: argparse.Namespace) -> int:

    from .corpus import read_text
    from .facts import FactTable, draft_facts, facts_to_jsonl
    from .knowledge import draft_knowledge

    path = _document_path(args)
    text = read_text(path)
    sys.stdout.write(facts_to_jsonl(draft_facts(path.stem, text, FactTable(knowledge=draft_knowledge(text)))))
    return 0


def _document_path(args: argparse.Namespace):  # noqa: ANN202 - a Path
    from pathlib import Path

    path = Path(args.doc)
    if not path.exists():
        candidates = [p for p in Path(args.corpus).glob(f"{args.doc}.*") if p.suffix in (".txt", ".md")]
        if not candidates:
            raise BotError(f"No document {args.doc!r}: give a file path or the doc_id of a .txt/.md file in {args.corpus}/.")
        path = candidates[0]
    return path
