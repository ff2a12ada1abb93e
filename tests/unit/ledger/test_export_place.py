"""Exports are written aside and renamed into place: a directory handed out never changes."""

from pathlib import Path

from careledger.ledger.queries.export import put_in_place, staging_dir


def written(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "manifest.json").write_text(text)
    return directory


def test_a_finished_export_is_renamed_into_place(tmp_path: Path) -> None:
    staging = written(staging_dir(tmp_path), "first")

    final = put_in_place(staging, tmp_path / "log-7-csv")

    assert (final / "manifest.json").read_text() == "first"
    assert not staging.exists()


def test_an_export_already_in_place_is_kept_and_the_new_copy_dropped(tmp_path: Path) -> None:
    final = written(tmp_path / "log-7-csv", "handed out")
    staging = written(staging_dir(tmp_path), "written again")

    assert put_in_place(staging, final) == final

    assert (final / "manifest.json").read_text() == "handed out"
    assert not staging.exists()
    assert staging_dir(tmp_path) != staging_dir(tmp_path)
