"""Synthetic claims for benchmarks: seeded and reproducible, codes drawn from the loaded
code sets, dates of service inside a window, about 15% with one deliberate error each.

    claims-processor generate 10000 [--seed 7] [--errors 0.15] > claims.jsonl
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import orjson

from processor.codesets import CodeSets
from processor.devtools.samples import EXTRA_RISKS, PAYERS, RISK_CHANGES
from processor.edits.provider import npi_with_check_digit

Claim = dict[str, Any]
_DEFAULT_START, _DEFAULT_END = date(2024, 10, 1), date(2024, 12, 31)
# Diagnoses the generator avoids (so that clean claims stay clean): sex- and age-specific
# chapters, external causes, manifestation codes.
_AVOID = (
    "O",
    "P",
    "V",
    "W",
    "X",
    "Y",
    "Z3",
    "N4",
    "N5",
    "N7",
    "N8",
    "N9",
    "C5",
    "C6",
    "D25",
    "D26",
    "D27",
    "D28",
    "D29",
)


class ClaimGenerator:
    def __init__(
        self,
        codesets: CodeSets,
        *,
        seed: int = 7,
        errors: float = 0.15,
        start: date = _DEFAULT_START,
        end: date = _DEFAULT_END,
    ) -> None:
        self.rng = random.Random(seed)
        self.errors = errors
        self.start, self.days = start, (end - start).days + 1
        middle = start + timedelta(days=self.days // 2)
        self.pools = self._pools(codesets, middle)

    def _pools(self, codesets: CodeSets, on: date) -> dict[str, list[str]]:
        def table(kind: str) -> dict[str, Any]:
            release = codesets.release_for(kind, on)  # type: ignore[arg-type]
            return release.entries if release is not None else {}

        pfs, hcpcs, mue, icd = (
            table("pfs"),
            table("hcpcs"),
            table("mue_practitioner"),
            table("icd10cm"),
        )
        add_on, noc = table("add_on"), table("hcpcs_noc")

        def billable_cpt(code: str) -> bool:
            fees = pfs.get(code)
            units = mue.get(code)
            return (
                fees is not None
                and fees.status == "A"
                and units is not None
                and units.value >= 1
                and code not in add_on
                and not ("54000" <= code <= "59899")
            )

        pools: dict[str, list[str]] = {
            "em": [
                c
                for c in ("99202", "99203", "99204", "99212", "99213", "99214", "99215")
                if billable_cpt(c)
            ],
            "procedure": sorted(
                c
                for c in pfs
                if c[:1].isdigit() and billable_cpt(c) and pfs[c].global_days in ("000", "010")
            )[:400],
            "test": sorted(
                c
                for c in pfs
                if c[:1].isdigit()
                and billable_cpt(c)
                and pfs[c].pc_tc == "1"
                and pfs[c].global_days == "XXX"
            )[:200],
            # Drugs: Level II J-codes priced as drugs (indicator 51), active, not NOC.
            "drug": sorted(
                c
                for c, e in hcpcs.items()
                if c.startswith("J")
                and e.pricing_indicator == "51"
                and not e.noc
                and c not in noc
                and e.status_on(on) == "active"
                and mue.get(c) is not None
                and mue[c].value >= 1
            )[:200],
            "dx": sorted(
                c
                for c, d in icd.items()
                if d.billable and not d.manifestation and not c.startswith(_AVOID)
            )[:3000],
        }
        for name, fallback in (
            ("em", ["99213"]),
            ("procedure", ["20610"]),
            ("test", ["71046"]),
            ("drug", ["J1885"]),
            ("dx", ["I10", "E119"]),
        ):
            if not pools[name]:
                pools[name] = fallback
        return pools

    def _line(self, number: int, code: str, dos: date, modifiers: list[str] | None = None) -> Claim:
        return {
            "line_number": number,
            "procedure_code": code,
            "modifiers": modifiers or [],
            "units": 1,
            "charge": f"{self.rng.randint(20, 400)}.00",
            "service_date": dos.isoformat(),
            "diagnosis_pointers": [1],
        }

    def claim(self, index: int) -> Claim:
        rng, pools = self.rng, self.pools
        dos = self.start + timedelta(days=rng.randrange(self.days))
        npi = npi_with_check_digit(f"1{rng.randrange(10**7, 10**8):08d}")
        kind = rng.random()
        lines: list[Claim] = []
        if kind < 0.45:  # office visit, maybe with tests
            lines.append(self._line(1, rng.choice(pools["em"]), dos))
            for code in rng.sample(pools["test"], rng.randrange(0, 2)):
                lines.append(self._line(len(lines) + 1, code, dos, ["26"]))
        elif kind < 0.75:  # a minor procedure with its visit
            lines.append(self._line(1, rng.choice(pools["em"]), dos, ["25"]))
            lines.append(self._line(2, rng.choice(pools["procedure"]), dos, ["RT"]))
        else:  # drugs given in the office
            lines.append(self._line(1, rng.choice(pools["em"]), dos, ["25"]))
            for code in rng.sample(pools["drug"], rng.randrange(1, min(7, len(pools["drug"]) + 1))):
                drug = self._line(len(lines) + 1, code, dos, ["JZ"])
                drug["drug"] = {"ndc": "00409-3795-01", "quantity": 1, "unit": "ML"}
                lines.append(drug)
        payer = PAYERS[index % len(PAYERS)]
        claim: Claim = {
            "schema_version": "1",
            "claim_id": f"GEN-{index:08d}",
            "frequency_code": "1",
            "received_at": f"{(dos + timedelta(days=rng.randrange(1, 25))).isoformat()}T12:00:00Z",
            "payer": dict(payer),
            "billing_provider": {"npi": npi, "taxonomy": "207Q00000X"},
            "rendering_provider": {"npi": npi},
            "patient": {
                "member_id": f"SYN{rng.randrange(10**9):09d}",
                "birth_date": (date(1940, 1, 1) + timedelta(days=rng.randrange(25000))).isoformat(),
                "sex": rng.choice("FM"),
            },
            "place_of_service": "11",
            "diagnoses": rng.sample(pools["dx"], rng.randrange(1, 4)),
            "lines": lines[:8],
        }
        if rng.random() < self.errors:
            change = rng.choice([*RISK_CHANGES, *EXTRA_RISKS.values()])
            change(claim, rng)
        return claim

    def messages(self, count: int) -> Iterator[bytes]:
        for index in range(1, count + 1):
            yield orjson.dumps(self.claim(index))
