"""app.watch.waits.Jobs: a stop waits for every job in flight, one waiting behind another
included (a digest fired during a poll), not only for the first to end."""

from __future__ import annotations

import threading

from app.watch.waits import Jobs


def test_idle_only_once_the_job_waiting_behind_the_first_has_ended_too() -> None:
    jobs, lock = Jobs(), threading.Lock()
    poll_may_end, digest_waiting, digest_may_end = (threading.Event() for _ in range(3))

    def poll() -> None:
        with jobs.running(), lock:
            poll_may_end.wait(5)

    def digest() -> None:
        with jobs.running():
            digest_waiting.set()
            with lock:
                digest_may_end.wait(5)

    with lock:  # the poll holds the lock first, the digest queues behind it
        threads = [threading.Thread(target=poll), threading.Thread(target=digest)]
        for thread in threads:
            thread.start()
        assert digest_waiting.wait(5)
    assert not jobs.wait_idle(0.05)
    poll_may_end.set()  # the poll ends; the digest now runs
    assert not jobs.wait_idle(0.2)
    digest_may_end.set()
    assert jobs.wait_idle(5)
    for thread in threads:
        thread.join(5)


def test_idle_at_once_with_no_job() -> None:
    assert Jobs().wait_idle(0)
