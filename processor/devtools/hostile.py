"""Hostile input: seeded mutations of real claims, for the tests that prove one message never
stops the stream (`claims-processor scrub` and the worker).

`hostile_messages(seed, n, claims)` yields `n` messages, each a claim of `claims` (the demo
file's by default) changed by one to three mutations: wrong types, huge and tiny numbers
(integers beyond 64 bits, `1e308`, `1e400`, `1e-400`, `NaN` / `Infinity` literals), deleted
and extra fields, long lists, odd strings (lone surrogate escapes, control characters,
right-to-left marks, very long text) and dates, deep nesting; or the message's bytes
truncated, flipped or made non-UTF-8. Same seed, same messages. A message is at most
MAX_MESSAGE_BYTES (longer ones are truncated: Kafka's default limit is 1 MB).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from processor.devtools.samples import demo_claims

Document = dict[str, Any]

HUGE_NUMBERS: tuple[Any, ...] = (
    10**30,
    -(10**30),
    2**64,
    2**63,
    -(2**63) - 1,
    10**400,
    1e308,
    -1e308,
    5e-324,
    1e-300,
    0,
    -0.0,
    2**53 + 1,
)
# Literals json.dumps cannot write from a value: spliced in as text.
RAW_NUMBERS = ("1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "1E+999999999")
ODD_STRINGS = (
    "",
    " ",
    "\u0000",
    "\ud800",  # a lone surrogate: json.dumps writes it as an escape
    "\udfff\ud800",
    "\u202e\u0645\u0631\u062d\u0628\u0627",
    "\U0001f9fe" * 40,
    "x" * 20_000,
    "9" * 400,
    "../../etc/passwd",
    "'; DROP TABLE claims; --",
    "0000-00-00",
    "2024-02-30",
    "9999-12-31",
    "0001-01-01",
    "2024-13-01",
    "2024-11-18T25:00:00Z",
    "1e308",
    "NaN",
    "-Infinity",
)
WRONG_TYPES: tuple[Any, ...] = (None, True, [], {}, "1", 1, 1.5, [None], {"a": 1})


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for name, item in value.items():
            out += _paths(item, (*prefix, name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        doc = doc[step]
    return doc


def _containers(doc: Document) -> list[Any]:
    found: list[Any] = [doc]
    for path in _paths(doc):
        value = _parent(doc, (*path, None))
        if isinstance(value, dict | list):
            found.append(value)
    return found


class _Raw:
    """A number literal spliced into the document's text after json.dumps."""

    def __init__(self, text: str) -> None:
        self.text = text


def _set(rng: random.Random, doc: Document, value: Any) -> None:
    paths = _paths(doc)
    if not paths:
        return
    path = rng.choice(paths)
    _parent(doc, path)[path[-1]] = value


def _wrong_type(rng: random.Random, doc: Document) -> None:
    _set(rng, doc, copy.deepcopy(rng.choice(WRONG_TYPES)))


def _huge_number(rng: random.Random, doc: Document) -> None:
    choice = rng.random()
    value: Any = rng.choice(HUGE_NUMBERS) if choice < 0.6 else _Raw(rng.choice(RAW_NUMBERS))
    if rng.random() < 0.5:
        # where the reports came from: a charge, units, a pass-through field
        line = rng.choice(doc.get("lines") or [{}]) if isinstance(doc.get("lines"), list) else {}
        if isinstance(line, dict):
            line[rng.choice(("charge", "units", "note", "line_number"))] = value
            return
    if isinstance(doc.get("payer"), dict) and rng.random() < 0.5:
        doc["payer"]["note"] = value
        return
    _set(rng, doc, value)


def _delete_field(rng: random.Random, doc: Document) -> None:
    paths = [p for p in _paths(doc) if isinstance(_parent(doc, p), dict)]
    if paths:
        path = rng.choice(paths)
        del _parent(doc, path)[path[-1]]


def _extra_field(rng: random.Random, doc: Document) -> None:
    target = rng.choice([c for c in _containers(doc) if isinstance(c, dict)])
    nested: Any = copy.deepcopy(rng.choice(ODD_STRINGS + HUGE_NUMBERS + WRONG_TYPES))
    if rng.random() < 0.2:
        for _ in range(rng.randint(10, 150)):  # deep nesting
            nested = [nested] if rng.random() < 0.5 else {"n": nested}
    target[rng.choice(("note", "x-extra", "", "\u00e9t\u00e9", "enrichment", "lines"))] = nested


