"""Progress lines (crawler/run/progress.py): "N of M" for every backfill, a smoothed time left that
never reads 0:00 while work remains."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from crawler import settings as defaults
from crawler.run.progress import Eta, Measure, format_left, measure
from spiders.options import CrawlOptions
from tests.crawling import run_crawl
from tests.replica import Replica
from tests.replica.archives import ArchiveReplica


class Stats(dict):
    def get_value(self, key, default=None):
        return self.get(key, default)


def _etas(samples: list[tuple[float, float]], total: float) -> list[float | None]:
    eta = Eta()
    return [eta.update(t, Measure(done, total, "articles")) for t, done in samples]


def test_a_steady_rate_gives_the_plain_estimate():
    # 10 articles a minute, 100 to do.
    etas = _etas([(60 * i, 10 * i) for i in range(1, 6)], 100)
    assert etas == pytest.approx([540, 480, 420, 360, 300])


def test_one_burst_or_one_stall_moves_the_estimate_less_than_the_raw_rate_would():
    steady = [(60 * i, 10 * i) for i in range(1, 6)]  # 50 done at 5 min
    burst = _etas([*steady, (360, 100)], 1000)  # 50 in one minute: a listing of captures at once
    raw = (1000 - 100) / (50 / 60)
    assert burst[-2] == pytest.approx((1000 - 50) / (10 / 60))
    assert raw < burst[-1] < burst[-2]  # it falls, but not to the raw estimate
    assert burst[-1] > 2 * raw
    stall = _etas([*steady, (360, 50)], 1000)  # nothing in the last minute
    assert stall[-1] is not None and stall[-1] < 2 * stall[-2]  # slower, not "unknown"


def test_the_live_backfills_swinging_rates_give_a_steadier_estimate():
    """Rates as the issue's live backfill had them (its ETA swung 0:32 -> 1:03 -> 0:51 ->
    1:07 -> 0:26): the smoothed estimate moves by less than the raw one at each line."""
    per_minute = [30, 12, 20, 10, 40, 25, 30]
    samples, done = [], 0.0
    for i, rate in enumerate(per_minute, start=1):
        done += rate
        samples.append((60.0 * i, done))
    total = 400
    smoothed = _etas(samples, total)
    raw = [(total - d) / (r / 60) for (_, d), r in zip(samples, per_minute, strict=True)]
    for i in range(2, len(samples)):
        assert abs(smoothed[i] - smoothed[i - 1]) < abs(raw[i] - raw[i - 1])


@pytest.mark.parametrize(("seconds", "work_left", "shown"), [
    (None, True, "unknown"),
    (0.0, True, "0:01"),  # work remains: never 0:00
    (12.0, True, "0:01"),
    (59.0, True, "0:01"),
    (61.0, True, "0:02"),  # rounded up
    (3600.0, True, "1:00"),
    (3 * 3600 + 7 * 60, True, "3:07"),
    (0.0, False, "0:00"),  # done
])
def test_format_left(seconds, work_left, shown):
    assert format_left(seconds, work_left) == shown


def test_never_zero_while_work_remains_to_the_end():
    eta = Eta()
    shown = []
    for i in range(1, 40):
        done = min(i * 3, 100)
        left = eta.update(10.0 * i, Measure(done, 100, "articles"))
        shown.append((done, format_left(left, done < 100)))
    assert all(text != "0:00" for done, text in shown if done < 100)
    assert shown[-1] == (100, "0:00")


def test_a_new_phase_starts_its_own_rate():
    eta = Eta()
    assert eta.update(60, Measure(5, 12, "wayback index queries answered", final=False)) is None
    # The capture phase began after the last line: 30 articles in the 60 s since.
    left = eta.update(120, Measure(30, 330, "articles from wayback"))
    assert left == pytest.approx(300 / 0.5)


def _options(**args: str) -> CrawlOptions:
    return CrawlOptions.parse(**args)


def test_measure_of_each_kind_of_run():
    assert measure(Stats(), _options()) is None  # nightly: no M
    live = Stats({"archive/progress/newest_date": "2020-01-31",
                  "archive/progress/reached_date": "2020-01-22"})
    m = measure(live, _options(mode="backfill", since="2020-01-01"))
    assert (m.done, m.total, m.text()) == (10, 31, "10 of 31 days of the range walked (32.3%)")
    index = Stats({"archive/sources/wayback/index_requests": 7,
                   "archive/sources/wayback/index_answered": 5})
    m = measure(index, _options(mode="backfill", source="wayback"))
    assert m.text() == "5 of 7 wayback index queries answered (71.4%; more may be found)"
    assert not m.final
    cc = Stats({"archive/sources/commoncrawl/index_requests": 9,
                "archive/sources/commoncrawl/index_answered": 3,
                "archive/sources/commoncrawl/index_sized": 1})
    assert measure(cc, _options(mode="backfill", source="commoncrawl")).final
    fetching = Stats({"archive/sources/wayback/articles_wanted": 5000,
                      "archive/sources/wayback/articles_done": 1234})
    assert measure(fetching, _options(mode="backfill", source="wayback")).text() == \
        "1,234 of 5,000 articles from wayback (24.7%)"


PROGRESS = re.compile(r"progress: (?P<what>.*?), \d+ archived, .* time left (?P<left>\S+)$")


def _progress_lines(stderr: str) -> list[re.Match]:
    return [m for line in stderr.splitlines() if (m := PROGRESS.search(line))]


@pytest.mark.slow
@pytest.mark.parametrize("source", ["wayback", "commoncrawl"])
def test_a_web_archive_backfill_logs_n_of_m(tmp_path, source):
    with ArchiveReplica(80, 5) as archives:
        done = run_crawl("https://baonamdinh.vn", tmp_path, "mode=backfill", f"source={source}",
                         settings={**archives.settings(),
                                   "SITE_HOST_ALIASES": ",".join(defaults.SITE_HOST_ALIASES),
                                   "WAYBACK_RATE": "25", "COMMONCRAWL_RATE": "25",
                                   "WAYBACK_PAGE_SIZE": "20", "REPORT_PROGRESS_INTERVAL": "0.5"})
    wanted = int(re.search(r"(\d+) not archived yet", done.stderr).group(1))
    lines = _progress_lines(done.stderr)
    fetching = [m for m in lines if f"of {wanted:,} articles from {source}" in m["what"]]
    assert len(fetching) >= 3, done.stderr[-3000:]
    assert all(m["left"] != "0:00" for m in fetching if not m["what"].startswith(f"{wanted:,} "))
    assert any(re.match(r"\d+:\d\d$", m["left"]) for m in fetching)
    if source == "commoncrawl":  # many index pages: the index phase has lines of its own
        assert any("commoncrawl index queries answered" in m["what"] for m in lines)


@pytest.mark.slow
def test_a_live_backfill_logs_days_walked_of_the_range(tmp_path):
    with Replica(articles=120, seed=4, crawl_delay=0,
                 now=dt.datetime(2025, 6, 28, 23, 0, tzinfo=dt.timezone.utc)) as site:
        done = run_crawl(site.url, tmp_path, "mode=backfill", "since=2015-01-01",
                         settings={"DOWNLOAD_DELAY": "0.03", "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
                                   "REPORT_PROGRESS_INTERVAL": "0.5"})
    lines = [m for m in _progress_lines(done.stderr) if "days of the range walked" in m["what"]]
    assert len(lines) >= 3, done.stderr[-3000:]
    assert all(re.search(r"\d of [\d,]+ days", m["what"]) for m in lines)
    assert any(re.match(r"\d+:\d\d$", m["left"]) for m in lines)
    assert all(m["left"] != "0:00" for m in lines)
