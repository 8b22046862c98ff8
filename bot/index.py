"""Build, save and load the index: sentences and chunks, a FAISS index, BM25, and a manifest.

On-disk layout of `index/`:
    CURRENT            name of the generation in use (replaced atomically: the commit point)
    <generation>/      manifest.json, store.json, chunks.faiss, chunks.npy, sentences.npy, contexts.npy, bm25/
    models/<key>/      the ONNX export of the embedding model (as adapted to the corpus, adapt.py), shared
                       by the generations built with it
    .lock              held while building, so two processes never build at once
A build writes a new generation under a temporary name, renames it, then replaces CURRENT; a build
killed midway leaves the previous generation whole and in use. The manifest records the format
version, the settings the index depends on, the sha256 of every corpus file, and the size and sha256
of every file of the generation, so loading detects a stale or corrupt index. Loading never writes,
so a read-only `index/` can be served.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import numpy as np

from . import adapt
from .chunking import context_texts, embedding_text, make_chunks, previous_ids, split_sentences
from .config import Settings
from .corpus import corpus_fingerprint, load_corpus
from .embedding import ONNX_META_FILE, Encoder, OnnxEncoder, TorchEncoder, export_onnx, load_query_encoder, resolve_model, verify_onnx
from .errors import BotError, IndexBusyError, IndexCorruptError, IndexMissingError, IndexStaleError
from .text import bm25_tokens
from .types import Chunk, Document, Section, Sentence

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
CURRENT = "CURRENT"
SHARED_MODELS = "models"  # the ONNX export every generation shares
CHUNK_VECTORS = "chunks.npy"  # kept so that a later build can reuse an unchanged document's vectors
MANIFEST = "manifest.json"
LOCK = ".lock"
LOCK_TIMEOUT_S = 600.0
FIX = "run `python -m bot index` to rebuild it"
# Files checked by size only: hashing the 90 MB model on every load would cost ~0.1 s of cold start,
# and ONNX Runtime refuses a damaged model anyway.
_SIZE_ONLY = ("model.onnx",)
# Flat (exact) inner-product search until this many chunks; past it HNSW. Measured by `make bench`:
# flat costs 0.6 ms at 10k chunks, 2.4 ms at 20k and 7 ms at 50k (more than a whole ask), HNSW
# 0.06-0.2 ms across that range; flat passes 0.5 ms at about 9,600 chunks.
HNSW_MIN_CHUNKS = 9_000
# HNSW search breadth: 128 kept recall@10 at 0.94 on 50k near-duplicate vectors (64 gave 0.87).
HNSW_EF_SEARCH = 128


@dataclass
class Index:
    """A loaded index: what retrieval searches and what citations point into."""

    folder: Path
    manifest: dict
    documents: dict[str, Document]
    sentences: list[Sentence]
    chunks: list[Chunk]
    chunk_faiss: object  # faiss.Index over chunk vectors
    sentence_vectors: np.ndarray
    context_vectors: np.ndarray  # each sentence embedded after the one before it (chunking.context_texts)
    previous: list[int]  # chunking.previous_ids
    following: list[int]  # the inverse of `previous`: the next sentence of the same section, or -1
    bm25: object  # bm25s.BM25 over chunk tokens
    encoder: Encoder

    def sentence_at(self, doc_id: str, offset: int) -> int | None:
        """The id of the sentence of `doc_id` whose span holds `offset`, or None."""
        starts = self._starts.get(doc_id)
        if starts is None:
            return None
        i = bisect.bisect_right(starts[0], offset) - 1
        if i < 0:
            return None
        sid = starts[1][i]
        s = self.sentences[sid]
        return sid if s.start <= offset < s.end else None

    @cached_property
    def _starts(self) -> dict[str, tuple[list[int], list[int]]]:
        out: dict[str, tuple[list[int], list[int]]] = {}
        for s in self.sentences:
            starts, ids = out.setdefault(s.doc_id, ([], []))
            starts.append(s.start)
            ids.append(s.sid)
        return out

    def paragraph_previous(self, sid: int) -> int:
        """The sentence before `sid` in its paragraph (same section, no line break between), or -1."""
        prev = self.previous[sid]
        if prev < 0:
            return -1
        s, p = self.sentences[sid], self.sentences[prev]
        return -1 if "\n" in self.documents[s.doc_id].text[p.end : s.start] else prev


def staleness(corpus_dir: str | Path, index_dir: str | Path, settings: Settings) -> str | None:
    """Why the index must be (re)built, or None when it matches the corpus and settings."""
    folder = _current_folder(Path(index_dir))
    if folder is None:
        return f"the folder {index_dir}/ holds no index yet"
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return f"manifest of {folder} is unreadable"
    if manifest.get("format_version") != FORMAT_VERSION:
        return f"index format {manifest.get('format_version')} is not the current {FORMAT_VERSION}"
    built = manifest.get("settings", {})
    for key, value in settings.index_key().items():
        if built.get(key) != value:
            return f"{key} changed from {built.get(key)!r} to {value!r}"
    now, then = corpus_fingerprint(corpus_dir), manifest.get("corpus", {})
    if now != then:
        changed = sorted(set(now) ^ set(then)) + sorted(k for k in set(now) & set(then) if now[k] != then[k])
        return f"corpus changed since the index was built ({', '.join(changed)})"
    if manifest.get("adapted") != _adaptation_key(_adaptation(load_corpus(corpus_dir), settings)):
        return "the corpus's generated questions changed since the index was built"
    return None


def _adaptation(docs: list[Document], settings: Settings) -> adapt.Plan | None:
    return adapt.plan(docs, settings.model) if settings.adapt else None


def _adaptation_key(p: adapt.Plan | None) -> str | None:
    return p.key if p is not None else None


def build_index(corpus_dir: str | Path, index_dir: str | Path, settings: Settings, encoder: TorchEncoder | None = None, force: bool = True) -> Path:
    """Build the index for `corpus_dir` into `index_dir` and make it current; returns its folder.

    With `force=False` the build is skipped when, once the lock is held, the index is found current
    (another process built it while this one waited).
    """
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(index_dir / LOCK), timeout=LOCK_TIMEOUT_S):
            return _build_locked(Path(corpus_dir), index_dir, settings, encoder, force)
    except Timeout:
        raise IndexBusyError(f"Another process has been building the index in {index_dir} for {LOCK_TIMEOUT_S:.0f} s: wait for it, or remove {index_dir / LOCK} if no build is running.") from None
    except OSError as e:
        raise IndexStaleError(f"Cannot write the index to {index_dir} ({e.strerror or e}): give a writable folder with --index, or fix its permissions.") from None


def _build_locked(corpus_dir: Path, index_dir: Path, settings: Settings, encoder: TorchEncoder | None, force: bool) -> Path:
    if not force and staleness(corpus_dir, index_dir, settings) is None:
        current = _current_folder(index_dir)
        if current is not None:
            log.info("index in %s was built by another process while this one waited", index_dir)
            return current
    t0 = time.perf_counter()
    fingerprint = corpus_fingerprint(corpus_dir)
    docs = load_corpus(corpus_dir)
    sentences: list[Sentence] = []
    chunks: list[Chunk] = []
    for doc in docs:
        sents = split_sentences(doc, first_sid=len(sentences))
        if not sents:
            log.warning("document %s has no sentences; it is left out of the index", doc.doc_id)
            continue
        sentences.extend(sents)
        chunks.extend(make_chunks(doc, sents, settings.chunk_words, settings.chunk_overlap, first_cid=len(chunks)))
    if not chunks:
        raise BotError(f"No sentences found in {corpus_dir}: add articles with text.")

    titles = {d.doc_id: d.title for d in docs}
    # A given encoder (the bench's timing wrapper) is used as it is, without adaptation.
    adaptation = _adaptation(docs, settings) if encoder is None else None
    reused = _reusable(index_dir, settings, fingerprint, docs, sentences, _adaptation_key(adaptation))
    encoder, onnx_dir = _encoder(index_dir, settings, encoder, needed=any(d.doc_id not in reused for d in docs), adaptation=adaptation)
    chunk_vecs, sent_vecs, ctx_vecs = _vectors(docs, sentences, chunks, titles, reused, encoder)
    if reused:
        log.info("reused the vectors of %s; embedded %s", plural(len(reused), "unchanged document"), plural(len(docs) - len(reused), "new or changed document"))

    previous = (_current_folder(index_dir) or Path("")).name
    gen = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + f"-{os.getpid()}"
    tmp = index_dir / f".tmp-{gen}"
    tmp.mkdir()
    try:
        _write_generation(tmp, docs, sentences, chunks, chunk_vecs, sent_vecs, ctx_vecs, onnx_dir, settings, fingerprint, t0, _adaptation_key(adaptation))
        final = index_dir / gen
        tmp.rename(final)
        _fsync_dir(index_dir)
        _write_atomic(index_dir / CURRENT, gen.encode())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_generations(index_dir, keep={gen, previous})
    log.info("index built in %.1f s: %s, %s, %s", time.perf_counter() - t0, plural(len(docs), "document"), plural(len(chunks), "chunk"), plural(len(sentences), "sentence"))
    return final


def _write_generation(folder: Path, docs: list[Document], sentences: list[Sentence], chunks: list[Chunk], chunk_vecs: np.ndarray, sent_vecs: np.ndarray, ctx_vecs: np.ndarray, onnx_dir: Path | None, settings: Settings, fingerprint: dict[str, str], t0: float,
                      adapted: str | None = None) -> None:
    import bm25s
    import faiss

    store = {
        "documents": [{"doc_id": d.doc_id, "path": d.path, "title": d.title, "text": d.text, "sha256": d.sha256, "sections": [s.to_dict() for s in d.sections]} for d in docs],
        "sentences": [[s.doc_id, s.section, s.start, s.end] for s in sentences],
        "chunks": [[c.doc_id, c.section, c.start, c.end, list(c.sentence_ids)] for c in chunks],
    }
    (folder / "store.json").write_text(json.dumps(store, ensure_ascii=False))
    faiss.write_index(_faiss_index(chunk_vecs), str(folder / "chunks.faiss"))
    np.save(folder / "sentences.npy", sent_vecs)
    np.save(folder / CHUNK_VECTORS, chunk_vecs)
    np.save(folder / "contexts.npy", ctx_vecs)
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # its progress lines are noise in CLI output
    retriever = bm25s.BM25()
    retriever.index([bm25_tokens(embedding_text(c, "")) or ["<empty>"] for c in chunks], show_progress=False)
    retriever.save(str(folder / "bm25"))

    files = {}
    shared = sorted(onnx_dir.iterdir()) if onnx_dir is not None else []
    for p in sorted(folder.rglob("*")) + shared:
        if p.is_file():
            rel = os.path.relpath(p, folder).replace(os.sep, "/")
            files[rel] = {"size": p.stat().st_size, "sha256": None if p.name in _SIZE_ONLY else _sha256(p)}
    manifest = {
        "format_version": FORMAT_VERSION,
        "settings": settings.index_key(),
        "adapted": adapted,  # the key of the adapted model (adapt.py), None for the base model
        "dim": int(chunk_vecs.shape[1]),
        "faiss": "hnsw" if len(chunks) >= HNSW_MIN_CHUNKS else "flat_ip",
        "onnx": onnx_dir is not None,
        "onnx_dir": os.path.relpath(onnx_dir, folder).replace(os.sep, "/") if onnx_dir is not None else None,
        "corpus": fingerprint,
        "counts": {"documents": len(docs), "sentences": len(sentences), "chunks": len(chunks)},
        "versions": {name: adapt.package_version(name) for name in ("faiss-cpu", "bm25s", "sentence-transformers", "torch", "onnxruntime", "llama-index-core")},
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - t0, 3),
        "files": files,
    }
    # The manifest is written last: a generation without one was never finished.
    _write_atomic(folder / MANIFEST, json.dumps(manifest, indent=2).encode())
    for p in folder.rglob("*"):
        if p.is_file():
            _fsync_file(p)


def _onnx_key(settings: Settings, adapted: str | None = None) -> str:
    parts = [settings.model, adapt.package_version("torch"), adapt.package_version("sentence-transformers"), adapt.package_version("onnxruntime")] + ([adapted] if adapted else [])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _encoder(index_dir: Path, settings: Settings, given: Encoder | None, needed: bool, adaptation: adapt.Plan | None = None) -> tuple[Encoder | None, Path | None]:
    """The encoder a build embeds with, and the shared ONNX export its generation uses.

    An export made (and checked against sentence-transformers) by an earlier build serves the build
    too, so adding an article neither imports torch nor exports again; without one, sentence-transformers
    embeds (with the model adapted to the corpus, trained or read from its cache) and the export is made."""
    key = _onnx_key(settings, _adaptation_key(adaptation))
    shared = index_dir / SHARED_MODELS / key
    if settings.use_onnx and given is None and (shared / ONNX_META_FILE).is_file():
        try:
            return (OnnxEncoder(shared) if needed else None), shared
        except Exception as e:  # a damaged export is made again below
            log.info("the shared ONNX export in %s is unusable (%s); exporting again", shared, e)
    encoder = given or TorchEncoder(_model_path(settings, adaptation))
    torch_encoder = getattr(encoder, "inner", encoder)  # a wrapper (the bench's timing one) exports what it wraps
    onnx_dir = _shared_onnx(torch_encoder, index_dir, key) if settings.use_onnx and isinstance(torch_encoder, TorchEncoder) else None
    return encoder, onnx_dir


def _model_path(settings: Settings, adaptation: adapt.Plan | None) -> str:
    """The model a build embeds with: the one adapted to the corpus, or the configured one."""
    if adaptation is None:
        return settings.model
    return str(adapt.adapted_model(adaptation, resolve_model(settings.model)))


@dataclass
class _DocVectors:
    sentences: np.ndarray
    contexts: np.ndarray
    chunks: np.ndarray


def _reusable(index_dir: Path, settings: Settings, fingerprint: dict[str, str], docs: list[Document], sentences: list[Sentence],
              adapted: str | None = None) -> dict[str, _DocVectors]:
    """The vectors of the current generation's documents that are unchanged (same text, same sentences,
    same settings, same adapted model), by doc_id; empty when there is no usable generation."""
    folder = _current_folder(index_dir)
    if folder is None:
        return {}
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if (manifest.get("format_version") != FORMAT_VERSION or manifest.get("settings") != settings.index_key() or manifest.get("adapted") != adapted
                or not (folder / CHUNK_VECTORS).is_file()):
            return {}
        store = json.loads((folder / "store.json").read_text())
        sv, cv, kv = (np.load(folder / n) for n in ("sentences.npy", "contexts.npy", CHUNK_VECTORS))
    except (OSError, ValueError, KeyError):
        return {}
    then = manifest.get("corpus", {})
    spans_now = _by_doc((s.doc_id, (s.start, s.end)) for s in sentences)
    sids_then = _by_doc((doc, i) for i, (doc, *_rest) in enumerate(store["sentences"]))
    cids_then = _by_doc((doc, i) for i, (doc, *_rest) in enumerate(store["chunks"]))
    out: dict[str, _DocVectors] = {}
    for d in docs:
        if fingerprint.get(d.doc_id) != then.get(d.doc_id):
            continue
        sids, cids = sids_then.get(d.doc_id, []), cids_then.get(d.doc_id, [])
        if [tuple(store["sentences"][i][2:4]) for i in sids] != spans_now.get(d.doc_id) or not sids:
            continue
        out[d.doc_id] = _DocVectors(sv[sids], cv[sids], kv[cids])
    return out


def _vectors(docs: list[Document], sentences: list[Sentence], chunks: list[Chunk], titles: dict[str, str],
             reused: dict[str, _DocVectors], encoder: Encoder | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chunk, sentence and context vectors of the corpus: reused per unchanged document, else embedded."""
    sent_parts, ctx_parts, chunk_parts = [], [], []
    sents_of, chunks_of = _by_doc((s.doc_id, s) for s in sentences), _by_doc((c.doc_id, c) for c in chunks)
    for d in docs:
        sents = sents_of.get(d.doc_id, [])
        if not sents:
            continue
        if d.doc_id in reused:
            v = reused[d.doc_id]
            sent_parts.append(v.sentences)
            ctx_parts.append(v.contexts)
            chunk_parts.append(v.chunks)
            continue
        sent_parts.append(encoder.encode([s.text for s in sents]))
        ctx_parts.append(encoder.encode(context_texts(sents)))
        chunk_parts.append(encoder.encode([embedding_text(c, titles[c.doc_id]) for c in chunks_of.get(d.doc_id, [])]))
    return tuple(np.vstack(parts).astype(np.float32) for parts in (chunk_parts, sent_parts, ctx_parts))


