import shutil

import pytest

from processor.codesets import SAMPLE_DIR, CodeSetError, load_codesets


@pytest.fixture
def copy_of_sample(tmp_path):
    target = tmp_path / "codesets"
    shutil.copytree(SAMPLE_DIR, target)
    return target


def test_sample_loads_every_kind():
    codesets = load_codesets()
    assert sorted(codesets.kinds()) == sorted(
        [
            "hcpcs",
            "cpt",
            "pfs",
            "icd10cm",
            "ncci_ptp",
            "mue_practitioner",
            "mue_dme_supplier",
            "modifiers",
            "place_of_service",
            "add_on",
            "asp_pricing",
            "mce",
        ]
    )
    assert all(len(info.checksum) == 64 for info in codesets.releases())


def test_cpt_rows_carry_no_descriptor():
    header = (SAMPLE_DIR / "cpt.csv").read_text().splitlines()[0]
    assert header == "code,add_date,term_date"


def test_bad_row_names_file_and_line(copy_of_sample):
    path = copy_of_sample / "mue_practitioner.csv"
    lines = path.read_text().splitlines()
    lines[3] = "99213,two,3"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CodeSetError, match=r"mue_practitioner\.csv:4: MUE value"):
        load_codesets(copy_of_sample)


def test_bad_date_names_file_and_line(copy_of_sample):
    path = copy_of_sample / "hcpcs.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("1991-01-01", "01/01/1991")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CodeSetError, match=r"hcpcs\.csv:2: not an ISO date"):
        load_codesets(copy_of_sample)


def test_not_a_codeset_directory(tmp_path):
    with pytest.raises(CodeSetError, match=r"nor releases\.toml"):
        load_codesets(tmp_path)


def test_unknown_kind_in_manifest(copy_of_sample):
    manifest = copy_of_sample / "releases.toml"
    manifest.write_text(manifest.read_text().replace('kind = "pfs"', 'kind = "rvu"'))
    with pytest.raises(CodeSetError, match="kind 'rvu' is not one of"):
        load_codesets(copy_of_sample)


def test_importer_names_the_file_when_its_release_date_is_missing(tmp_path):
    from processor.codesets.cms.importers import ImportError_, detect

    path = tmp_path / "mue_without_a_date.csv"
    path.write_text(
        "hcpcs_code,mue_units,mue_mai,mue_rationale,mue_service\n0001U,1,2,x,Practitioner\n"
    )
    importer = detect(path)
    assert importer is not None and importer.name == "MUE tidied CSV"
    with pytest.raises(
        ImportError_, match=r"mue_without_a_date\.csv: the release date is not in the file name"
    ):
        list(importer.read(path))


def test_importer_names_file_and_line_of_a_bad_row(tmp_path):
    from processor.codesets.cms.importers import ImportError_, detect

    path = tmp_path / "mue_2024-07-01.csv"
    path.write_text(
        "hcpcs_code,mue_units,mue_mai,mue_rationale,mue_service\n0001U,one,2,x,Practitioner\n"
    )
    with pytest.raises(ImportError_, match=r"mue_2024-07-01\.csv:2: MUE value 'one'"):
        list(detect(path).read(path))
