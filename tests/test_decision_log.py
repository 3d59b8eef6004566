"""The decision log: round trip, tamper evidence, a killed writer, concurrent writers,
replay after a one-value parameter edit, and refusal of foreign files."""

from __future__ import annotations

import importlib
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sample_events import AFFILIATE_RULE_144_SALE, ALLOWED, Unshowable, nested

import compliance
from compliance import decision_log as dl
from compliance.cli import main
from compliance.decision_log import chain as hash_chain
from compliance.decision_log import encoding, writing
from compliance.running.replay import replay

ROOT = Path(__file__).resolve().parent.parent
BASE = {k: v for k, v in ALLOWED.items() if k != "notice_id"}


def event(notice_id: str, **changes) -> dict:
    e = {**BASE, "notice_id": notice_id, **changes}
    return {k: v for k, v in e.items() if v is not None}


@pytest.fixture(scope="module")
def agreement():
    return compliance.load_agreement()


def cheap_batch(expected: int, key: dl.LogKey | None = None) -> dl.Batch:
    """A batch that declares ``expected`` records, keyed with ``key`` when given."""
    return dl.Batch(
        "2003-02-03T00:00:00+00:00",
        "check",
        "r" * 64,
        "a" * 64,
        "/agreement",
        "/rules",
        "test",
        ("i",),
        ("notice_id", "outcome"),
        expected,
        key and key.id,
    )


def cheap_decisions(n: int, prefix: str = "K", start: int = 0) -> dl.Decisions:
    """Records {prefix}{start}, ... of ``n`` cheap decisions."""
    ids = [f"{prefix}{i}" for i in range(start, start + n)]
    return dl.Decisions.of(
        ids, [json.dumps([i]) for i in range(start, start + n)], [json.dumps([notice_id, "allow"]) for notice_id in ids]
    )


def test_round_trip_check_and_review(tmp_path, agreement):
    log = tmp_path / "log.sqlite"
    d = compliance.check(event("C1"), agreement, record=log)
    notices = pd.DataFrame(
        [
            event("R1", quantity=400, form_144_filed_on=None),
            event("R2", route="registration_statement", sale_date="2002-07-25"),
        ]
    ).astype(str)
    out = compliance.review(notices, agreement, record=log)
    frame = compliance.read_log(log)
    assert frame["seq"].tolist() == [1, 2, 3]
    assert frame["notice_id"].tolist() == ["C1", "R1", "R2"]
    assert frame["source"].tolist() == ["check", "review", "review"]
    assert frame["event"][0] == event("C1")
    assert frame["output"][0] == json.loads(json.dumps(d.to_row()))
    assert frame["outcome"].tolist() == [d.outcome, *out["outcome"]]
    assert frame["failed_rules"].tolist()[1:] == out["failed_rules"].tolist()
    assert frame["event"][1]["quantity"] == "400"
    assert frame["rulebook_fingerprint"].nunique() == 1 and len(frame["rulebook_fingerprint"][0]) == 64
    assert frame["engine_version"][0] == compliance.__version__
    assert frame["agreement_dir"][0] == str(agreement.directory.resolve())
    assert frame["prev_hash"][0] == dl.GENESIS and frame["prev_hash"][1] == frame["hash"][0]
    assert frame["batch"].tolist() == [1, 2, 2]  # what a call shares is stored once, per batch
    con = sqlite3.connect(log)
    assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == 2
    con.close()
    assert dl.verify(log).ok and dl.verify(log).records == 3
    assert compliance.read_log(log, notice="R2")["seq"].tolist() == [3]
    assert len(compliance.read_log(log, since="2999-01-01")) == 0
    assert replay(log).ok


