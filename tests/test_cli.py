"""The command line, run as a real subprocess against a real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot import Bot

from .conftest import CORPUS, ROOT

QUESTION = "How big was the antitrust fine Alibaba received in April 2021?"


def _run(*args: str, index: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "bot", "--corpus", str(CORPUS), "--index", str(index), *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, input=stdin, timeout=120)


def test_ask_json_equals_answer_to_dict(index_dir, bot):
    out = _run("ask", QUESTION, "--json", index=index_dir)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == bot.ask(QUESTION).to_dict()


def test_ask_prints_text_and_citations(index_dir):
    out = _run("ask", QUESTION, index=index_dir)
    assert out.returncode == 0
    assert "CNY 18.2 billion" in out.stdout and "[1] twilight-of-an-empire-alibaba" in out.stdout


def test_errors_are_one_line_without_traceback(index_dir):
    out = _run("ask", "   ", index=index_dir)
    assert out.returncode == 1
    assert out.stderr.strip().startswith("error: The question is empty")
    assert "Traceback" not in out.stderr


def test_chat_repl_resolves_follow_ups(index_dir):
    out = _run("chat", index=index_dir, stdin="What was Pinduoduo's GMV in 2024?\nAnd Douyin's?\n\n")
    assert out.returncode == 0, out.stderr
    assert "(searched: What was Douyin's GMV in 2024?)" in out.stdout
    assert "CNY 3.5 trillion" in out.stdout


def test_index_if_needed_is_a_no_op_when_current(index_dir):
    out = _run("index", "--if-needed", index=index_dir)
    assert out.returncode == 0 and "up to date" in out.stdout


def test_facts_extract_drafts_rows(index_dir, tmp_path):
    doc = tmp_path / "note.txt"
    doc.write_text("A Note\nTencent Cloud grew revenue 12% in 2024, reaching CNY 30 billion.\n")
    out = _run("facts", "extract", str(doc), index=index_dir)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    quotes = {r["quote"] for r in rows}
    assert {"12%", "CNY 30 billion"} <= quotes
    text = doc.read_text()
    assert all(text[r["start"]:r["end"]] == r["quote"] for r in rows)


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "article-bot"
    assert exe.exists()
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "ask" in out.stdout


def test_cli_and_api_agree_on_refusals(index_dir, bot):
    out = _run("ask", "Who is the CEO of JD.com?", "--json", index=index_dir)
    assert json.loads(out.stdout)["answerable"] is False
    assert isinstance(bot, Bot)
