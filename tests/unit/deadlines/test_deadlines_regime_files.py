"""Regimes are data: shipped TOML files, operator files that supersede them, clear errors."""

from pathlib import Path

import pytest

from careledger.ledger.deadlines import PolicyFileError, load_regimes
from careledger.ledger.deadlines._regimes import SHIPPED_DIR
from tests.unit.deadlines.deadline_support import NO_ENV, shipped_regimes

LEY_7 = (SHIPPED_DIR / "es-ley-7-2017.toml").read_text()


def test_the_shipped_regimes_cover_the_regulations_the_project_tracks() -> None:
    figures = {
        r.regime_id: [(m.name, m.offset, m.unit) for m in r.milestones] for r in shipped_regimes()
    }
    assert figures == {
        "eu.gdpr.art12": [("final_response", 1, "calendar_months")],
        "uk.fca.disp": [
            ("summary_resolution", 3, "business_days"),
            ("final_response", 8, "calendar_weeks"),
        ],
        "uk.fca.disp.payments": [
            ("summary_resolution", 3, "business_days"),
            ("final_response", 15, "business_days"),
        ],
        "eu.psd2.art101": [("final_response", 15, "business_days")],
        "es.ley_10_2025": [("final_response", 15, "business_days")],
        "es.ley_10_2025.basic_service_continuity": [("first_response", 2, "hours")],
        "es.ley_7_2017": [("final_response", 1, "calendar_months")],
        "co.ley_1755_2015.art14": [("final_response", 15, "business_days")],
        "co.ley_1755_2015.art14.consulta": [("final_response", 30, "business_days")],
        "iso.10002.example": [
            ("acknowledge", 2, "business_days"),
            ("final_response", 20, "business_days"),
        ],
    }


def test_every_shipped_regime_cites_its_source() -> None:
    for regime in shipped_regimes():
        assert len(regime.source) > 60, regime.regime_id


def test_values_not_confirmed_in_the_primary_text_are_flagged_in_the_data() -> None:
    regimes = {r.regime_id: r for r in shipped_regimes()}
    assert regimes["es.ley_10_2025.basic_service_continuity"].check
    for regime_id in ("co.ley_1755_2015.art14", "co.ley_1755_2015.art14.consulta"):
        extension = regimes[regime_id].extension
        assert extension is not None and extension.check


def test_an_operator_file_with_a_higher_version_replaces_the_shipped_regime(
    tmp_path: Path,
) -> None:
    (tmp_path / "ley7.toml").write_text(LEY_7.replace("version = 1", "version = 2"))
    regime = load_regimes(tmp_path, environ=NO_ENV)
    (ley7,) = [r for r in regime if r.regime_id == "es.ley_7_2017"]
    assert (ley7.version, ley7.origin) == (2, str(tmp_path / "ley7.toml"))


def test_operator_regimes_are_read_from_the_environment_directory(tmp_path: Path) -> None:
    (tmp_path / "ley7.toml").write_text(LEY_7.replace("version = 1", "version = 3"))
    (ley7,) = [
        r
        for r in load_regimes(environ={"CARELEDGER_REGIMES_DIR": str(tmp_path)})
        if r.regime_id == "es.ley_7_2017"
    ]
    assert ley7.version == 3


def test_an_operator_file_with_a_lower_version_does_not_replace_the_shipped_one(
    tmp_path: Path,
) -> None:
    shipped_version_two = LEY_7.replace("version = 1", "version = 2")
    (tmp_path / "a.toml").write_text(shipped_version_two)
    (tmp_path / "b.toml").write_text(
        LEY_7.replace('regime_id = "es.ley_7_2017"', 'regime_id = "x"')
    )
    regimes = {r.regime_id: r.version for r in load_regimes(tmp_path, environ=NO_ENV)}
    assert (regimes["es.ley_7_2017"], regimes["x"]) == (2, 1)


def test_two_files_with_the_same_regime_and_version_are_refused(tmp_path: Path) -> None:
    (tmp_path / "ley7.toml").write_text(LEY_7)
    with pytest.raises(PolicyFileError, match=r"es\.ley_7_2017 version 1 is defined twice"):
        load_regimes(tmp_path, environ=NO_ENV)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            ('unit = "calendar_months"', 'unit = "months"'),
            r"milestones\[0\]: field 'unit' must be one of business_days, .*got 'months'",
            id="unknown-unit",
        ),
        pytest.param(("offset = 1", "offset = 0"), "'offset' must be >= 1", id="zero-offset"),
        pytest.param(("offset = 1", "ofset = 1"), r"unknown field\(s\) ofset", id="misspelt"),
        pytest.param(
            ('clock_start = "receipt"', 'clock_start = "filing"'),
            "clock_start' must be one of receipt, next_business_day",
            id="clock-start",
        ),
        pytest.param(
            ("effective_from = 2017-11-05", 'effective_from = "soon"'),
            "effective_from' must be a TOML date",
            id="not-a-date",
        ),
        pytest.param(
            (
                "[[milestones]]",
                '[extension]\nmilestone = "x"\nmax_offset = 1\nunit = "hours"\n\n[[milestones]]',
            ),
            "extension.milestone 'x' is not one of",
            id="extension-target",
        ),
    ],
)
def test_a_malformed_regime_file_names_the_file_the_field_and_the_rule(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    (tmp_path / "broken.toml").write_text(
        LEY_7.replace("version = 1", "version = 9").replace(*change)
    )
    with pytest.raises(PolicyFileError, match=message) as caught:
        load_regimes(tmp_path, environ=NO_ENV)
    assert "broken.toml" in str(caught.value)


def test_a_missing_operator_directory_is_an_error_not_silence(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="does not exist"):
        load_regimes(tmp_path / "nowhere", environ=NO_ENV)