def test_cli_record_show_verify_replay(tmp_path, capsys):
    log = tmp_path / "log.sqlite"
    assert main(["check", json.dumps(event("C1")), "--record", str(log)]) == 0
    csv = tmp_path / "n.csv"
    pd.DataFrame([event("R1", quantity=400, form_144_filed_on=None)]).to_csv(csv, index=False)
    assert main(["review", str(csv), "--record", str(log)]) == 0
    capsys.readouterr()
    assert main(["log", "verify", str(log)]) == 0
    assert "OK: 2 records" in capsys.readouterr().out
    assert main(["log", "show", str(log), "--notice", "R1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["notice_id"] for r in shown] == ["R1"] and shown[0]["output"]["outcome"] == "allow"
    assert main(["log", "show", str(log), "--since", "2000-01-01"]) == 0
    assert "C1" in capsys.readouterr().out
    assert main(["replay", str(log)]) == 0


def tampered(tmp_path, sql: str = "") -> Path:
    """A log of records 1-6 (K0-K5) in two chunks, 1-3 and 4-6, after ``sql``."""
    log = tmp_path / "log.sqlite"
    dl.append(log, cheap_batch(6), [cheap_decisions(3), cheap_decisions(3, start=3)])
    assert dl.verify(log).ok
    con = sqlite3.connect(log)
    assert con.execute("SELECT first_seq, count FROM chunks").fetchall() == [(1, 3), (4, 3)]
    con.executescript(sql)
    con.close()
    return log


def edit_lines(log: Path, first_seq: int, column: str, edit) -> None:
    """Apply ``edit`` to the list of lines (bytes, without their newlines) of one chunk's column."""
    con = sqlite3.connect(log)
    data = con.execute(f"SELECT {column} FROM chunks WHERE first_seq = ?", (first_seq,)).fetchone()[0]
    lines = data.split(b"\n")[:-1]
    edit(lines)
    con.execute(
        f"UPDATE chunks SET {column} = ? WHERE first_seq = ?", (b"".join(line + b"\n" for line in lines), first_seq)
    )
    con.commit()
    con.close()


def test_record_edited_as_text_is_named(tmp_path):
    # the sqlite3 shell's replace() turns the column into TEXT
    log = tampered(tmp_path, """UPDATE chunks SET outputs = replace(outputs, '"K4", "allow"', '"K4", "deny"')""")
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 5 and "edited" in result.problem


@pytest.mark.parametrize("column, line", [("notice_ids", b'"K9"'), ("events", b"[9]"), ("outputs", b'["K4","deny"]')])
def test_edited_record_is_named(tmp_path, capsys, column, line):
    log = tampered(tmp_path)
    edit_lines(log, 4, column, lambda lines: lines.__setitem__(1, line))  # record 5
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 5 and result.records == 4
    assert "edited" in result.problem
    assert main(["log", "verify", str(log)]) == 1
    assert "record 5" in capsys.readouterr().out


def test_record_deleted_inside_a_chunk_is_named(tmp_path):
    log = tampered(tmp_path)
    edit_lines(log, 1, "events", lambda lines: lines.pop(1))  # record 2's event only
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 2 and result.records == 1

    (tmp_path / "whole").mkdir()
    log = tampered(tmp_path / "whole")  # record 2 entirely, hash and count too
    for column in ("notice_ids", "events", "outputs"):
        edit_lines(log, 1, column, lambda lines: lines.pop(1))
    con = sqlite3.connect(log)
    hashes = con.execute("SELECT hashes FROM chunks WHERE first_seq = 1").fetchone()[0]
    con.execute("UPDATE chunks SET count = 2, hashes = ? WHERE first_seq = 1", (hashes[:32] + hashes[64:],))
    con.execute("UPDATE chunks SET first_seq = 3 WHERE first_seq = 4")
    con.commit()
    con.close()
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 2 and "edited or moved" in result.problem


def test_deleted_chunk_is_named(tmp_path):
    log = tampered(tmp_path, "DELETE FROM chunks WHERE first_seq = 1;")
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 4 and "gap" in result.problem and result.records == 0


def test_lines_left_out_of_a_chunk_are_named(tmp_path):
    log = tampered(tmp_path)
    edit_lines(log, 4, "outputs", lambda lines: lines.pop())  # record 6's output
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 6 and result.records == 5 and "removed" in result.problem
    with pytest.raises(dl.LogError, match="records 4-6 is damaged"):
        compliance.read_log(log)


def test_reordered_records_are_named(tmp_path):
    log = tampered(tmp_path)
    edit_lines(log, 4, "outputs", lambda lines: lines.reverse())  # records 4 and 6 swapped
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 4 and result.records == 3


def test_reordered_chunks_are_named(tmp_path):
    log = tampered(
        tmp_path,
        """UPDATE chunks SET first_seq = -1 WHERE first_seq = 1;
                                UPDATE chunks SET first_seq = 1 WHERE first_seq = 4;
                                UPDATE chunks SET first_seq = 4 WHERE first_seq = -1;""",
    )
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 1 and result.records == 0


def test_rehashed_edit_still_breaks_the_chain(tmp_path):
    # an edit whose own hash is recomputed still breaks the next record's hash, taken over it
    log = tampered(tmp_path)
    edit_lines(log, 1, "outputs", lambda lines: lines.__setitem__(1, b'["K1","deny"]'))
    con = sqlite3.connect(log)
    notice_ids, events, outputs, hashes = con.execute(
        "SELECT notice_ids, events, outputs, hashes FROM chunks WHERE first_seq = 1"
    ).fetchone()
    batch_hash = con.execute("SELECT hash FROM batches WHERE batch = 1").fetchone()[0]
    columns = [pa.array([c.split(b"\n")[1] + b"\n"], type=pa.binary()) for c in (notice_ids, events, outputs)]
    [text] = dl.record_texts(2, 1, batch_hash, *columns)
    hashes = hashes[:32] + dl.record_hash(hashes[:32], text) + hashes[64:]
    con.execute("UPDATE chunks SET hashes = ? WHERE first_seq = 1", (hashes,))
    con.commit()
    con.close()
    result = dl.verify(log)
    assert result.first_bad == 3 and result.records == 2


def test_edited_or_missing_batch_is_named_at_its_first_record(tmp_path):
    log = tmp_path / "log.sqlite"
    dl.append(log, cheap_batch(3), [cheap_decisions(3, "A")])
    dl.append(log, cheap_batch(3), [cheap_decisions(3, "B")])  # batch 2: records 4-6
    con = sqlite3.connect(log)
    con.execute("UPDATE batches SET rulebook_fingerprint = ? WHERE batch = 2", ("e" * 64,))
    con.commit()
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 4 and "batch 2" in result.problem and "edited" in result.problem
    con.execute("DELETE FROM batches WHERE batch = 2")
    con.commit()
    con.close()
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 4 and "batch 2 is missing" in result.problem
    with pytest.raises(dl.LogError, match="record 4 belongs to batch 2, which is missing"):
        compliance.read_log(log)


def test_rows_encode_every_value_as_given():
    frame = pd.DataFrame(
        {
            "text": ["plain", 'a "quote"', "back\\slash"],
            "control": ["tab\there", "line\nbreak", "é 中"],
            "missing": ["x", None, float("nan")],
            "count": [1, 2, 3],
            "price": [1.5, float("nan"), 2.0],
            "flag": [True, False, True],
            "mixed": [True, 1, 1.0],  # equal to each other, of three types
            "when": [pd.Timestamp("2003-02-03"), pd.NaT, pd.Timestamp("2003-02-04 09:30")],
            "nested": [[1, "a"], {"k": 2}, None],
        }
    )
    rows = [json.loads(r) for r in dl.json_rows(frame).to_pylist()]
    assert rows == [
        ["plain", "tab\there", "x", 1, 1.5, True, True, "2003-02-03T00:00:00", [1, "a"]],
        ['a "quote"', "line\nbreak", None, 2, None, False, 1, None, {"k": 2}],
        ["back\\slash", "é 中", None, 3, 2.0, True, 1.0, "2003-02-04T09:30:00", None],
    ]
    assert [type(r[6]) for r in rows] == [bool, int, float]
    assert dl.json_rows(frame.head(0)).to_pylist() == []
    assert dl.json_rows(frame[[]]).to_pylist() == ["[]\n"] * 3


needs_c = pytest.mark.skipif(encoding._c is None, reason="the C loops (compliance.decision_log._loops) are not built")


def quirky_frame(n: int, seed: int) -> pd.DataFrame:
    """Columns of every kind json_rows meets, values drawn at random so that chunks differ: plain
    strings, strings JSON escapes, non-ASCII, nulls of four kinds, booleans among strings, equal
    values of different types or texts (True, 1, 1.0; 0.0, -0.0; Decimal 1.0, 1.00), bytes,
    unhashable values, numpy scalars, timestamps."""
    import random
    from decimal import Decimal

    rng = random.Random(seed)
    pick = lambda *values: [rng.choice(values) for _ in range(n)]  # noqa: E731
    plain = pick("allow", "deny", "", "é 中 ☃", "x" * 300)
    return pd.DataFrame(
        {
            "plain": pd.Series(plain, dtype=object),
            "plain_str": pd.Series(plain, dtype="string"),
            "plain_str_na": pd.Series(pick("a", None, "b"), dtype="string"),
            "escaped_sometimes": pd.Series(pick(*["plain"] * 30, 'a "quote"', "tab\there"), dtype=object),
            "flags": pd.Series(pick(True, False, "", None), dtype=object),
            "nulls": pd.Series(pick("a", None, float("nan"), pd.NA, pd.NaT), dtype=object),
            "numbers": pd.Series(pick(True, 1, 1.0, 0.0, -0.0, np.int64(1), np.float64(-0.0), np.True_), dtype=object),
            "decimals": pd.Series(pick(Decimal("1.0"), Decimal("1.00"), Decimal("NaN")), dtype=object),
            "bytes": pd.Series(pick(b"abc", b"d"), dtype=object),
            "bytes_and_text": pd.Series(pick(b"abc", "abc", "é"), dtype=object),
            "unhashable": pd.Series(pick([1, "a"], {"k": None}, "s", None), dtype=object),
            "floats": pd.Series(pick(0.0, -0.0, 1.5, float("nan")), dtype=float),
            "ints": pd.Series(pick(0, 7, -3), dtype="int64"),
            "bools": pd.Series(pick(True, False), dtype=bool),
            "when": pd.Series(pick(pd.Timestamp("2003-02-03"), pd.NaT, pd.Timestamp("2003-02-04 09:30"))),
        }
    )


def test_rows_are_the_same_bytes_however_encoded(monkeypatch):
    # the C join, by ranges of rows, against Arrow's join of all rows without the C extension (the
    # encoding before it, kept as the fallback)
    def reference(columns, opening="[", closing="]"):
        with monkeypatch.context() as m:
            m.setattr(encoding, "_c", None)
            m.setattr(encoding, "_c_lines", None)
            return encoding._arrow_lines(columns, opening, closing)

    for seed in range(4):
        frame = quirky_frame(2000, seed)
        frame["with_a_quote"] = frame["plain_str"].where(frame.index != 1500, 'say "hi"')
        for name in frame.columns:
            expected = reference([frame[name]])
            assert dl.json_rows(frame[[name]]) == expected, name
            lines = encoding._row_lines(frame[[name]])
            assert pa.concat_arrays([lines.lines(s, s + 300) for s in range(0, 2000, 300)]) == expected, name
        expected = reference([frame[c] for c in frame.columns])
        lines = encoding._row_lines(frame)
        assert pa.concat_arrays([lines.lines(s, s + 7) for s in range(0, 2000, 7)]) == expected
        assert dl.json_values(frame["plain"]) == reference([frame["plain"]], "", "")
        assert dl.json_values(frame["flags"]) == reference([frame["flags"]], "", "")


@needs_c
def test_c_verbatim_is_the_python_test():
    import random

    rng = random.Random(5)
    for _ in range(300):
        data = bytes(rng.choice(b'abc \x00\x1f\x20"\\\x7f\xc3\xa9') for _ in range(rng.randrange(0, 80)))
        expected = not (data and min(data) < 0x20) and b'"' not in data and b"\\" not in data
        assert encoding._c.verbatim(data) is expected, data
        assert encoding._c.verbatim(pa.py_buffer(data)) is expected


@needs_c
def test_c_lines_refuses_bad_pieces_and_names_values_it_does_not_write():
    offsets, data = encoding._c_lines(2, [b"[", ["a", True], b",", [None, float("nan")], b"]\n"])
    assert pa.StringArray.from_buffers(2, pa.py_buffer(offsets), pa.py_buffer(data)).to_pylist() == [
        '["a",null]\n',
        "[true,null]\n",
    ]
    assert encoding._c_lines(2, [b"[", ["a", "b"], b",", ["c", 1], b"]\n"]) == 3
    values = np.array(["a", None, True, "b"], dtype=object)  # numpy arrays as well as lists
    assert encoding._c_lines(2, [values[1:3], b"\n"]) == encoding._c_lines(2, [[None, True], b"\n"])
    assert encoding._c_lines(0, [values[:0]]) == (b"\x00" * 4, b"")
    with pytest.raises(ValueError, match="contiguous"):
        encoding._c_lines(2, [values[::2]])
    with pytest.raises(ValueError, match="contiguous"):
        encoding._c_lines(2, [np.array(["a", "b"])])  # not objects
    with pytest.raises(ValueError, match="contiguous"):
        encoding._c_lines(3, [values[1:3]])
    assert encoding._c_lines(1, [["a\\b"]]) == 0 and encoding._c_lines(1, [["\x1f"]]) == 0
    assert encoding._c_lines(1, [['"']]) == 0
    assert encoding._c_lines(1, [["\ud800"]]) == 0  # a lone surrogate: not UTF-8
    with pytest.raises(ValueError, match="another length"):
        encoding._c_lines(2, [["a"]])
    lines = pa.array(["[1]\n"] * 3, type=pa.string())
    with pytest.raises(ValueError, match="too short"):
        encoding._c_lines(4, [encoding._buffers(lines)])
    assert encoding._c_lines(0, []) == (b"\x00" * 4, b"")


def python_chain(prev, first_seq, batch, batch_hash, *columns) -> bytes:
    """The reference: the records' texts built one by one in Python, hashed along the chain."""
    return dl.chain_hashes(prev, dl.record_texts(first_seq, batch, batch_hash, *columns))


def test_record_hashes_are_those_of_format_3():
    # computed by the engine before the C chain existed: the format's hashes may not change
    d = dl.Decisions.of(
        ["K1", "é 中", "", "tab"],
        ['[1,"a"]', '["\\u0000x"]', "[]", "[null,true,1.5]"],
        ['["K1","allow"]', '["é 中","deny"]', '["","allow"]', '["tab","error"]'],
    )
    expected = (
        "dead15002782acaf9cb5783c61ceeb403c5daa7636ca2be5a87aa2685959e8d5fd455405077dfd19f2a4d903f74"
        "7907f94e9f133f73a399cebdf8384e20a9317a0787a2d032ed27356913fcba84e20451e4f61b98333ebf762d87b"
        "e373fde17a0664ab1fcae4930b697763fc5a05d5586fb7ad6a29754e355e45bb23b9352f22"
    )
    columns = (d.notice_ids, d.events, d.outputs)
    assert python_chain(bytes(32), 98, 7, "b" * 64, *columns).hex() == expected
    assert dl.record_chain(bytes(32), 98, 7, "b" * 64, *columns).hex() == expected


def random_lines(rng, n: int, empty: float) -> list[str]:
    alphabet = ["a", "Z", "0", " ", '"', "\\", "é", "中", "\U0001f600", "[", ",", "\t"]
    return [
        ("" if rng.random() < empty else "".join(rng.choices(alphabet, k=rng.randrange(0, 40)))) + "\n"
        for _ in range(n)
    ]


@needs_c
@pytest.mark.parametrize("first_seq", [1, 7, 95, 999_990, 2**62])  # seqs crossing digit counts
def test_c_chain_equals_the_python_chain(first_seq):
    import random

    rng = random.Random(first_seq)
    n = 300
    prev = bytes(rng.randrange(256) for _ in range(32))
    columns = [pa.array(random_lines(rng, n, empty), type=pa.string()) for empty in (0.1, 0.5, 0.0)]
    expected = python_chain(prev, first_seq, 12, "c" * 64, *columns)
    assert len(expected) == 32 * n
    assert dl.record_chain(prev, first_seq, 12, "c" * 64, *columns) == expected
    # sliced arrays (their offsets start inside the offsets buffer), as binary, as stored lines
    for start, length in [(0, n), (5, 200), (37, 1), (299, 1), (150, 0)]:
        sliced = [c.slice(start, length) for c in columns]
        want = python_chain(prev, first_seq, 12, "c" * 64, *sliced)
        assert dl.record_chain(prev, first_seq, 12, "c" * 64, *sliced) == want
        as_binary = [s.cast(pa.binary()) for s in sliced]
        assert dl.record_chain(prev, first_seq, 12, "c" * 64, *as_binary) == want
        stored = [hash_chain._column_lines(bytes(hash_chain._stored_column(s))) for s in sliced]
        assert dl.record_chain(prev, first_seq, 12, "c" * 64, *stored) == want


@needs_c
def test_c_chain_reads_columns_without_bytes_and_refuses_bad_buffers():
    empty = pa.array([""] * 5, type=pa.string())  # no data buffer at all
    assert empty.buffers()[2] is None or empty.buffers()[2].size == 0
    lines = pa.array(["[1]\n"] * 5, type=pa.string())
    assert dl.record_chain(bytes(32), 1, 1, "d" * 64, empty, lines, empty) == python_chain(
        bytes(32), 1, 1, "d" * 64, empty, lines, empty
    )
    offsets, data = lines.buffers()[1], lines.buffers()[2]
    with pytest.raises(ValueError, match="too short"):
        hash_chain._c_chain(bytes(32), 1, b"\n", 6, [(offsets, data, 0)])
    with pytest.raises(ValueError, match="outside"):
        hash_chain._c_chain(bytes(32), 1, b"\n", 5, [(offsets, data.slice(0, 3), 0)])
    with pytest.raises(ValueError, match="32 bytes"):
        hash_chain._c_chain(bytes(31), 1, b"\n", 5, [(offsets, data, 0)])


@pytest.mark.parametrize("key", [None, dl.LogKey(b"k")])
def test_python_fallback_writes_and_verifies_the_same_log(tmp_path, monkeypatch, key):
    fast, slow = tmp_path / "fast.sqlite", tmp_path / "slow.sqlite"
    dl.append(fast, cheap_batch(50, key), [cheap_decisions(30, "é"), cheap_decisions(20, "", 30)], key)
    monkeypatch.setattr(hash_chain, "_c_chain", None)
    monkeypatch.setattr(encoding, "_c_lines", None)
    dl.append(slow, cheap_batch(50, key), [cheap_decisions(30, "é"), cheap_decisions(20, "", 30)], key)

    def read(log):
        return [
            sqlite3.connect(log).execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("chunks", "seals")
        ]

    assert read(fast) == read(slow)
    assert str(dl.verify(fast, key=key)) == str(dl.verify(slow, key=key))
    assert dl.verify(fast, key=key).ok and dl.verify(fast, key=key).records == 50


WRITER = textwrap.dedent("""
    import json, sys
    from compliance import decision_log as dl
    path, prefix, n, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    batch = dl.Batch("2003-02-03T00:00:00+00:00", "check", "r" * 64, "a" * 64, "/agreement", "/rules", "test",
                     ("i",), ("notice_id", "outcome"), n if n >= 0 else 10**9)
    def chunks():
        i = 0
        while n < 0 or i < n:
            ids = [f"{prefix}{k}" for k in range(i, i + chunk)]
            yield dl.Decisions.of(ids, [json.dumps([k]) for k in range(i, i + chunk)],
                                  [json.dumps([notice_id, "allow"]) for notice_id in ids])
            i += chunk
    dl.append(path, batch, chunks())
""")


def writer(log: Path, prefix: str, n: int, chunk: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(log), prefix, str(n), str(chunk)],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def count(log: Path) -> int:
    try:
        con = sqlite3.connect(log, timeout=30)
        try:
            return con.execute("SELECT coalesce(sum(count), 0) FROM chunks").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return 0


def test_sigkilled_writer_leaves_a_whole_prefix(tmp_path):
    log = tmp_path / "log.sqlite"
    proc = writer(log, "K", -1, 1000)  # writes until killed
    deadline = time.monotonic() + 30
    while count(log) < 3000 and time.monotonic() < deadline:
        assert proc.poll() is None
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    result = dl.verify(log)
    frame = compliance.read_log(log)
    ids = frame["notice_id"].tolist()
    assert len(ids) >= 3000 and len(ids) % 1000 == 0  # whole chunks only
    assert ids == [f"K{i}" for i in range(len(ids))]  # a prefix, in order
    # the chain of what was written is intact, but the batch declared 10**9 records and was not
    # sealed: verify says so, with both counts, show marks its records, replay leaves them out
    assert result.intact and not result.ok, str(result)
    assert (
        f"INCOMPLETE: batch 1 (check, recorded 2003-02-03T00:00:00+00:00): {len(ids):,} of 1,000,000,000 "
        f"records, not sealed" in str(result)
    )
    assert set(frame["batch_state"]) == {"incomplete"}
    assert main(["log", "verify", str(log)]) == 1


def test_two_concurrent_writers_lose_nothing(tmp_path):
    log = tmp_path / "log.sqlite"  # neither writer finds it: both create
    procs = [writer(log, prefix, 20_000, 500) for prefix in ("A", "B")]  # 40 chunks each
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    result = dl.verify(log)
    assert result.ok and result.records == 40_000, str(result)
    frame = compliance.read_log(log)
    for prefix in ("A", "B"):
        mine = frame[frame["notice_id"].str.startswith(prefix)]["notice_id"].tolist()
        assert mine == [f"{prefix}{i}" for i in range(20_000)]  # all, in each writer's order


def test_a_failing_writer_stops_the_batch_and_raises(tmp_path, monkeypatch):
    log = tmp_path / "log.sqlite"
    made = []
    write = writing._append_chunk

    def fail_on_the_second(con, batch, key, batch_id, written, decisions, guess=None):
        if decisions.notice_ids[0].as_py() == '"K100"\n':  # the second chunk
            raise sqlite3.OperationalError("disk I/O error")
        return write(con, batch, key, batch_id, written, decisions, guess)

    def chunks():
        for start in range(0, 10_000, 100):
            made.append(start)
            yield cheap_decisions(100, "K", start)

    monkeypatch.setattr(writing, "_append_chunk", fail_on_the_second)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        dl.append(log, cheap_batch(10_000), chunks())
    assert len(made) <= 5  # the writer's error stopped the encoding
    result = dl.verify(log)
    assert result.intact and count(log) == 100
    assert not result.ok and result.findings == [
        "INCOMPLETE: batch 1 (check, recorded 2003-02-03T00:00:00+00:00): 100 of 10,000 records, not sealed "
        "(its recording stopped before its end); replay leaves it out"
    ]


def test_chunks_are_hashed_once_unless_another_writer_came_between(tmp_path, monkeypatch):
    log = tmp_path / "log.sqlite"
    dl.append(log, cheap_batch(5), [cheap_decisions(5, "Z")])
    hashed = []
    chain = dl.record_chain
    monkeypatch.setattr(writing, "record_chain", lambda *args: hashed.append(args[1]) or chain(*args))
    dl.append(log, cheap_batch(30), (cheap_decisions(10, "K", start) for start in range(0, 30, 10)))
    assert hashed == [6, 16, 26]  # ahead of the writer, each chunk once

    def chunks():  # other writers append before and between ours
        dl.append(log, cheap_batch(3), [cheap_decisions(3, "A")])
        yield cheap_decisions(10, "L", 0)
        yield cheap_decisions(10, "L", 10)
        dl.append(log, cheap_batch(3), [cheap_decisions(3, "B")])
        yield cheap_decisions(10, "L", 20)

    hashed.clear()
    dl.append(log, cheap_batch(30), chunks())
    result = dl.verify(log)
    assert result.ok and result.records == 5 + 30 + 3 + 30 + 3, str(result)
    frame = compliance.read_log(log)
    assert frame.loc[frame["notice_id"].str.startswith("L"), "notice_id"].tolist() == [f"L{i}" for i in range(30)]
    # B may come before L's first chunk is written (the encoding runs ahead of the writer), or after
    assert frame.groupby("batch")["notice_id"].first().tolist() in (
        ["Z0", "K0", "A0", "L0", "B0"],
        ["Z0", "K0", "A0", "B0", "L0"],
    )
    assert len(hashed) > 3  # the guesses that were wrong were hashed again


def test_a_failing_hash_stops_the_batch_and_raises(tmp_path, monkeypatch):
    log = tmp_path / "log.sqlite"
    chain = dl.record_chain

    def fail_on_the_second(prev, first_seq, *args):
        if first_seq > 100:
            raise MemoryError("no room to hash")
        return chain(prev, first_seq, *args)

    monkeypatch.setattr(writing, "record_chain", fail_on_the_second)
    with pytest.raises(MemoryError, match="no room"):
        dl.append(log, cheap_batch(10_000), (cheap_decisions(100, "K", start) for start in range(0, 10_000, 100)))
    result = dl.verify(log)  # the first chunk, if the writer took it
    assert result.intact and count(log) in (0, 100)
    assert result.ok if count(log) == 0 else "100 of 10,000 records, not sealed" in str(result)


def test_a_failing_batch_leaves_whole_chunks(tmp_path):
    log = tmp_path / "log.sqlite"

    def chunks():
        for start in range(0, 300, 100):
            yield cheap_decisions(100, "K", start)
        raise KeyError("a notice the encoder cannot read")

    with pytest.raises(KeyError, match="cannot read"):
        dl.append(log, cheap_batch(1000), chunks())
    result = dl.verify(log)
    assert result.intact and count(log) % 100 == 0 and count(log) <= 300
    assert result.ok if count(log) == 0 else f"{count(log)} of 1,000 records, not sealed" in str(result)


@pytest.mark.parametrize(
    "ids, expected",
    [
        (pd.Series(["a", None, 7, "é", 'q"'], dtype=object), ['"a"', '""', '"7"', '"é"', '"q\\""']),
        (pd.Series(["a", "é", 'q"'], dtype="string[pyarrow]"), ['"a"', '"é"', '"q\\""']),
        (pd.Series(["a", None], dtype="string[pyarrow]"), ['"a"', '"<NA>"']),
        (pd.Series(["a", None], dtype="str"), ['"a"', '"nan"']),
    ],
)
def test_review_notice_ids_are_recorded_as_text(tmp_path, agreement, ids, expected):
    log = tmp_path / "log.sqlite"
    dl.append_review(
        log, pd.DataFrame({"notice_id": ids}), pd.DataFrame({"notice_id": ids, "outcome": "allow"}), agreement
    )
    stored = sqlite3.connect(log).execute("SELECT notice_ids FROM chunks").fetchone()[0]
    assert stored.decode().splitlines() == expected
    assert dl.verify(log).ok


def test_review_is_recorded_in_chunks_as_if_encoded_at_once(tmp_path, agreement):
    from compliance.contract.synthetic import synthetic_notices

    notices = synthetic_notices(2500, seed=3)
    result = compliance.review(notices, agreement)
    log = tmp_path / "log.sqlite"
    dl.append_review(log, notices, result, agreement, chunk_size=1000)
    chunks = sqlite3.connect(log).execute("SELECT outputs FROM chunks ORDER BY first_seq").fetchall()
    assert len(chunks) == 3
    joined = encoding._arrow_lines([result[c] for c in result.columns], "[", "]")
    assert b"".join(c for (c,) in chunks) == joined.buffers()[2].to_pybytes()
    assert dl.verify(log).ok and dl.verify(log).records == 2500


def test_review_recorded_while_it_runs_holds_what_append_review_records(tmp_path, agreement, monkeypatch):
    review_module = importlib.import_module("compliance.running.review")  # the package's review() hides the module
    from compliance.contract.synthetic import synthetic_notices

    monkeypatch.setattr(review_module, "RECORDED_OUTPUT_CHUNK", 700)  # several runs, a short last one
    notices = synthetic_notices(2500, seed=4)  # includes rows in error
    streamed, after = tmp_path / "streamed.sqlite", tmp_path / "after.sqlite"
    result = compliance.review(notices, agreement, record=streamed)
    dl.append_review(after, notices, result, agreement)

    def stored(log):
        con = sqlite3.connect(log)
        rows = con.execute("SELECT count, notice_ids, events, outputs FROM chunks ORDER BY first_seq").fetchall()
        con.close()
        return [r[0] for r in rows], [b"".join(r[k] for r in rows) for k in (1, 2, 3)]

    counts, columns = stored(streamed)
    assert counts == [700, 700, 700, 400]  # one chunk per run of output rows
    assert columns == stored(after)[1]  # the same records, byte for byte
    assert dl.verify(streamed).ok and dl.verify(streamed).records == 2500
    assert (result["outcome"] == "error").any()


def test_a_review_whose_log_is_refused_raises_the_log_error(tmp_path, agreement):
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_text("not a database at all " * 100)
    notices = pd.DataFrame([event("R1"), event("R2", quantity=5)]).astype(str)
    with pytest.raises(dl.LogError, match="not a decision log"):
        compliance.review(notices, agreement, record=foreign)
    assert foreign.read_text().startswith("not a database")


def test_a_review_that_fails_stops_its_recorder(tmp_path, agreement, monkeypatch):
    review_module = importlib.import_module("compliance.running.review")  # the package's review() hides the module
    log = tmp_path / "log.sqlite"

    def broken(*args, **kwargs):
        raise RuntimeError("review broke")

    monkeypatch.setattr(review_module, "review_frame", broken)
    with pytest.raises(RuntimeError, match="review broke"):
        compliance.review(pd.DataFrame([event("R1")]).astype(str), agreement, record=log)
    assert not log.exists() or dl.verify(log).records == 0


@pytest.fixture(scope="module")
def edited_rules(tmp_path_factory):
    """A copy of rules/ with one value changed: the 1997 Form 144 share threshold 500 -> 200,000."""
    rules = tmp_path_factory.mktemp("edited") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "parameters" / "rule_144.yaml"
    old = '1997-04-29: {value: 500, reference: "17 CFR 230.144(h) (1997)"}'
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, old.replace("500", "200000")))
    return rules


