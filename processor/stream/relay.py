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
from processor.stream.app import Outbox, faust_app, in_batches, stop_now
from processor.topics import Role, TopicSpec, load_topics


def create_relay(settings: Settings, specs: dict[Role, TopicSpec]) -> faust.App:
    app = faust_app(settings)
    names = {role: spec.name for role, spec in specs.items()}

    async def transmit(topic: str, key: bytes | None, value: bytes) -> Any:
        return await app.producer.send(topic, key, value, None, None, None)

    def topic(role: Role) -> Any:
        return app.topic(
            names[role],
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=specs[role].partitions,
        )

    def relay(source: Role, target: Role) -> None:
        outbox = Outbox(names=names, transmit=transmit)

        async def forward(event: Any) -> None:
            await outbox.send(target, key=event.message.key, value=event.value)

        async def move(stream: Any) -> None:
            async for _ in in_batches(stream, settings, outbox, forward, stop_now):
                pass

        app.agent(topic(source), name=f"relay-{source}", concurrency=1)(move)

    relay("submitted", "enriched")
    relay("enriched", "clean")
    return app


def main() -> None:
    settings = load_settings(web_enabled=False)
    app = create_relay(settings, load_topics(settings))
    worker = faust.Worker(app, loglevel="warning", quiet=True, override_logging=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
