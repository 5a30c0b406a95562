from processor.devtools.local_stack import REPO
from processor.devtools.samples import demo_claims
from processor.edits import load_catalogue
from processor.history import InMemoryHistory
from processor.models import DeadLetter
from processor.scrubber import Source
from tests.factories import sample_scrubber


def test_committed_demo_file_is_the_generator_output():
    committed = (REPO / "examples" / "demo-claims.jsonl").read_bytes().splitlines()
    assert committed == demo_claims(), (
        "regenerate: python -c 'from processor.devtools.samples import "
        'write_demo_file; write_demo_file("examples/demo-claims.jsonl")\''
    )


def test_demo_claims_show_every_edit_and_the_dead_letter_kinds():
    history = InMemoryHistory()  # as `scrub` and the worker keep it
    outcomes = [
        sample_scrubber().scrub(raw, source=Source("demo", 0, n), history=history)
        for n, raw in enumerate(demo_claims())
    ]
    fired = {f.edit_id for o in outcomes if not isinstance(o, DeadLetter) for f in o.findings}
    missing = set(load_catalogue()) - fired
    assert not missing, f"no demo claim shows {sorted(missing)}"
    kinds = {o.error_kind for o in outcomes if isinstance(o, DeadLetter)}
    assert kinds == {"json", "schema", "encoding"}
    clean = sum(1 for o in outcomes if not isinstance(o, DeadLetter) and o.route == "clean")
    assert clean > 90