def test_replay_finds_exactly_the_decisions_a_parameter_edit_changes(tmp_path, agreement, edited_rules):
    log = tmp_path / "log.sqlite"
    # Papell acquired 2002-01-16: on 2003-02-03 the one-year holding period is met, 144(k) (two
    # years) is not, so the 1997 resale limits apply: Form 144 is required when the three-month
    # amount exceeds 500 shares (edited: 200,000) or $10,000.
    checks = [
        event(
            "A", quantity=1000, form_144_filed_on=None
        ),  # 1,000 > 500, $1,000: deny; edited: not required -> allow  CHANGED
        event("B", quantity=100000, form_144_filed_on=None),  # $100,000 > $10,000: required either way, deny both
        event("F", route="registration_statement", sale_date="2002-07-25"),  # no Rule 144: allow both
        event("G", quantity=400, form_144_filed_on=None),  # 400 <= 500 and $400: not required either way, allow both
        event("H", quantity=1000, form_144_filed_on=None, sale_price=None),  # 1,000 > 500: deny; edited:
        #   share limb false, dollar limb unknown (no price) -> undetermined, deny (fail closed): same
        event(
            "I", quantity=1000, form_144_filed_on=None, affiliate=True
        ),  # affiliate, 1,000 > 500: deny; edited allow  CHANGED
    ]
    for e in checks:
        compliance.check(e, agreement, record=log)
    # one review batch: R1 (400 shares) is allowed either way; R2 (300 shares, ten days later) has
    # a three-month aggregate of 700 > 500 with R1 -> deny; edited: 700 <= 200,000 -> allow  CHANGED
    # (replayed as a batch, so R2 again sees R1 as an earlier sale)
    batch = pd.DataFrame(
        [
            event("R1", quantity=400, form_144_filed_on=None),
            event("R2", quantity=300, form_144_filed_on=None, sale_date="2003-02-13"),
        ]
    ).astype(str)
    recorded = compliance.review(batch, agreement, record=log)
    assert recorded["outcome"].tolist() == ["allow", "deny"]

    assert replay(log).ok  # the unchanged rules: nothing differs
    result = replay(log, rules_dir=edited_rules)
    assert result.changed == {"A", "I", "R2"}
    assert not result.failures and result.records == 8
    assert set(result.grouped()) == {"rulebook"}  # the agreement did not change
    a = next(d for d in result.differences if d.notice_id == "A")
    assert a.changes["outcome"] == ("deny", "allow")
    assert a.changes["failed_rules"] == ("rule144.form_144", "")
    assert a.changes["earliest_allowed_date"] == ("2004-01-20", "2003-02-03")  # 144(k) date -> now

    # and the other way round: a log written under the edited (older) rulebook replays against
    # the current one, without error, finding the same three
    older = tmp_path / "older.sqlite"
    for e in checks:
        compliance.check(e, agreement, rules_dir=edited_rules, record=older)
    compliance.review(batch, agreement, rules_dir=edited_rules, record=older)
    back = replay(older)
    assert back.changed == {"A", "I", "R2"} and not back.failures
    assert main(["replay", str(older)]) == 1


