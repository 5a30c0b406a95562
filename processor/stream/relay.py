"""The worker's two agents with the scrubbing taken out, for `claims-processor bench`.

claims.submitted → claims.enriched → claims.clean, each message moved as it is, with the
worker's faust configuration, batching and delivery waits. What it takes per claim is what
faust's stream machinery and the Kafka client take here before any claim is read: the
ceiling of the worker on this machine. Run as `python -m processor.stream.relay` with the
worker's CLAIMS_* settings.
"""

from __future__ import annotations

from typing import Any

import faust

from processor.settings import Settings, load_settings
from processor.stream.delivery import (
    byte_topics,
    faust_app,
    in_batches,
    outbox_for,
    run_app,
    stop_now,
)
from processor.stream.topics import Role, TopicSpec, load_topics


def create_relay(settings: Settings, specs: dict[Role, TopicSpec]) -> faust.App:
    app = faust_app(settings)
    topics = byte_topics(app, specs, ("submitted", "enriched"))

    def relay(source: Role, target: Role) -> None:
        outbox = outbox_for(app, specs)

        async def forward(event: Any) -> None:
            await outbox.send(target, key=event.message.key, value=event.value)

        async def move(stream: Any) -> None:
            async for _ in in_batches(stream, settings, outbox, forward, stop_now):
                pass

        app.agent(topics[source], name=f"relay-{source}", concurrency=1)(move)

    relay("submitted", "enriched")
    relay("enriched", "clean")
    return app


def main() -> None:
    settings = load_settings(web_enabled=False)
    app = create_relay(settings, load_topics(settings))
    run_app(app, "warning")


if __name__ == "__main__":
    main()
