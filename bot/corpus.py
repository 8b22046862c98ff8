"""Read `corpus/` into documents and detect their structure by rule, keeping exact character offsets.

Every `.txt` and `.md` file is a document; its `doc_id` is the file name without the extension. The
text is kept exactly as stored, so `Document.text[start:end]` is always the cited span. This module
does not split sentences (see `chunking.py`) and does not read fact tables (see `facts.py`).

Structure of a plain-text article: the first line is the title; a paragraph directly after it is the
summary when a `Subtitle:` line follows; paragraphs before the first heading form the introduction;
a heading is a short line that does not end like a sentence. In Markdown, `#` lines are headings.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .errors import CorpusError
from .types import Document, Section

DOC_SUFFIXES = (".txt", ".md")
MAX_DOC_BYTES = 20_000_000  # a single article larger than this is almost surely not an article

_HEADING_MAX_CHARS = 100
_HEADING_MAX_WORDS = 14
_SENTENCE_END = tuple('.!?,;:"”’\'')
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def corpus_files(corpus_dir: str | Path) -> list[Path]:
    """The document files of a corpus folder, sorted by name."""
    root = Path(corpus_dir)
    if not root.is_dir():
        raise CorpusError(f"Corpus folder {root} does not exist: create it and put .txt or .md articles in it.")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in DOC_SUFFIXES)
    if not files:
        raise CorpusError(f"Corpus folder {root} holds no .txt or .md file: add at least one article.")
    return files


def read_text(path: Path) -> str:
    """A document's text, exactly as stored; a clear error for binary, non-UTF-8 or empty files."""
    data = path.read_bytes()
    if len(data) > MAX_DOC_BYTES:
        raise CorpusError(f"{path} is {len(data):,} bytes, over the {MAX_DOC_BYTES:,} limit: split it into articles.")
    if b"\x00" in data:
        raise CorpusError(f"{path} looks binary (it holds NUL bytes): only plain-text .txt/.md articles belong in corpus/.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path} is not UTF-8 ({e.reason} at byte {e.start}): re-save it as UTF-8.") from None
    if not text.strip():
        raise CorpusError(f"{path} is empty: remove it or give it text.")
    return text


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def corpus_fingerprint(corpus_dir: str | Path) -> dict[str, str]:
    """sha256 of every document file, by doc_id: what the index manifest records and compares."""
    return {p.stem: file_sha256(p.read_bytes()) for p in corpus_files(corpus_dir)}


def load_corpus(corpus_dir: str | Path) -> list[Document]:
    """Every document of the corpus folder with its sections."""
    docs = []
    seen: dict[str, Path] = {}
    for path in corpus_files(corpus_dir):
        if path.stem in seen:
            raise CorpusError(f"{path} and {seen[path.stem]} share the id {path.stem!r}: rename one of them.")
        seen[path.stem] = path
        text = read_text(path)
        docs.append(parse_document(path.stem, text, path=str(path), markdown=path.suffix.lower() == ".md"))
    return docs


def parse_document(doc_id: str, text: str, path: str = "", markdown: bool = False) -> Document:
    """Detect title and sections of one document's text."""
    lines = _lines(text)
    content = [(s, e) for s, e in lines if text[s:e].strip()]
    if not content:
        raise CorpusError(f"Document {doc_id!r} has no text.")

    heads: list[tuple[str, int, int, int]] = []  # (title, heading_start, heading_end, level)
    t0, t1 = content[0]
    title = _heading_text(text[t0:t1], markdown) or text[t0:t1].strip()
    heads.append(("Title", t0, t1, 0))
    rest = content[1:]
    if len(rest) >= 2 and text[rest[1][0]:rest[1][1]].startswith("Subtitle:") and not _is_heading(text[rest[0][0]:rest[0][1]], markdown):
        heads.append(("Summary", rest[0][0], rest[0][0], 0))
        rest = rest[1:]
    first_body = True
    for s, e in rest:
        line = text[s:e]
        if line.startswith("Subtitle:"):
            heads.append(("Subtitle", s, s, 0))
            continue
        if _is_heading(line, markdown):
            level = 2 if re.match(r"#{3,}", line) else 1
            heads.append((_heading_text(line, markdown), s, e, level))
            first_body = False
            continue
        if first_body and heads[-1][0] in ("Title", "Summary", "Subtitle"):
            heads.append(("Introduction", s, s, 1))
        first_body = False

    sections = []
    for i, (name, hs, he, level) in enumerate(heads):
        end = heads[i + 1][1] if i + 1 < len(heads) else len(text)
        body_start = he if he > hs else hs
        sections.append(Section(title=name, start=body_start, end=end, heading_start=hs, heading_end=he, level=level))
    return Document(doc_id=doc_id, path=path, title=title, text=text, sha256=file_sha256(text.encode("utf-8")), sections=tuple(sections))


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, end excluding the line break."""
    out, pos = [], 0
    for m in re.finditer(r"\r\n|\n|\r", text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    return out


def _heading_text(line: str, markdown: bool) -> str:
    m = _MD_HEADING.match(line) if markdown else None
    return m.group(2) if m else line.strip()


def _is_heading(line: str, markdown: bool) -> bool:
    """A heading by rule: Markdown `#`, or a short line, capitalised, that does not end like a sentence."""
    if markdown:
        return bool(_MD_HEADING.match(line))
    s = line.strip()
    return (
        0 < len(s) <= _HEADING_MAX_CHARS
        and len(s.split()) <= _HEADING_MAX_WORDS
        and s[0].isupper()
        and not s.endswith(_SENTENCE_END)
        and not s.startswith(("- ", "* "))
    )