def test_replay_groups_an_agreement_change(tmp_path, agreement):
    copy = tmp_path / "deal"
    shutil.copytree(agreement.directory, copy)
    log = tmp_path / "log.sqlite"
    compliance.check(event("C1"), compliance.load_agreement(copy), record=log)
    with open(copy / "agreement.yaml", "a") as f:
        f.write("\n# a comment: the bytes changed, no decision does\n")
    result = replay(log)
    assert result.ok  # fingerprint differs, decision does not


def test_foreign_and_corrupt_files_are_refused(tmp_path, capsys):
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all " * 100)
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE decisions (x)")
    con.commit()
    con.close()
    for path in (text, other, tmp_path / "missing.sqlite"):
        with pytest.raises(dl.LogError, match="decision log"):
            dl.verify(path)
        with pytest.raises(dl.LogError):
            compliance.read_log(path)
        assert main(["log", "verify", str(path)]) == 2
        assert main(["replay", str(path)]) == 2
        assert "not a decision log" in capsys.readouterr().err or not path.exists()
    for path in (text, other):
        with pytest.raises(dl.LogError):
            dl.append(path, cheap_batch(1), [cheap_decisions(1)])
        with pytest.raises(dl.LogError):
            compliance.check(event("X"), record=path)
    assert text.read_text().startswith("not a database")  # left untouched
    con = sqlite3.connect(other)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    con.close()
    assert not (tmp_path / "missing.sqlite").exists()  # reading never creates a log


