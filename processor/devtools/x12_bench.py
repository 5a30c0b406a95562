"""837P reading speed and memory: a generated file (one transaction set, the worst case for
memory) parsed in a fresh process, CPU time from time.process_time, peak RSS from getrusage.

    claims-processor bench-837p --claims 50000 [--file FILE]

Prints figures; nothing is asserted (the machine's other load moves them). Peak RSS is the
child's VmHWM: the interpreter and imports ("after imports") plus what parsing added."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from processor.models import Claim


def generate_837p(path: Path, count: int, *, seed: int = 7) -> int:
    """`count` synthetic claims in one interchange and one transaction set."""
    from processor.codesets import load_codesets
    from processor.devtools.generator import ClaimGenerator
    from processor.formats.x12.writer import write_837p

    generator = ClaimGenerator(load_codesets(), seed=seed, errors=0.0)

    def claims() -> Iterator[Claim]:
        for index in range(1, count + 1):
            document = generator.claim(index)
            document["received_at"] = "2025-01-06T09:30:00Z"
            yield Claim.model_validate(document)

    with path.open("w") as out:
        return write_837p(claims(), out, claims_per_set=count)


def _high_water_mb() -> float:
    """Peak RSS of this process image. Not getrusage's ru_maxrss: Linux carries that across
    exec, so a child would report its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(path: Path, validate: bool) -> dict[str, float]:
    from processor.formats.x12 import ReadClaim, Reader837

    baseline = _high_water_mb()
    started = time.process_time()
    claims = unreadable = 0
    with path.open("rb") as handle:
        for item in Reader837(handle):
            if isinstance(item, ReadClaim):
                claims += 1
                if item.error is not None:
                    unreadable += 1
                elif validate:
                    Claim.model_validate(item.document)
    cpu = time.process_time() - started
    peak = _high_water_mb()
    return {
        "claims": claims,
        "unreadable": unreadable,
        "cpu_s": cpu,
        "claims_per_cpu_s": claims / cpu if cpu else 0.0,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak,
    }


def run(count: int, file: Path | None) -> list[tuple[str, dict[str, float]]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = file or Path(tmp) / "bench.837"
        if file is None:
            generate_837p(path, count)
        rows = []
        for label, flag in (("tokenize + map", ""), ("tokenize + map + Claim model", "v")):
            command = [sys.executable, "-m", "processor.devtools.x12_bench", "--child", str(path)]
            out = subprocess.run(  # noqa: S603 (this interpreter, this module)
                command + ([flag] if flag else []), capture_output=True, text=True
            )
            if out.returncode != 0:
                raise RuntimeError(out.stderr.strip() or "the benchmark child failed")
            rows.append((label, json.loads(out.stdout)))
        rows[0][1]["file_mb"] = path.stat().st_size / 1e6
        return rows


def format_rows(rows: list[tuple[str, dict[str, float]]]) -> str:
    size = rows[0][1].get("file_mb", 0.0)
    lines = [f"837P file: {rows[0][1]['claims']:.0f} claims, {size:.1f} MB, one transaction set"]
    for label, row in rows:
        lines.append(
            f"  {label:30s} {row['claims_per_cpu_s']:8.0f} claims/CPU-s  "
            f"({row['cpu_s']:.2f} CPU-s)  peak RSS {row['peak_rss_mb']:.0f} MB "
            f"(after imports {row['baseline_rss_mb']:.0f} MB)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        print(json.dumps(_child(Path(sys.argv[2]), validate=len(sys.argv) > 3)))
    else:
        print(format_rows(run(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000, None)))
