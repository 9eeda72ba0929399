"""The session's calendar invitation as an email attachment. The event itself is the shared
`emm_common.calendar` one, so an invitation and a downloaded .ics are the same calendar event."""

from __future__ import annotations

from emm_notification.domain.channel import Attachment
from emm_notification.domain.messages import CalendarAction


def calendar_attachment(ics: bytes, method: CalendarAction) -> Attachment:
    """The .ics as an email attachment whose content type carries the iTIP method."""
    name = "cancellation.ics" if method is CalendarAction.CANCEL else "invitation.ics"
    return Attachment(name, f"text/calendar; method={method.value}; charset=UTF-8", ics)