OLD_LOGS = {
    1: ROOT / "tests" / "logs" / "format_1.sqlite",
    2: ROOT / "tests" / "logs" / "format_2.sqlite",
    3: ROOT / "tests" / "logs" / "format_3.sqlite",
}
"""Logs in the formats earlier engines wrote (1, 2 and 3; format 3's batches do not declare their
size and are not sealed), each holding the
checks A, B, F, G, H, I and the review batch R1, R2 of the parameter-edit test, judged under the
edited rules (Form 144 threshold 200,000 shares), so that the bundled rules decide A, I and R2
differently."""


@pytest.mark.parametrize("version", sorted(OLD_LOGS))
def test_older_logs_are_verified_shown_and_replayed(tmp_path, agreement, version):
    log = tmp_path / "old.sqlite"
    shutil.copyfile(OLD_LOGS[version], log)  # reading a WAL-mode file writes beside it
    result = dl.verify(log)
    assert result.ok and result.records == 8
    assert result.notes == [
        f"the log's 8 records predate seals (format {version}): whether each batch was recorded to its end is not known"
    ]
    assert main(["log", "verify", str(log)]) == 0
    assert main(["log", "verify", str(log), "--expect-head", result.head]) == 0
    frame = compliance.read_log(log)
    assert set(frame["batch_state"]) == {"predates seals"}
    assert dl.head(log) == result.head == frame["hash"].iloc[-1]
    assert frame["seq"].tolist() == list(range(1, 9))
    assert frame["notice_id"].tolist() == ["A", "B", "F", "G", "H", "I", "R1", "R2"]
    assert frame["event"][0] == event("A", quantity=1000, form_144_filed_on=None)
    assert frame["event"][7]["sale_date"] == "2003-02-13"
    assert frame["outcome"][0] == "allow" and frame["source"].tolist()[-2:] == ["review", "review"]
    assert len(frame["rulebook_fingerprint"][0]) == 64 and frame["engine_version"][0] == "0.1.0"
    back = replay(log, agreement.directory)
    assert back.changed == {"A", "I", "R2"} and not back.failures
    assert back.records == back.predating == 8 and not back.left_out
    # with a log key set, none of these records is keyed: each is reported as such
    keyed = dl.verify(log, key=dl.LogKey(b"the key"))
    assert keyed.intact and not keyed.ok and "NOT KEYED" in str(keyed) and "8 records" in str(keyed)
    if version == 3:
        edit_lines(log, 4, "outputs", lambda lines: lines.__setitem__(0, lines[0].replace(b'"allow"', b'"deny"')))
    else:
        con = sqlite3.connect(log)
        con.execute("""UPDATE decisions SET output = replace(output, '"allow"', '"deny"') WHERE seq = 4""")
        con.commit()
        con.close()
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 4 and "edited" in result.problem


