"""Timely filing (edits.md, "History")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from processor.edits.base import ClaimContext, Hit, check


@check("TIMELY-FILING")
def check_timely_filing(ctx: ClaimContext, params: Mapping[str, Any]) -> Iterator[Hit]:
    received = ctx.received_on
    limit = int(params["limit_days"])
    for line in ctx.lines:
        # Measured from the service's last day (the to-date when given).
        v = line.__dict__  # the fields, without pydantic's attribute hook on each
        last = v["service_date_end"] or v["service_date"]
        days = (received - last).days
        if days > limit:
            yield Hit(
                line.line_number,
                {
                    "line": line.line_number,
                    "received": received,
                    "days": days,
                    "dos": last,
                    "limit": limit,
                },
                {"received_on": str(received), "days": days, "limit_days": limit},
            )
