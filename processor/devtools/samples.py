"""The demo's sample claims: about 200 varied claims, seeded and reproducible.

Synthetic patients only (member ids SYN..., no names). Clean claims follow the coding
rules of the sample code sets (modifier 25 on an E/M billed with a minor procedure, NDC and
JZ on single-dose drugs, NU and an ordering provider on DME); the rest carry one
deliberate problem each, and a few lines are not readable claims at all.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import orjson

from processor.edits.provider import npi_with_check_digit

Claim = dict[str, Any]


PAYERS = [
    {"payer_id": "MCR-J15", "name": "Medicare Part B", "plan_type": "medicare"},
    {"payer_id": "MA-HUMX", "name": "Advantage Health", "plan_type": "medicare_advantage"},
    {"payer_id": "MCD-OH", "name": "State Medicaid", "plan_type": "medicaid"},
    {"payer_id": "COM-BCX", "name": "Commercial PPO", "plan_type": "commercial"},
]
# Clean visit patterns: (lines, diagnoses). Codes and modifiers fit the sample code sets.
VISITS: list[tuple[list[dict[str, Any]], list[str]]] = [
    ([{"procedure_code": "99213", "charge": "110.00"}], ["I10", "E78.5"]),
    ([{"procedure_code": "99214", "charge": "165.00"}], ["E11.9", "I10"]),
    (
        [
            {"procedure_code": "99214", "modifiers": ["25"], "charge": "165.00"},
            {"procedure_code": "20610", "modifiers": ["RT"], "charge": "140.00"},
        ],
        ["M17.11"],
    ),
    (
        [
            {"procedure_code": "99213", "charge": "110.00"},
            {"procedure_code": "36415", "charge": "12.00"},
            {"procedure_code": "85025", "charge": "28.00"},
            {"procedure_code": "80053", "charge": "45.00"},
        ],
        ["E11.65", "E78.5"],
    ),
    ([{"procedure_code": "93000", "charge": "60.00"}], ["R07.9"]),
    (
        [
            {"procedure_code": "97110", "units": 2, "charge": "90.00"},
            {"procedure_code": "97140", "modifiers": ["59"], "charge": "45.00"},
        ],
        ["M54.50"],
    ),
    (
        [
            {"procedure_code": "99212", "charge": "75.00"},
            {
                "procedure_code": "J1885",
                "modifiers": ["JZ"],
                "units": 2,
                "charge": "18.00",
                "drug": {"ndc": "00409-3795-01", "quantity": 1, "unit": "ML"},
            },
            {"procedure_code": "96372", "charge": "40.00"},
        ],
        ["R10.9"],
    ),
    ([{"procedure_code": "71046", "charge": "85.00"}], ["J06.9"]),
    (
        [
            {"procedure_code": "G0008", "charge": "25.00"},
            {"procedure_code": "90686", "charge": "30.00"},
        ],
        ["Z23"],
    ),
]


def _base(rng: random.Random, index: int) -> Claim:
    payer = PAYERS[index % len(PAYERS)]
    dos = date(2024, 10, 1) + timedelta(days=rng.randrange(0, 75))
    received = dos + timedelta(days=rng.randrange(1, 20))
    npi = npi_with_check_digit(f"1{rng.randrange(10**7, 10**8):08d}")
    lines, diagnoses = VISITS[rng.randrange(len(VISITS))]
    claim: Claim = {
        "schema_version": "1",
        "claim_id": f"DEMO-{index:05d}",
        "frequency_code": "1",
        "received_at": f"{received.isoformat()}T{rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:00Z",
        "payer": dict(payer),
        "billing_provider": {
            "npi": npi,
            "taxonomy": "207Q00000X",
            "tax_id": f"{rng.randrange(10**8, 10**9)}",
        },
        "rendering_provider": {"npi": npi},
        "referring_provider": None,
        "patient": {
            "member_id": f"SYN{rng.randrange(10**8, 10**9)}",
            "birth_date": (date(1940, 1, 1) + timedelta(days=rng.randrange(0, 25000))).isoformat(),
            "sex": rng.choice(["F", "M"]),
        },
        "place_of_service": "11",
        "diagnoses": list(diagnoses),
        "prior_authorization": None,
        "lines": [],
    }
    for number, line in enumerate(lines, start=1):
        claim["lines"].append(
            {
                "line_number": number,
                "procedure_code": line["procedure_code"],
                "modifiers": list(line.get("modifiers", [])),
                "units": line.get("units", 1),
                "charge": line["charge"],
                "service_date": dos.isoformat(),
                "diagnosis_pointers": [1] if len(diagnoses) == 1 else [1, 2],
                **({"drug": line["drug"]} if "drug" in line else {}),
            }
        )
    return claim


def _dme(rng: random.Random, index: int) -> Claim:
    claim = _base(rng, index)
    claim["billing_provider"]["taxonomy"] = "332B00000X"
    claim["referring_provider"] = {
        "npi": npi_with_check_digit(f"1{rng.randrange(10**7, 10**8):08d}")
    }
    claim["place_of_service"] = "12"
    claim["diagnoses"] = ["S93.401A"]
    dos = claim["lines"][0]["service_date"]
    claim["lines"] = [
        {
            "line_number": 1,
            "procedure_code": "E0114",
            "modifiers": ["NU"],
            "units": 1,
            "charge": "65.00",
            "service_date": dos,
            "diagnosis_pointers": [1],
        }
    ]
    return claim


def _with(change: Callable[[Claim, random.Random], None]) -> Callable[[random.Random, int], Claim]:
    def make(rng: random.Random, index: int) -> Claim:
        claim = _base(rng, index)
        change(claim, rng)
        return claim

    return make


def _bad_billing_npi(c: Claim, r: random.Random) -> None:
    npi = c["billing_provider"]["npi"]
    c["billing_provider"]["npi"] = npi[:-1] + str((int(npi[-1]) + 1) % 10)


def _bad_rendering_npi(c: Claim, r: random.Random) -> None:
    c["lines"][0]["rendering_provider"] = {"npi": "1234567890"}


def _dos_after_receipt(c: Claim, r: random.Random) -> None:
    c["received_at"] = c["lines"][0]["service_date"] + "T00:00:00Z"
    later = date.fromisoformat(c["lines"][0]["service_date"]) + timedelta(days=3)
    c["lines"][0]["service_date"] = later.isoformat()


def _end_before_start(c: Claim, r: random.Random) -> None:
    start = date.fromisoformat(c["lines"][0]["service_date"])
    c["lines"][0]["service_date_end"] = (start - timedelta(days=2)).isoformat()


def _zero_units(c: Claim, r: random.Random) -> None:
    c["lines"][-1]["units"] = 0


def _negative_charge(c: Claim, r: random.Random) -> None:
    c["lines"][0]["charge"] = "-25.00"


def _bad_code(c: Claim, r: random.Random) -> None:
    c["lines"][0]["procedure_code"] = r.choice(["9921", "W1234", "99213A", "j3301"])


def _bad_modifier(c: Claim, r: random.Random) -> None:
    c["lines"][0]["modifiers"] = r.choice([["2"], ["RT", "RT"], ["25X"]])


def _replacement_without_original(c: Claim, r: random.Random) -> None:
    c["frequency_code"] = r.choice(["7", "8"])


def _bad_pos(c: Claim, r: random.Random) -> None:
    c["place_of_service"] = r.choice(["00", "98", "30"])


def _no_pointer(c: Claim, r: random.Random) -> None:
    c["lines"][0]["diagnosis_pointers"] = []


def _pointer_past_end(c: Claim, r: random.Random) -> None:
    c["lines"][-1]["diagnosis_pointers"] = [len(c["diagnoses"]) + 1]


def _after_the_code_sets(c: Claim, r: random.Random) -> None:
    # Past the sample code sets' period: still clean, with the STALE-CODESETS info finding.
    for line in c["lines"]:
        line["service_date"] = "2025-01-15"
    c["received_at"] = "2025-01-20T10:00:00Z"


def _vendor_fields(c: Claim, r: random.Random) -> None:
    c["x_billing_system"] = {"batch": f"B{r.randrange(1000)}", "site": "north"}
    c["lines"][0]["x_line_ref"] = f"L-{r.randrange(10**6)}"


def _lines(c: Claim, *specs: tuple[str, list[str], Any]) -> None:
    """Replace the claim's lines: (code, modifiers, units), same date of service."""
    dos = c["lines"][0]["service_date"]
    c["lines"] = [
        {
            "line_number": n,
            "procedure_code": code,
            "modifiers": mods,
            "units": units,
            "charge": "120.00",
            "service_date": dos,
            "diagnosis_pointers": [1],
        }
        for n, (code, mods, units) in enumerate(specs, start=1)
    ]