@pytest.mark.parametrize("version", sorted(OLD_LOGS))
def test_older_logs_are_not_appended_to(tmp_path, agreement, version):
    log = tmp_path / "old.sqlite"
    shutil.copyfile(OLD_LOGS[version], log)
    with pytest.raises(dl.LogError, match=f"format {version}.*not appended to"):
        compliance.check(event("X"), agreement, record=log)
    assert dl.verify(log).records == 8


def test_a_newer_format_is_refused(tmp_path):
    log = tmp_path / "log.sqlite"
    dl.append(log, cheap_batch(1), [cheap_decisions(1)])
    con = sqlite3.connect(log)
    con.execute("PRAGMA user_version = 5")
    con.close()
    with pytest.raises(dl.LogError, match="format 5; this engine reads formats 1, 2, 3, 4"):
        dl.verify(log)
    with pytest.raises(dl.LogError, match="format 5"):
        dl.append(log, cheap_batch(1), [cheap_decisions(1)])


PAPELL = "Papell Holdings Limited"
LIMITED = {
    **AFFILIATE_RULE_144_SALE,
    "notice_id": "V1",
    "quantity": 260_001,
    "sale_price": 1.05,
    "form_144_filed_on": "2003-03-03",
}
"""An affiliate's Rule 144 sale of Mon 2003-03-03 that the volume limit allows alone (260,001 of
the 380,000 limit of early 2003: 1% of 38,000,000 outstanding) and denies after
:data:`SOLD_BEFORE` (120,000 + 260,001 = 380,001)."""
SOLD_BEFORE = [
    {
        "investor": PAPELL,
        "security": "shares",
        "quantity": 120_000,
        "sale_date": "2003-02-14",
        "route": "rule_144",
        "sale_price": 1,
    },
    # another investor's sale, of unknown price and with a notice id: recorded, counts for no one here
    {
        "investor": "Folkinburg Investments",
        "security": "shares",
        "quantity": 5,
        "sale_date": "2003-01-10",
        "route": "other_exemption",
        "notice_id": "F9",
    },
]


