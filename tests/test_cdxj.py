"""The WARC index is sorted on disk (crawler/store/cdxj.py): the same file `sorted(set(...))` gave
when it was read whole, from a few lines in memory at a time."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from crawler.store.cdxj import sort_index


def _line(rng: random.Random) -> bytes:
    return (f"localhost:8765)/channel/{rng.randrange(5083, 5099)}/{rng.randrange(201101, 202507)}"
            f"/a-{rng.randrange(2_000_000, 2_600_000)} 2025063{rng.randrange(10)}120000 "
            f'{{"url": "http://x/{rng.random()}", "offset": "{rng.randrange(10**9)}"}}\n').encode()


@pytest.mark.parametrize("seed", range(6))
def test_the_index_is_sorted_as_a_whole_sort_would(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    earlier = sorted({_line(rng) for _ in range(rng.randrange(0, 400))})  # sorted by a past run
    appended = [_line(rng) for _ in range(rng.randrange(0, 400))]
    appended += rng.sample(earlier, min(len(earlier), 5)) + [b"\n", b"   \n"]  # repeats, blanks
    rng.shuffle(appended)
    data = b"".join(earlier + appended)
    if seed % 2 and data:
        data = data.rstrip(b"\n")  # a last line without its newline
    path = tmp_path / "index.cdxj"
    path.write_bytes(data)
    sort_index(path, chunk_lines=rng.choice((1, 7, 50, 1000)))
    expected = sorted({line for line in data.decode().splitlines() if line.strip()})
    assert path.read_text() == "".join(line + "\n" for line in expected)
    assert not [p for p in tmp_path.iterdir() if p.name != "index.cdxj"]  # no run file left


def test_a_sorted_index_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "index.cdxj"
    path.write_bytes(b"a 1 {}\nb 2 {}\n")
    before = path.stat().st_mtime_ns
    assert sort_index(path) is False
    assert path.stat().st_mtime_ns == before