def _long_list(rng: random.Random, doc: Document) -> None:
    lists = [c for c in _containers(doc) if isinstance(c, list) and c]
    if lists:
        target = rng.choice(lists)
        target.extend([target[0]] * rng.choice((3, 12, 50, 51, 300)))
    elif isinstance(doc.get("lines"), list):
        doc["lines"] = doc["lines"] * 60


def _odd_string(rng: random.Random, doc: Document) -> None:
    strings = [p for p in _paths(doc) if isinstance(_parent(doc, (*p, None)), str)]
    if strings:
        path = rng.choice(strings)
        _parent(doc, path)[path[-1]] = rng.choice(ODD_STRINGS)
    else:
        _set(rng, doc, rng.choice(ODD_STRINGS))


def _odd_date(rng: random.Random, doc: Document) -> None:
    dates = [
        p for p in _paths(doc) if str(p[-1]).endswith(("date", "_at", "date_end")) and len(p) > 0
    ]
    value = rng.choice((*ODD_STRINGS[11:17], "2024-11-18", "1900-01-01", "2099-01-01", 20241118))
    if dates:
        path = rng.choice(dates)
        _parent(doc, path)[path[-1]] = value


DOCUMENT_MUTATIONS: tuple[Callable[[random.Random, Document], None], ...] = (
    _wrong_type,
    _huge_number,
    _huge_number,
    _delete_field,
    _extra_field,
    _long_list,
    _odd_string,
    _odd_date,
)


def _dumps(doc: Any) -> bytes:
    raws: list[str] = []

    def default(value: Any) -> str:
        if isinstance(value, _Raw):
            raws.append(value.text)
            return f"@@RAW{len(raws) - 1}@@"
        raise TypeError(type(value).__name__)

    text = json.dumps(doc, default=default, separators=(",", ":"))
    for i, literal in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', literal)
    return text.encode("utf-8", "surrogatepass")


def _byte_mutation(rng: random.Random, raw: bytes) -> bytes:
    kind = rng.randrange(6)
    if not raw:
        return b"\xff"
    if kind == 0:  # truncated
        return raw[: rng.randrange(len(raw))]
    if kind == 1:  # bit flips
        data = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == 2:  # not UTF-8: Latin-1 or a stray continuation byte
        i = rng.randrange(len(raw))
        return raw[:i] + rng.choice((b"\xe9", b"\x80", b"\xed\xa0\x80", b"\xc3")) + raw[i:]
    if kind == 3:  # another encoding altogether
        return raw.decode("utf-8", "replace").encode(rng.choice(("utf-16", "utf-32")))
    if kind == 4:  # framing: two documents, a BOM, trailing garbage, an empty value
        return rng.choice((raw + raw, b"\xef\xbb\xbf" + raw, raw + b"}", b"", b"null", b"[]"))
    return bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))  # noise


MAX_MESSAGE_BYTES = 200_000  # well inside Kafka's 1 MB default, with room for the outputs


def _capped(raw: bytes) -> bytes:
    return raw if len(raw) <= MAX_MESSAGE_BYTES else raw[:MAX_MESSAGE_BYTES]  # truncated


def hostile_messages(
    seed: int, count: int, claims: Sequence[bytes] | None = None
) -> Iterator[bytes]:
    """`count` hostile messages from seeded mutations of `claims` (default: the demo
    file's readable claims). About one in six is a byte-level mutation, the rest one to
    three mutations of the claim document."""
    rng = random.Random(seed)
    documents = []
    for raw in claims if claims is not None else demo_claims():
        try:
            document = json.loads(raw)
        except ValueError:
            continue
        if isinstance(document, dict):
            documents.append(document)
    if not documents:
        raise ValueError("no readable claim to mutate")
    for _ in range(count):
        doc = json.loads(json.dumps(rng.choice(documents)))
        if rng.random() < 1 / 6:
            yield _capped(_byte_mutation(rng, _dumps(doc)))
            continue
        for _ in range(rng.choice((1, 1, 2, 3))):
            rng.choice(DOCUMENT_MUTATIONS)(rng, doc)
        yield _capped(_dumps(doc))