def _payer(c: Claim, index: int) -> None:
    c["payer"] = dict(PAYERS[index])


def _supplier(c: Claim) -> None:
    # DME is billed by DME suppliers (taxonomy 332B...): the practitioner MUE table gives
    # these codes 0 units.
    c["billing_provider"]["taxonomy"] = "332B00000X"
    c["place_of_service"] = "12"


def _referred(c: Claim) -> None:
    _supplier(c)
    c["referring_provider"] = {"npi": "1234567893"}


# One maker per finding the catalogue can raise on one claim: code validity, diagnosis,
# modifiers, NCCI/MUE/add-on, drugs and DME, timely filing. Codes and facts are the sample
# code sets' (real CMS values).
Step = Callable[[Claim], object]


def _do(*steps: Step) -> Callable[[Claim, random.Random], None]:
    def change(claim: Claim, rng: random.Random) -> None:
        for step in steps:
            step(claim)

    return change


def _medicare(c: Claim) -> None:
    _payer(c, 0)


EXTRA_RISKS: dict[str, Callable[[Claim, random.Random], None]] = {
    "CODE-INACTIVE": _do(lambda c: _lines(c, ("J1030", ["JZ"], 1))),  # terminated 2024-03-31
    "CAT-II": _do(
        lambda c: _lines(c, ("99213", [], 1), ("3074F", [], 1)),
        lambda c: c["lines"][1].update(charge="0.00"),
    ),
    "MCR-COVERAGE": _do(_medicare, lambda c: _lines(c, ("A0021", ["RH"], 1))),  # coverage I
    "PFS-BUNDLED": _do(_medicare, lambda c: _lines(c, ("99213", [], 1), ("99070", [], 1))),
    "NOC-DETAIL": _do(lambda c: _lines(c, ("J3490", ["JZ"], 1))),
    "DX-INVALID": _do(lambda c: c.update(diagnoses=["E11"])),  # a header in FY2025
    "DX-EXTERNAL-FIRST": _do(lambda c: c.update(diagnoses=["W19.XXXA", "S72.001A"])),
    "DX-MANIFESTATION-FIRST": _do(lambda c: c.update(diagnoses=["G63", "E11.9"])),
    "SEX-CONFLICT": _do(
        lambda c: c.update(diagnoses=["N40.0"]), lambda c: c["patient"].update(sex="F")
    ),
    "AGE-CONFLICT": _do(lambda c: c.update(diagnoses=["Z38.00"])),
    "MOD-UNKNOWN": _do(lambda c: c["lines"][0].update(modifiers=["ZZ"])),
    "MOD-LATERALITY": _do(_referred, lambda c: _lines(c, ("L1832", [], 1))),
    "DME-PURCHASE-RENTAL": _do(_referred, lambda c: _lines(c, ("E0601", [], 1))),
    "DRUG-WASTAGE": _do(_medicare, lambda c: _lines(c, ("J1885", [], 2))),
    "EM-MOD25": _do(lambda c: _lines(c, ("99214", [], 1), ("11042", [], 1))),
    "AMB-ORIGIN-DEST": _do(lambda c: _lines(c, ("A0427", [], 1))),
    "MOD-PCTC": _do(lambda c: _lines(c, ("99214", ["26"], 1))),
    "NCCI-PTP": _do(lambda c: _lines(c, ("20611", [], 1), ("20610", [], 1))),
    "MUE-LINE": _do(lambda c: _lines(c, ("A0425", ["RH"], 300))),
    "MUE-DAY": _do(
        lambda c: _lines(c, ("20610", ["RT"], 1), ("20610", ["LT"], 1), ("20610", ["59"], 1))
    ),
    "MUE-ZERO": _do(lambda c: _payer(c, 3), lambda c: _lines(c, ("99070", [], 1))),
    "ADDON-PRIMARY": _do(lambda c: _lines(c, ("99292", [], 1))),
    "NDC-REQUIRED": _do(lambda c: _payer(c, 2), lambda c: _lines(c, ("J1885", ["JZ"], 2))),
    "NDC-FORMAT": _do(
        lambda c: _lines(c, ("J1885", ["JZ"], 2)),
        lambda c: c["lines"][0].update(drug={"ndc": "12345", "quantity": 1, "unit": "ML"}),
    ),
    "DRUG-ADMIN-NO-DRUG": _do(lambda c: _lines(c, ("96372", [], 1))),
    "SUPPLY-CPT": _do(_medicare, lambda c: _lines(c, ("99070", [], 1))),
    "DME-ORDERING": _do(_supplier, lambda c: _lines(c, ("E0114", ["NU"], 1))),
    "TIMELY-FILING": _do(lambda c: c.update(received_at="2026-01-15T09:00:00Z")),
}


