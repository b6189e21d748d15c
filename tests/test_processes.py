import os
import threading

import pytest

from ovid.errors import CorpusError, OvidError
from ovid.processes import map_in_processes


def square_after(x, delay):
    import time

    time.sleep(delay)
    return x * x


def fail_on(x, bad):
    if x == bad:
        raise CorpusError(f"text {x}: bad")
    return x


def die(code):
    os._exit(code)


def test_results_come_back_in_call_order_whatever_finishes_first():
    calls = [(i, 0.05 * (5 - i)) for i in range(5)]
    assert map_in_processes(square_after, calls, processes=3) == [0, 1, 4, 9, 16]
    assert map_in_processes(square_after, [], processes=2) == []


def test_a_worker_error_reaches_the_parent_as_itself():
    with pytest.raises(CorpusError, match="text 2: bad"):
        map_in_processes(fail_on, [(i, 2) for i in range(4)], processes=2)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    with pytest.raises(OvidError, match="died without an answer \\(exit code 3\\)"):
        map_in_processes(die, [(3,)], processes=1)


def test_the_parent_starts_no_thread(monkeypatch):
    # ProcessPoolExecutor hangs for good when its feeder thread cannot start (an address-space cap)
    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert map_in_processes(square_after, [(2, 0), (3, 0)], processes=2) == [4, 9]
