"""The run report's coverage by month: what each source found, what the archive holds, the holes."""

from __future__ import annotations

import datetime as dt

from crawler.run.report import coverage_by_month


def test_a_backfill_lists_every_month_of_its_range_holes_included():
    found = {("wayback", "2019-01"): 3, ("commoncrawl", "2019-01"): 2, ("wayback", "2019-03"): 1}
    archived = {"2018-12": 9, "2019-01": 4, "2019-03": 1}
    table = coverage_by_month(found, archived, since=dt.date(2019, 1, 15),
                              until=dt.date(2019, 4, 2), backfill=True)
    assert table == {
        "2019-01": {"found": {"commoncrawl": 2, "wayback": 3}, "archived": 4},
        "2019-02": {"found": {"commoncrawl": 0, "wayback": 0}, "archived": 0},
        "2019-03": {"found": {"commoncrawl": 0, "wayback": 1}, "archived": 1},
        "2019-04": {"found": {"commoncrawl": 0, "wayback": 0}, "archived": 0},
    }


def test_an_open_ended_backfill_runs_from_the_first_to_the_last_month_known():
    table = coverage_by_month({("live", "2011-11"): 1}, {"2012-02": 2}, since=None, until=None,
                              backfill=True)
    assert list(table) == ["2011-11", "2011-12", "2012-01", "2012-02"]
    assert table["2012-02"] == {"found": {"live": 0}, "archived": 2}


def test_a_nightly_run_lists_only_the_months_it_found_something_in():
    table = coverage_by_month({("live", "2025-06"): 7}, {"2025-05": 40, "2025-06": 51},
                              since=None, until=None, backfill=False)
    assert table == {"2025-06": {"found": {"live": 7}, "archived": 51}}


def test_nothing_found_and_nothing_archived_is_an_empty_table():
    assert coverage_by_month({}, {}, since=None, until=None, backfill=True) == {}