def test_the_history_a_call_was_given_is_recorded_and_replayed_with_it(tmp_path, agreement, capsys):
    log = tmp_path / "log.sqlite"
    assert compliance.check(LIMITED, agreement).outcome == "allow"
    d = compliance.check(LIMITED, agreement, record=log, history=SOLD_BEFORE)
    assert d.outcome == "deny" and d.failed_rules == ["rule144.volume"]
    out = compliance.review(pd.DataFrame([{**LIMITED, "notice_id": "V2"}]), agreement, record=log, history=SOLD_BEFORE)
    assert out["outcome"].tolist() == ["deny"]
    compliance.check({**LIMITED, "notice_id": "V3"}, agreement, record=log)  # no history
    frame = compliance.read_log(log)
    recorded = [None if h is None else json.loads(h) for h in frame["history"]]
    # the parsed sales, in sale_date order, every history column present
    assert (
        recorded[0]
        == recorded[1]
        == [
            {
                "investor": "Folkinburg Investments",
                "notice_id": "F9",
                "quantity": 5,
                "route": "other_exemption",
                "sale_date": "2003-01-10",
                "sale_price": None,
                "security": "shares",
            },
            {
                "investor": PAPELL,
                "notice_id": None,
                "quantity": 120_000,
                "route": "rule_144",
                "sale_date": "2003-02-14",
                "sale_price": 1.0,
                "security": "shares",
            },
        ]
    )
    assert recorded[2] is None
    capsys.readouterr()
    assert main(["log", "show", str(log), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["history"] for r in shown] == frame["history"].tolist()
    assert dl.verify(log).ok
    back = replay(log)
    assert back.ok and back.records == 3 and not back.differences


def test_a_check_given_an_unreadable_history_is_recorded_as_such_and_not_judged_again(tmp_path, agreement):
    log = tmp_path / "log.sqlite"
    unreadable = [{**SOLD_BEFORE[0], "quantity": "many"}]
    d = compliance.check(LIMITED, agreement, record=log, history=unreadable)
    assert d.outcome == "error" and "quantity" in d.error
    compliance.check({**LIMITED, "notice_id": "V3"}, agreement, record=log)  # no history: replayed
    history = json.loads(compliance.read_log(log)["history"].iloc[0])
    assert history == {"unread": d.error}
    assert dl.verify(log).ok
    back = replay(log)
    # Judged again without the history it was given, the first would allow: never reported so.
    assert back.records == 2 and not back.differences
    unread = f"not judged again: the seller's history given to the check could not be read: {d.error}"
    assert back.failures == [(1, unread)]


def test_an_edited_history_fails_verification_naming_its_batch(tmp_path, agreement):
    log = tmp_path / "log.sqlite"
    compliance.check(event("C1"), agreement, record=log)
    compliance.check(LIMITED, agreement, record=log, history=SOLD_BEFORE)  # batch 2, record 2
    con = sqlite3.connect(log)
    con.execute("UPDATE batches SET history = replace(history, '120000', '1') WHERE batch = 2")
    con.commit()
    con.close()
    result = dl.verify(log)
    assert not result.ok and result.first_bad == 2
    assert "batch 2" in result.problem and "history" in result.problem
    assert main(["log", "verify", str(log)]) != 0


def test_a_format_4_log_without_histories_reads_verifies_replays_and_gains_them(tmp_path, agreement):
    log = tmp_path / "log.sqlite"
    compliance.check(event("C1"), agreement, record=log)
    compliance.review(pd.DataFrame([event("R1")]).astype(str), agreement, record=log)
    con = sqlite3.connect(log)
    con.execute("ALTER TABLE batches DROP COLUMN history")  # the layout before batches recorded it
    con.commit()
    con.close()
    result = dl.verify(log)
    assert result.ok and result.records == 2
    frame = compliance.read_log(log)
    assert frame["history"].tolist() == [None, None]
    assert replay(log).ok
    compliance.check(LIMITED, agreement, record=log, history=SOLD_BEFORE)  # appending adds the column
    con = sqlite3.connect(log)
    assert [r[1] for r in con.execute("PRAGMA table_info(batches)")] == list(dl.schema.BATCH_COLUMNS)
    assert con.execute("SELECT history IS NULL FROM batches ORDER BY batch").fetchall() == [(1,), (1,), (0,)]
    con.close()
    result = dl.verify(log)
    assert result.ok and result.records == 3 and result.head == dl.head(log)
    back = replay(log)
    assert back.ok and back.records == 3


def test_a_check_is_recorded_sealed_in_one_transaction(tmp_path, agreement, monkeypatch):
    log = tmp_path / "log.sqlite"
    compliance.check(event("C1"), agreement, record=log)
    con = sqlite3.connect(log)
    assert con.execute("SELECT batch, expected, key_id FROM batches").fetchall() == [(1, 1, None)]
    assert con.execute("SELECT batch, count FROM seals").fetchall() == [(1, 1)]
    con.close()
    assert dl.verify(log).ok and compliance.read_log(log)["batch_state"].tolist() == ["sealed"]
    # the batch row, its record and its seal are one transaction: a seal that cannot be written
    # takes the batch and the record with it
    monkeypatch.setattr(writing, "INSERT_SEAL", "INSERT INTO no_such_table VALUES (?, ?, ?)")
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        compliance.check(event("C2"), agreement, record=log)
    assert compliance.read_log(log)["notice_id"].tolist() == ["C1"] and dl.verify(log).ok


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_review_is_incomplete_and_left_out_of_replay(
    tmp_path, agreement, monkeypatch, capsys, interruption
):
    review_module = importlib.import_module("compliance.running.review")  # the package's review() hides the module
    from compliance.contract.synthetic import synthetic_notices

    monkeypatch.setattr(review_module, "RECORDED_OUTPUT_CHUNK", 700)
    review_frame = review_module.review_frame

    def interrupted(notices, agreement, rules_dir, progress, on_output, *args):
        handed = []

        def hand(start, output):  # the third run of output never comes
            if len(handed) == 2:
                raise interruption("stopped")
            handed.append(start)
            on_output(start, output)

        return review_frame(notices, agreement, rules_dir, progress, hand, *args)

    log = tmp_path / "log.sqlite"
    compliance.check(event("C1"), agreement, record=log)  # batch 1, sealed
    monkeypatch.setattr(review_module, "review_frame", interrupted)
    with pytest.raises(interruption, match="stopped"):
        compliance.review(synthetic_notices(2500, seed=4), agreement, record=log)  # batch 2
    found = count(log) - 1
    assert found in (700, 1400)  # the runs handed over that the writer took, whole
    result = dl.verify(log)
    assert result.intact and result.records == 1 + found and not result.ok
    assert result.findings == [
        f"INCOMPLETE: batch 2 (review, recorded {compliance.read_log(log)['recorded_at'][1]}): "
        f"{found:,} of 2,500 records, not sealed (its recording stopped before its end); "
        f"replay leaves it out"
    ]
    assert main(["log", "verify", str(log)]) == 1
    assert f"{found:,} of 2,500 records" in capsys.readouterr().out
    frame = compliance.read_log(log)
    assert frame["batch_state"].tolist() == ["sealed"] + ["incomplete"] * found
    assert main(["log", "show", str(log)]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert "batch_state" in shown[0] and shown[1].endswith("sealed") and shown[2].endswith("incomplete")
    back = replay(log)
    assert back.records == 1 and back.left_out == {2: found} and back.ok
    assert main(["replay", str(log)]) == 0  # the replayed record is unchanged
    assert f"Left out {found:,} records of 1 incomplete batch (2)" in capsys.readouterr().out


def test_an_abandoned_recorder_leaves_its_batch_unsealed(tmp_path, agreement):
    notices = pd.DataFrame([event(f"R{i}", quantity=400, form_144_filed_on=None) for i in range(5)]).astype(str)
    result = compliance.review(notices, agreement)
    log = tmp_path / "log.sqlite"
    recorder = dl.ReviewRecorder(log, notices, list(result.columns), agreement)
    recorder.add(0, result.iloc[:2])
    while count(log) < 2:  # the recorder's thread writes what it was handed
        time.sleep(0.01)
    recorder.abandon()
    assert "batch 1 (review, recorded" in str(dl.verify(log)) and "2 of 5 records, not sealed" in str(dl.verify(log))
    # a recorder handed fewer rows than the review had is not closed as if complete
    short = tmp_path / "short.sqlite"
    recorder = dl.ReviewRecorder(short, notices, list(result.columns), agreement)
    recorder.add(0, result.iloc[:4])
    with pytest.raises(ValueError, match="4 of its 5 decisions"):
        recorder.close()
    assert "4 of 5 records, not sealed" in str(dl.verify(short))


def rewrite_chain(log: Path, key: dl.LogKey | None = None) -> None:
    """Recompute every batch's hash, every record's hash and every seal from what the log now
    holds, as whoever edits a log and covers the edit would: under ``key``, or plain sha256."""
    from compliance.decision_log.batches import stored_batch

    con = sqlite3.connect(log)
    batches = {}
    columns = ", ".join(dl.schema.HISTORYLESS_BATCH_COLUMNS)
    for batch_id, *fields, _, history in con.execute(f"SELECT {columns}, history FROM batches").fetchall():
        batches[batch_id] = stored_batch(*fields, history=history)
        con.execute("UPDATE batches SET hash = ? WHERE batch = ?", (batches[batch_id].hash, batch_id))
    prev, last = bytes(32), {}
    for first_seq, batch_id, *columns in con.execute(
        "SELECT first_seq, batch, notice_ids, events, outputs FROM chunks ORDER BY first_seq"
    ).fetchall():
        hashes = dl.record_chain(
            prev, first_seq, batch_id, batches[batch_id].hash, *(hash_chain._column_lines(c) for c in columns), key
        )
        con.execute("UPDATE chunks SET hashes = ? WHERE first_seq = ?", (hashes, first_seq))
        prev = last[batch_id] = hashes[-32:]
    for batch_id, n in con.execute("SELECT batch, count FROM seals").fetchall():
        con.execute(
            "UPDATE seals SET hash = ? WHERE batch = ?",
            (dl.seal_hash(last[batch_id], batch_id, batches[batch_id].hash, n, key), batch_id),
        )
    con.commit()
    con.close()


def three_batches(log: Path) -> None:
    """Records 1-3 (batch 1, A0-A2), 4-6 (batch 2, B0-B2), 7-9 (batch 3, C0-C2, chunks 7-8 and 9)."""
    dl.append(log, cheap_batch(3), [cheap_decisions(3, "A")])
    dl.append(log, cheap_batch(3), [cheap_decisions(3, "B")])
    dl.append(log, cheap_batch(3), [cheap_decisions(2, "C"), cheap_decisions(1, "C", 2)])


def test_expect_head_catches_a_deleted_or_rewritten_end(tmp_path, capsys):
    log = tmp_path / "log.sqlite"
    three_batches(log)
    head = dl.head(log)
    assert head == compliance.read_log(log)["hash"].iloc[-1] and dl.verify(log).head == head
    assert main(["log", "head", str(log)]) == 0 and capsys.readouterr().out == head + "\n"
    assert main(["log", "verify", str(log), "--expect-head", head]) == 0
    assert main(["log", "verify", str(log), "--expect-head", head.upper()]) == 0

    deleted = tmp_path / "deleted.sqlite"  # batch 3 removed, its chunks, row and seal
    shutil.copyfile(log, deleted)
    con = sqlite3.connect(deleted)
    con.executescript(
        "DELETE FROM chunks WHERE batch = 3; DELETE FROM batches WHERE batch = 3; DELETE FROM seals WHERE batch = 3;"
    )
    con.close()
    assert dl.verify(deleted).ok  # a shorter log, whole: only the head tells
    result = dl.verify(deleted, expect_head=head)
    assert not result.ok and result.findings == [
        f"HEAD: the expected head {head} is not in the chain, which ends at record 6 (hash {result.head}): "
        f"records were deleted from its end, or its end was rewritten"
    ]
    assert main(["log", "verify", str(deleted), "--expect-head", head]) == 1

    last_chunk = tmp_path / "last_chunk.sqlite"  # the last chunk only: batch 3 is short of its seal
    shutil.copyfile(log, last_chunk)
    con = sqlite3.connect(last_chunk)
    con.execute("DELETE FROM chunks WHERE first_seq = 9")
    con.commit()
    con.close()
    result = dl.verify(last_chunk, expect_head=head)
    assert any(f.startswith("SEAL: batch 3") and "2 of 3 records, sealed with 3" in f for f in result.findings)
    assert any(f.startswith("HEAD:") for f in result.findings)

    rewritten = tmp_path / "rewritten.sqlite"  # record 8 edited, the hashes after it recomputed
    shutil.copyfile(log, rewritten)
    edit_lines(rewritten, 7, "outputs", lambda lines: lines.__setitem__(1, b'["C1","deny"]'))
    rewrite_chain(rewritten)
    assert dl.verify(rewritten).ok
    assert compliance.read_log(rewritten)["output"][7] == {"notice_id": "C1", "outcome": "deny"}
    assert not dl.verify(rewritten, expect_head=head).ok

    dl.append(log, cheap_batch(1), [cheap_decisions(1, "D")])  # appended after the head
    result = dl.verify(log, expect_head=head)
    assert result.findings == ["HEAD: the chain goes on past the expected head (record 9): 1 record after it"]
    assert main(["log", "verify", str(log), "--expect-head", "abc"]) == 2
    assert "64 hex digits" in capsys.readouterr().err


KEY, OTHER_KEY = dl.LogKey(b"correct horse battery staple"), dl.LogKey(b"another key")


def test_a_keyed_log_rewritten_without_the_key_fails_with_it(tmp_path, agreement, monkeypatch, capsys):
    log = tmp_path / "log.sqlite"
    monkeypatch.setenv("COMPLIANCE_LOG_KEY", KEY.secret.decode())
    compliance.check(event("C1"), agreement, record=log)
    notices = pd.DataFrame([event("R1", quantity=400, form_144_filed_on=None), event("R2")]).astype(str)
    compliance.review(notices, agreement, record=log)
    con = sqlite3.connect(log)
    assert con.execute("SELECT key_id FROM batches").fetchall() == [(KEY.id,), (KEY.id,)]
    con.close()
    assert KEY.secret not in log.read_bytes() and KEY.secret.hex().encode() not in log.read_bytes()
    assert dl.verify(log, key=KEY).ok
    assert main(["log", "verify", str(log)]) == 0  # the key from the environment
    capsys.readouterr()

    # keyed records differ from the same records unkeyed: the key is in every hash
    plain = tmp_path / "plain.sqlite"
    shutil.copyfile(log, plain)
    rewrite_chain(plain, KEY)
    assert plain.read_bytes() == log.read_bytes()  # rewrite_chain is the writer's chain
    rewrite_chain(plain)
    assert plain.read_bytes() != log.read_bytes()

    # an edit covered by hashes recomputed without the key is found with it
    edit_lines(log, 2, "outputs", lambda lines: lines.__setitem__(0, lines[0].replace(b'"allow"', b'"deny"')))
    rewrite_chain(log)
    result = dl.verify(log, key=KEY)
    assert not result.intact and result.first_bad == 1 and "hash does not match" in result.problem
    assert main(["log", "verify", str(log)]) == 1

    # the same, the batches also marked unkeyed: named as records that are not keyed
    con = sqlite3.connect(log)
    con.execute("UPDATE batches SET key_id = NULL")
    con.commit()
    con.close()
    rewrite_chain(log)
    result = dl.verify(log, key=KEY)
    assert result.intact and result.findings == [
        "NOT KEYED: 3 records, in batches 1-2: not keyed, and COMPLIANCE_LOG_KEY is set"
    ]
    assert dl.verify(log).ok  # without the key, an unkeyed log as any other

    # keyed with another key: named as such, with both key ids
    other = tmp_path / "other.sqlite"
    monkeypatch.setenv("COMPLIANCE_LOG_KEY", OTHER_KEY.secret.decode())
    compliance.check(event("C1"), agreement, record=other)
    result = dl.verify(other, key=KEY)
    assert result.findings == [
        f"KEYED DIFFERENTLY: 1 record, in batch 1: keyed with key id {OTHER_KEY.id}, "
        f"not with the key COMPLIANCE_LOG_KEY holds (key id {KEY.id})"
    ]
    assert dl.verify(other, key=OTHER_KEY).ok


def test_keyed_records_without_the_key_are_reported_not_checked(tmp_path, agreement, monkeypatch, capsys):
    log = tmp_path / "log.sqlite"
    monkeypatch.setenv("COMPLIANCE_LOG_KEY", KEY.secret.decode())
    compliance.check(event("C0"), agreement, record=log)  # batches 1 and 2, keyed
    compliance.check(event("C1"), agreement, record=log)
    monkeypatch.delenv("COMPLIANCE_LOG_KEY")
    compliance.check(event("C2"), agreement, record=log)  # batch 3, not keyed
    result = dl.verify(log)
    assert result.intact and result.records == 3 and not result.ok
    assert result.findings == [
        f"NOT CHECKED: 2 records, in batches 1-2: keyed, not checked (key id {KEY.id}; COMPLIANCE_LOG_KEY is not set)"
    ]
    assert main(["log", "verify", str(log)]) == 1
    assert "NOT CHECKED" in capsys.readouterr().out
    # the unkeyed record after keyed ones is still checked, from the stored hash before it
    edit_lines(log, 3, "outputs", lambda lines: lines.__setitem__(0, lines[0].replace(b'"C2"', b'"CX"')))
    assert dl.verify(log).first_bad == 3
    assert compliance.read_log(log)["batch_state"].tolist() == ["sealed"] * 3
    # a key variable set to nothing is refused, not taken for no key
    monkeypatch.setenv("COMPLIANCE_LOG_KEY", "")
    with pytest.raises(dl.LogError, match="COMPLIANCE_LOG_KEY is set but empty"):
        compliance.check(event("C3"), agreement, record=log)
    assert main(["log", "verify", str(log)]) == 2


@needs_c
@pytest.mark.parametrize("secret", [b"k", b"x" * 64, b"y" * 65, bytes(range(256))])  # HMAC's block is 64 bytes
def test_c_keyed_chain_equals_the_python_hmac_chain(secret):
    import hashlib
    import hmac
    import random

    rng = random.Random(len(secret))
    key = dl.LogKey(secret)
    columns = [pa.array(random_lines(rng, 50, 0.2), type=pa.string()) for _ in range(3)]
    texts = dl.record_texts(3, 2, "e" * 64, *columns)
    prev, expected = bytes(32), b""
    for text in texts:  # the reference: Python's hmac, record by record
        prev = hmac.new(secret, prev + text, hashlib.sha256).digest()
        expected += prev
    assert dl.record_chain(bytes(32), 3, 2, "e" * 64, *columns, key) == expected
    assert dl.chain_hashes(bytes(32), texts, key) == expected
    assert dl.record_chain(bytes(32), 3, 2, "e" * 64, *columns) != expected


INTERRUPTED_REVIEW = textwrap.dedent("""
    import sys, time
    import compliance
    import compliance.running.review as review_module
    from compliance.contract.synthetic import synthetic_notices
    review_module.RECORDED_OUTPUT_CHUNK = 1000
    review_frame = review_module.review_frame

    def slow(notices, agreement, rules_dir, progress, on_output, *args):
        def hand(start, output):
            on_output(start, output)
            time.sleep(120)                          # SIGINT arrives here, after the first run
        return review_frame(notices, agreement, rules_dir, progress, hand, *args)

    review_module.review_frame = slow
    compliance.review(synthetic_notices(3000, seed=5), record=sys.argv[1])
""")


def test_a_review_stopped_by_sigint_leaves_its_batch_unsealed(tmp_path):
    log = tmp_path / "log.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_REVIEW, str(log)],
        stderr=subprocess.DEVNULL,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    deadline = time.monotonic() + 60
    while count(log) < 1000 and time.monotonic() < deadline:
        assert proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) != 0
    result = dl.verify(log)
    assert result.intact and result.records == 1000
    assert "1,000 of 3,000 records, not sealed" in str(result) and not result.ok
    assert replay(log).left_out == {1: 1000}


@pytest.mark.parametrize(
    "cell", [Unshowable(), nested(5_000), {"a": Unshowable()}], ids=["repr raises", "5,000 deep", "dict of it"]
)
def test_cells_that_cannot_be_encoded_are_recorded_as_their_error_quotes_them(tmp_path, agreement, cell):
    event = {
        "notice_id": "N1",
        "investor": "Papell Holdings Limited",
        "security": "shares",
        "quantity": cell,
        "sale_date": "2003-02-03",
        "route": "rule_144",
        "affiliate": False,
    }
    log = tmp_path / "log.sqlite"
    decision = compliance.check(event, agreement, record=log)
    result = compliance.review(
        pd.DataFrame([event, {**event, "notice_id": "N2", "quantity": 100}]), agreement, record=log
    )
    assert decision.outcome == "error" and "quantity" in decision.error
    assert list(result["outcome"].iloc[:1]) == ["error"] and len(result) == 2
    assert dl.verify(log).ok
    recorded = dl.read_log(log)
    assert len(recorded) == 3
    assert "cannot be shown" in json.dumps(recorded["event"].iloc[0]["quantity"])