# One problem each, applied to an otherwise clean claim.
RISK_CHANGES: list[Callable[[Claim, random.Random], None]] = [
    _bad_billing_npi,
    _bad_rendering_npi,
    _dos_after_receipt,
    _end_before_start,
    _zero_units,
    _negative_charge,
    _bad_code,
    _bad_modifier,
    _replacement_without_original,
    _bad_pos,
    _no_pointer,
    _pointer_past_end,
]
RISKS: list[Callable[[random.Random, int], Claim]] = [_with(change) for change in RISK_CHANGES]

UNREADABLE: list[bytes] = [
    b"this is not json",
    b'{"claim_id": "DEMO-BROKEN-1", "lines": "not a list"}',
    b'["a", "list", "not", "an", "object"]',
    b'{"claim_id": "DEMO-BROKEN-2", "payer": {"payer_id": "MCR-J15", "plan_type": "medicare"}, '
    b'"billing_provider": {"npi": "1234567893"}, "patient": {"member_id": "SYN1", '
    b'"birth_date": "1950-13-40", "sex": "F"}, "place_of_service": "11", "diagnoses": ["I10"], '
    b'"lines": [{"line_number": 1, "procedure_code": "99213", "units": 1, "charge": "1", '
    b'"service_date": "2024-10-02", "diagnosis_pointers": [1]}]}',
    b'{"claim_id": "DEMO-BROKEN-3", "truncated": ',
    b"\xff\xfe\x00 not utf-8",
]


