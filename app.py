"""The web app: `python app.py [--host 127.0.0.1] [--port 7860] [--corpus corpus] [--index index]`.

Defaults come from BOT_HOST, BOT_PORT, BOT_CORPUS, BOT_INDEX and BOT_FEEDBACK (feedback file,
default feedback/feedback.jsonl); model and LLM settings from the same BOT_* variables as the CLI.
The UI lives in `bot/ui.py` (`create_app`); besides the page, the app serves one HTTP endpoint:

    from gradio_client import Client
    answer = Client("http://127.0.0.1:7860/").predict(question, history, api_name="/ask")

where `history` is None or a list of [question, answer text] pairs and `answer` is `Answer.to_dict()`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bot.ui import create_app  # noqa: E402 - after the environment defaults above; re-exported

__all__ = ["create_app", "main", "parse_args"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def parse_args(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> argparse.Namespace:
    env = dict(os.environ if env is None else env)
    p = argparse.ArgumentParser(prog="python app.py", description="Serve the article bot's web UI and its /ask HTTP endpoint.")
    p.add_argument("--host", default=env.get("BOT_HOST", DEFAULT_HOST), help=f"interface to listen on (BOT_HOST, default {DEFAULT_HOST})")
    p.add_argument("--port", type=int, default=int(env.get("BOT_PORT", DEFAULT_PORT)), help=f"port (BOT_PORT, default {DEFAULT_PORT})")
    p.add_argument("--corpus", default=env.get("BOT_CORPUS", "corpus"), help="corpus folder (BOT_CORPUS, default corpus)")
    p.add_argument("--index", default=env.get("BOT_INDEX", "index"), help="index folder (BOT_INDEX, default index)")
    p.add_argument("--feedback", default=env.get("BOT_FEEDBACK", os.path.join("feedback", "feedback.jsonl")),
                   help="feedback JSONL file (BOT_FEEDBACK, default feedback/feedback.jsonl)")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the bot does")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    logging.getLogger("bot").setLevel(logging.INFO)

    from bot import Bot, BotError
    from bot.cli import settings_from_env

    try:
        bot = Bot.load(args.corpus, args.index, settings_from_env())
    except BotError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    app = create_app(bot, feedback_path=args.feedback, corpus_dir=args.corpus, index_dir=args.index)
    app.launch(server_name=args.host, server_port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
