"""DataOperations helpers: generated ids and timestamps keep their exact formats."""

from __future__ import annotations

import os
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

from ampbase.engine.operations import _IDS, format_datetime


def test_generated_ids_are_unique_random_version_4_uuids() -> None:
    ids = [_IDS.uuid4() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:600]:  # crosses a refill of the 256-id pool
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    _IDS.uuid4()  # the pool now holds bytes a child must not reuse
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, _IDS.uuid4().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert uuid.UUID(child).version == 4
    assert child != _IDS.uuid4()


def _reference(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_timestamps_are_utc_with_truncated_milliseconds() -> None:
    rng = random.Random(7)
    zones = [UTC, None, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    for _ in range(2000):
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randrange(0, 2 * 10**17))
        zone = rng.choice(zones)
        moment = moment.replace(tzinfo=None) if zone is None else moment.astimezone(zone)
        assert format_datetime(moment) == _reference(moment)
    assert (
        format_datetime(datetime(2026, 11, 22, 5, 34, 15, 846999, tzinfo=UTC)) == "2026-11-22T05:34:15.846Z"
    )