def _history_claims(rng: random.Random, start: int) -> list[Claim]:
    """Claims that show the history edits: the same claim sent twice, a service billed on a
    second claim, an NCCI pair and an MUE total split over claims. Each pair shares a patient;
    the first claim of a pair comes first in the file."""
    made: list[Claim] = []

    def patient_pair(first: Claim, second: Claim) -> None:
        second["patient"] = dict(first["patient"])
        second["payer"] = dict(first["payer"])
        second["billing_provider"] = dict(first["billing_provider"])
        second["rendering_provider"] = dict(first["rendering_provider"])
        for line in second["lines"]:
            line["service_date"] = first["lines"][0]["service_date"]
        made.extend([first, second])

    original = _base(rng, start)
    again = copy.deepcopy(original)
    again["lines"][0]["charge"] = "111.00"  # sent again, not a redelivery
    made.extend([original, again])
    a, b = _base(rng, start + 1), _base(rng, start + 2)
    _lines(a, ("99213", [], 1))
    _lines(b, ("99213", [], 1))
    patient_pair(a, b)
    c, d = _base(rng, start + 3), _base(rng, start + 4)
    _lines(c, ("20611", [], 1))
    _lines(d, ("20610", [], 1))
    patient_pair(c, d)
    e, f = _base(rng, start + 5), _base(rng, start + 6)
    _lines(e, ("20610", ["RT", "XS"], 2))
    _lines(f, ("20610", ["LT"], 1))
    patient_pair(e, f)
    return made


def demo_claims(count: int = 200, seed: int = 417) -> list[bytes]:
    """`count` messages: about 70% clean (some DME, some with vendor fields), one of each
    risk kind several times, and the unreadable messages, shuffled reproducibly."""
    rng = random.Random(seed)
    makers: list[Callable[[random.Random, int], Claim]] = []
    risky = len(RISKS) * 3 + len(EXTRA_RISKS)
    history = _history_claims(random.Random(seed + 1), 900)
    clean = count - risky - len(UNREADABLE) - len(history)
    for i in range(clean):
        if i % 10 == 0:
            makers.append(_dme)
        elif i % 25 == 1:
            makers.append(_with(_after_the_code_sets))
        elif i % 7 == 0:
            makers.append(_with(_vendor_fields))
        else:
            makers.append(_base)
    for i in range(len(RISKS) * 3):
        makers.append(RISKS[i % len(RISKS)])
    makers.extend(_with(change) for change in EXTRA_RISKS.values())
    rng.shuffle(makers)
    messages = [orjson.dumps(make(rng, index)) for index, make in enumerate(makers, start=1)]
    messages.extend(orjson.dumps(claim) for claim in history)
    for position, raw in zip(
        rng.sample(range(len(messages)), len(UNREADABLE)), UNREADABLE, strict=True
    ):
        messages.insert(position, raw)
    return messages


def write_demo_file(path: str, count: int = 200, seed: int = 417) -> None:
    with open(path, "wb") as handle:
        for raw in demo_claims(count, seed):
            handle.write(raw + b"\n")
