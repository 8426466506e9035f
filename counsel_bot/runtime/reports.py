"""Reports users sent with their app's "Report" button, read from the homeserver's admin API
every half minute, passed on to the staff (`conversation/reports.py`) and then deleted
there: Synapse keeps the reason, the reporter's words, in plain text until then."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Protocol

from counsel_bot.core.clock import Clock
from counsel_bot.core.ids import EventID, RoomID
from homeserver_bridge.admin_api import EventReport
from homeserver_bridge.errors import AdminApiError

if TYPE_CHECKING:
    from counsel_bot.conversation.conductor import Conductor

log = logging.getLogger(__name__)
EVERY_SECONDS = 30.0


class ReportSource(Protocol):
    async def event_reports(self, limit: int = 100) -> list[EventReport]: ...

    async def delete_event_report(self, report_id: int) -> None: ...


async def pass_on_reports(source: ReportSource, conductor: Conductor, clock: Clock) -> int:
    """Each report to the staff (committed first), then deleted on the homeserver; the
    number passed on. A report whose deletion failed is not passed on twice."""
    reports = await source.event_reports()
    for report in reports:
        await conductor.report_received(report.report_id, RoomID(report.room_id),
                                        EventID(report.event_id), report.reason, clock.now(),
                                        received_ts=report.received_ts)
        await source.delete_event_report(report.report_id)
    return len(reports)


async def reports_loop(source: ReportSource, conductor: Conductor, clock: Clock,
                       stop: asyncio.Event, every: float = EVERY_SECONDS) -> None:
    while not stop.is_set():
        try:
            await pass_on_reports(source, conductor, clock)
        except AdminApiError as exc:
            # The status only: the answer's text may name rooms and users.
            log.warning("reports could not be read from the homeserver (%s); tried again "
                        "in %d s", exc.status, every)
        except Exception as exc:
            # A busy database or a failed crisis check must not end the reports until the
            # next restart (as with retention's rounds): a report not yet deleted on the
            # homeserver is read again next time, and one passed on is not passed on twice.
            # The kind only: an error's text may quote a reason.
            log.error("reports could not be passed on (%s); tried again in %d s",
                      type(exc).__name__, every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
