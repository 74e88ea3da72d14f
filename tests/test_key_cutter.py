"""Search keys cut in a worker process while the writer stores the batch before: the same keys
as cut in line, every batch in order, and none lost when the worker cannot run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text

import councilwatch.key_cutter as key_cutter
import councilwatch.search as search_module
from councilwatch.key_cutter import Cut, Texts, cut_ahead, cut_texts
from councilwatch.search import (
    document_keys,
    document_tokens,
    index_stored,
    refresh_keys,
    search,
    store_searchable,
)
from db import ingest
from db.ingest import DocumentRecord, upsert_documents
from db.search import documents_without_keys
from db.tables import DOCUMENT_TERMS, DOCUMENTS
from tests.test_search_language import NOW, _records


def _texts(n: int) -> list[Texts]:
    return [
        (f"Title {i}", f"payments {i}", f"The councils' schools paid {i} carers") for i in range(n)
    ]


def _keys_match_documents(engine: Engine) -> None:
    with engine.connect() as connection:
        docs = connection.execute(select(DOCUMENTS)).all()
        stored = {
            row.document_id: row.keys
            for row in connection.execute(
                select(DOCUMENT_TERMS.c.document_id, DOCUMENT_TERMS.c["keys"])
            )
        }
    assert docs
    assert {d.id: set(stored[d.id].split()) for d in docs} == {
        d.id: set(document_keys(document_tokens(d.title, d.summary, d.body))) for d in docs
    }
    assert documents_without_keys(engine) == []
    if engine.dialect.name == "sqlite":  # the index holds exactly the stored keys
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO document_terms_fts(document_terms_fts, rank) "
                    "VALUES ('integrity-check', 1)"
                )
            )


def test_a_changed_document_is_no_longer_found_by_its_old_words(engine: Engine) -> None:
    records = _many()
    store_searchable(engine, records, now=NOW)
    changed = replace(records[3], body="Now about aquariums.")
    store_searchable(engine, [changed, *records[4:]], now=NOW)
    _keys_match_documents(engine)
    assert {f.document.url for f in search(engine, "aquariums").found} == {changed.url}
    old_word = next(w.strip(".,") for w in records[3].body.split() if len(w) > 6)
    assert changed.url not in {f.document.url for f in search(engine, old_word).found}


def _many() -> list[DocumentRecord]:
    """Enough documents for several batches of two."""
    records = _records()
    again = [
        replace(r, source_key=f"{r.source_key}-b", url=f"{r.url}/b", body=f"{r.body} museums")
        for r in records
    ]
    return records + again


def test_batches_of_a_fetch_run_are_cut_in_the_worker(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "KEY_BATCH", 2)
    records = _many()
    stored = upsert_documents(engine, records, now=NOW)
    assert index_stored(engine, records, stored) == len(records)
    assert key_cutter.worker_pids(), "no worker process cut the keys"
    _keys_match_documents(engine)


def test_stored_documents_without_keys_are_cut_in_the_worker(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "KEY_BATCH", 2)
    records = _many()
    upsert_documents(engine, records, now=NOW)
    assert refresh_keys(engine) == len(records)
    _keys_match_documents(engine)
    assert refresh_keys(engine) == 0


def _as_sets(results: Iterable[Cut]) -> list[tuple[list[set[str]], dict[str, str]]]:
    return [([set(text.split()) for text in cut.keys], cut.stems) for cut in results]


def test_cut_ahead_gives_each_batch_in_order_as_cut_in_line() -> None:
    batches = [_texts(3)[i:] for i in range(3)] + [_texts(5)]
    # As sets: a key text lists a document's words in its process's set order.
    assert _as_sets(cut_ahead(batches)) == _as_sets(map(cut_texts, batches))
    assert list(cut_ahead([])) == []
    assert _as_sets(cut_ahead([_texts(2)])) == _as_sets([cut_texts(_texts(2))])


def test_cut_ahead_reads_one_batch_ahead_of_the_worker_at_most() -> None:
    taken: list[int] = []

    def batches() -> Iterator[Sequence[Texts]]:
        for i in range(6):
            taken.append(i)
            yield _texts(i + 1)

    results = cut_ahead(batches())
    # Handing on the first: the second is being cut, the third read (it may be a read of the
    # store) and waiting; nothing more is held.
    next(results)
    assert taken == [0, 1, 2]
    next(results)
    assert taken == [0, 1, 2, 3]
    assert len(list(results)) == 4


def test_keys_are_cut_in_line_when_the_worker_dies(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dead(_worker: object) -> list[str]:
        raise EOFError  # what reading from a worker that died gives

    monkeypatch.setattr(key_cutter._Worker, "receive", dead)
    monkeypatch.setattr(search_module, "KEY_BATCH", 2)
    records = _many()
    stored = upsert_documents(engine, records, now=NOW)
    assert index_stored(engine, records, stored) == len(records)
    _keys_match_documents(engine)
    assert key_cutter._worker is None  # forgotten: a new one is started next time


def test_keys_are_cut_in_line_when_no_worker_can_start(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_processes() -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(key_cutter, "_worker", None)
    monkeypatch.setattr(key_cutter, "_Worker", no_processes)
    monkeypatch.setattr(search_module, "KEY_BATCH", 2)
    records = _many()
    upsert_documents(engine, records, now=NOW)
    assert refresh_keys(engine) == len(records)
    _keys_match_documents(engine)


def test_the_worker_does_not_run_the_callers_script_again(tmp_path: Path) -> None:
    # multiprocessing's spawn and forkserver children import the parent's main script: one
    # without a main guard would run (and store) twice.
    runs = tmp_path / "runs"
    script = tmp_path / "ingest_script.py"
    script.write_text(
        "import councilwatch.key_cutter as key_cutter\n"
        f"with open({str(runs)!r}, 'a') as out:\n"
        "    out.write('ran\\n')\n"
        "batches = [[('Title', 'summary', f'body {i}')] for i in range(4)]\n"
        "print(len(list(key_cutter.cut_ahead(batches))), bool(key_cutter.worker_pids()))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["4", "True"]
    assert runs.read_text() == "ran\n"


def test_the_worker_runs_this_councilwatch_whatever_the_working_directory(tmp_path: Path) -> None:
    # Another checkout in the working directory (a baseline tree, a deploy's old copy): ``-m``
    # would import its councilwatch first, whose worker may speak another protocol.
    other = tmp_path / "other" / "councilwatch"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("")
    marker = tmp_path / "other-worker-ran"
    (other / "key_cutter.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    root = Path(key_cutter.__file__).resolve().parents[1]
    script = tmp_path / "cut.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(root)!r})\n"
        "import councilwatch.key_cutter as key_cutter\n"
        "batches = [[('Title', 'summary', f'carers {i}')] for i in range(4)]\n"
        "cuts = list(key_cutter.cut_ahead(batches))\n"
        "print(len(cuts), sorted(cuts[0].stems.items()), bool(key_cutter.worker_pids()))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=other.parent,
    )
    assert done.stdout.split(" ", 1)[0] == "4"
    assert "('carers', 'carer')" in done.stdout and done.stdout.strip().endswith("True")
    assert not marker.exists()


def test_a_fetch_run_is_searchable_once_stored(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pipeline.process's path: each upsert chunk's keys cut while the next one is written.
    monkeypatch.setattr(search_module, "KEY_BATCH", 2)
    monkeypatch.setattr(ingest, "BATCH_SIZE", 3)
    records = _many()
    upsert_documents(engine, records[:2], now=NOW)  # stored before, without keys
    changed = [replace(records[1], body="Now about aquariums."), *records[2:]]
    result = store_searchable(engine, changed, now=NOW)
    assert (len(result.inserted), len(result.updated)) == (len(records) - 2, 1)
    assert key_cutter.worker_pids()
    _keys_match_documents(engine)
    assert {f.document.url for f in search(engine, "aquariums").found} == {records[1].url}
    again = store_searchable(engine, changed, now=NOW)
    assert again.unchanged == len(changed)
    _keys_match_documents(engine)


@pytest.fixture
def batches_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """Upsert chunks and key batches of two: several of each in a small fetch run."""
    monkeypatch.setattr(search_module, "KEY_BATCH", 2)
    monkeypatch.setattr(ingest, "BATCH_SIZE", 2)


def test_a_chunks_keys_are_being_cut_while_the_chunk_is_written(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, batches_of_two: None
) -> None:
    # The worker is handed a chunk's texts once its look-up has found what it will write,
    # not once it has committed: the cutting overlaps the chunk's own writes.
    events: list[str] = []
    send, insert_new = key_cutter._Worker.send, ingest._insert_new

    def sending(worker: key_cutter._Worker, texts: Sequence[Texts]) -> None:
        events.append("cut")
        send(worker, texts)

    def inserting(connection: Connection, rows: list[dict[str, Any]]) -> dict[Any, int]:
        events.append("insert")
        return insert_new(connection, rows)

    monkeypatch.setattr(key_cutter._Worker, "send", sending)
    monkeypatch.setattr(ingest, "_insert_new", inserting)
    store_searchable(engine, _many(), now=NOW)
    assert events[:2] == ["cut", "insert"]
    assert events.count("cut") == events.count("insert") == len(_many()) // 2
    _keys_match_documents(engine)


def test_a_document_another_writer_stored_meanwhile_keeps_that_writers_keys(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, batches_of_two: None
) -> None:
    # The look-up finds a key new, another writer stores it before our insert (ON CONFLICT
    # skips ours): our text was handed to the cutter, but its keys must not be stored.
    records = _many()
    theirs = replace(records[0], body="The other writer's text about lighthouses.")
    store_searchable(engine, [theirs], now=NOW)
    existing = ingest._existing
    looked_up: list[bool] = []

    def racing(connection: Connection, keys: Sequence[tuple[str, str]]) -> dict[Any, Any]:
        found = existing(connection, keys)
        if not looked_up:  # the first look-up ran before the other writer's insert
            looked_up.append(True)
            found.pop(theirs.key, None)
        return found

    monkeypatch.setattr(ingest, "_existing", racing)
    result = store_searchable(engine, records, now=NOW)
    assert looked_up
    assert result.unchanged == 1 and len(result.inserted) == len(records) - 1
    _keys_match_documents(engine)
    assert {f.document.url for f in search(engine, "lighthouses").found} == {theirs.url}