def _by_doc(pairs) -> dict:  # noqa: ANN001 - (doc_id, item) pairs
    """Items grouped by document, in order: one pass, not one per document."""
    out: dict[str, list] = {}
    for doc_id, item in pairs:
        out.setdefault(doc_id, []).append(item)
    return out


def _shared_onnx(encoder: TorchEncoder, index_dir: Path, key: str) -> Path | None:
    """The ONNX export of the model, shared by every generation of `index_dir` (`models/<key>/`): made once
    per model (and adaptation) and library versions, checked against sentence-transformers before each reuse."""
    shared = index_dir / SHARED_MODELS / key
    if shared.is_dir() and verify_onnx(encoder, shared):
        return shared
    tmp = index_dir / SHARED_MODELS / f".tmp-{key}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if not export_onnx(encoder, tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    for p in tmp.iterdir():
        _fsync_file(p)
    shutil.rmtree(shared, ignore_errors=True)
    tmp.rename(shared)
    _fsync_dir(shared.parent)
    return shared


def plural(n: int, noun: str) -> str:
    """ "1 document", "2 documents"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _faiss_index(vecs: np.ndarray):  # noqa: ANN202 - faiss.Index
    """Inner product on normalised vectors = cosine. Exact search while it is the fastest."""
    import faiss

    dim = vecs.shape[1]
    if len(vecs) >= HNSW_MIN_CHUNKS:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(np.ascontiguousarray(vecs, dtype=np.float32))
    return index


def load_index(index_dir: str | Path, settings: Settings) -> Index:
    """Load the current generation, checking every file against the manifest.

    A generation removed by a build finishing meanwhile is not corruption: the load starts over on the
    new CURRENT.
    """
    index_dir = Path(index_dir)
    for _ in range(3):
        folder = _current_folder(index_dir)
        try:
            return _load_generation(index_dir, folder, settings)
        except IndexCorruptError:
            if folder is not None and folder.is_dir() and _current_folder(index_dir) == folder:
                raise
    return _load_generation(index_dir, _current_folder(index_dir), settings)


def _load_generation(index_dir: Path, folder: Path | None, settings: Settings) -> Index:
    import bm25s
    import faiss

    if folder is None:
        raise IndexMissingError(f"No index in {index_dir}: run `python -m bot index` to build one.")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        for rel, info in manifest["files"].items():
            p = folder / rel
            if not p.is_file() or p.stat().st_size != info["size"]:
                raise IndexCorruptError(f"Index file {p} is missing or truncated: {FIX}.")
            if info["sha256"] and _sha256(p) != info["sha256"]:
                raise IndexCorruptError(f"Index file {p} does not match its manifest: {FIX}.")
        store = json.loads((folder / "store.json").read_text())
        documents = {d["doc_id"]: Document(d["doc_id"], d["path"], d["title"], d["text"], d["sha256"], tuple(Section(**s) for s in d["sections"])) for d in store["documents"]}
        sentences = [Sentence(i, doc, sec, s, e, documents[doc].text[s:e]) for i, (doc, sec, s, e) in enumerate(store["sentences"])]
        chunks = [Chunk(i, doc, sec, s, e, documents[doc].text[s:e], tuple(ids)) for i, (doc, sec, s, e, ids) in enumerate(store["chunks"])]
        chunk_faiss = faiss.read_index(str(folder / "chunks.faiss"))
        sentence_vectors = np.load(folder / "sentences.npy", mmap_mode="r")
        context_vectors = np.load(folder / "contexts.npy", mmap_mode="r")
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
        if chunk_faiss.ntotal != len(chunks) or not sentence_vectors.shape == context_vectors.shape == (len(sentences), manifest["dim"]):
            raise IndexCorruptError(f"Index in {folder} disagrees with its manifest: {FIX}.")
    except BotError:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as e:
        raise IndexCorruptError(f"Index in {folder} is unreadable ({type(e).__name__}: {e}): {FIX}.") from None
    if manifest["settings"].get("model") != settings.model:
        raise IndexStaleError(f"Index in {folder} was built with model {manifest['settings'].get('model')!r}, not {settings.model!r}: {FIX}.")
    try:
        onnx_folder = folder / manifest["onnx_dir"] if manifest.get("onnx_dir") else folder
        model = str(adapt.CACHE_DIR / manifest["adapted"]) if manifest.get("adapted") else settings.model
        encoder = load_query_encoder(onnx_folder, model, settings.use_onnx and manifest.get("onnx", False))
    except BotError:
        raise
    except Exception as e:
        raise IndexCorruptError(f"The model export in {folder} could not be loaded ({e}): {FIX}.") from None
    previous = previous_ids(sentences)
    following = [-1] * len(sentences)
    for sid, p in enumerate(previous):
        if p >= 0:
            following[p] = sid
    return Index(folder, manifest, documents, sentences, chunks, chunk_faiss, sentence_vectors, context_vectors, previous, following, bm25, encoder)


def _current_folder(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / CURRENT).read_text().strip()
    except OSError:
        return None
    folder = index_dir / name
    if not name or "/" in name or name.startswith(".") or not folder.is_dir():
        return None
    return folder


def _remove_old_generations(index_dir: Path, keep: set[str]) -> None:
    """Generations older than the previous one, and abandoned temporary folders.

    The previous generation is kept: a process that read CURRENT just before the switch may still
    be opening its files. It goes at the next build.
    """
    for p in index_dir.iterdir():
        if p.is_dir() and p.name not in keep and (p.name.startswith(".tmp-") or (p / MANIFEST).exists() or p.name[:8].isdigit()):
            shutil.rmtree(p, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
