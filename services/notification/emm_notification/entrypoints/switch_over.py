"""Rebuild the notification projections into a new database and switch the service over to it,
without losing an event or sending a message twice (emm_common.switch_over; docs/operations.md).

    python -m emm_notification.entrypoints.switch_over [--database emm_notification_v2] \\
        --stop "<stops the notification API and worker>" --start "<starts them>"

The projections (contacts, sessions, rosters, feedback) and the planned entries are rebuilt from
the worker's topics as emm_notification.entrypoints.rebuild does, and caught up to the live
worker's committed offsets, sending nothing. The notification log (what was sent, what is due)
cannot be rebuilt: it is copied from the live database while the service is stopped, so the
worker started on the new database goes on from where the stopped one was.
"""

from __future__ import annotations

from typing import Any

from emm_common.switch_over import ServiceRebuild, SwitchReport, command_line
from emm_notification.adapters.planned_notifications import COLLECTION
from emm_notification.config import Settings
from emm_notification.entrypoints.rebuild import PROJECTIONS, handlers_for
from emm_notification.entrypoints.worker import TOPICS


def service_rebuild(settings: Settings) -> ServiceRebuild:
    # The rebuild's handlers take the StagingStore's collection API, which a database has too.
    return ServiceRebuild(topics=tuple(TOPICS), staged=(*PROJECTIONS, COLLECTION), memory_handlers=handlers_for,
                          database_handlers=handlers_for, outbox_collections=lambda database: [database.notifications])


def main(argv: list[str] | None = None) -> SwitchReport:
    settings = Settings()
    return command_line(settings, service_rebuild(settings), argv)


if __name__ == "__main__":
    main()
