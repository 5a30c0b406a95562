"""JSON Schemas of the contracts, generated from the models into schemas/.

python -m processor.models.schemas          write schemas/*.json
python -m processor.models.schemas --check  exit 1 when schemas/ differs from the models
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from processor.models import Claim, DeadLetter, ScrubResult

SCHEMAS: dict[str, type[BaseModel]] = {
    "claim-event.v1.schema.json": Claim,
    "scrub-result.v1.schema.json": ScrubResult,
    "dead-letter.v1.schema.json": DeadLetter,
}
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def generate() -> dict[str, dict[str, Any]]:
    out = {}
    for filename, model in SCHEMAS.items():
        schema = model.model_json_schema(
            mode="serialization" if model is not Claim else "validation"
        )
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"claims-processor/{filename}"
        out[filename] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for filename, schema in generate().items():
        path = SCHEMA_DIR / filename
        text = render(schema)
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(filename)
        else:
            path.write_text(text)
    if stale:
        print(
            f"schemas out of date: {', '.join(stale)}; run `python -m processor.models.schemas`",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
