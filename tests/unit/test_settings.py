"""Settings: grouped, validated, read once from the environment under fixed names."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.settings import Settings, SettingsError


def test_variables_keep_their_names_whatever_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LODESTAR_REC_CANDIDATES", "50")
    monkeypatch.setenv("LODESTAR_ALS_FACTORS", "32")
    monkeypatch.setenv("LODESTAR_SEARCH_QUERY_ENCODER", "torch")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/shop")
    monkeypatch.setenv("LODESTAR_ENCODER", "/models/mine")
    monkeypatch.setenv("LODESTAR_REC_DROP_PURCHASED", "no")
    settings = Settings.from_env()
    assert settings.rec.candidates == 50
    assert settings.training.als_factors == 32
    assert settings.search.query_encoder == "torch"
    assert settings.storage.database_url == "postgresql://db/shop"
    assert settings.encoder.path == "/models/mine"
    assert settings.rec.drop_purchased is False


def test_an_empty_variable_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LODESTAR_REC_CANDIDATES", "")
    assert Settings.from_env().rec.candidates == 30


@pytest.mark.parametrize(("variable", "value"), [
    ("LODESTAR_REC_CANDIDATES", "abc"),
    ("LODESTAR_REC_CANDIDATES", "0"),
    ("LODESTAR_REC_MMR_LAMBDA", "1.5"),
    ("LODESTAR_WEIGHT_PURCHASE", "-1"),
    ("LODESTAR_REC_DROP_PURCHASED", "maybe"),
    ("LODESTAR_SEARCH_QUERY_ENCODER", "tensorrt"),
    ("LODESTAR_MAX_LIMIT", "1000000"),
    ("LODESTAR_LOG_LEVEL", "loud"),
])
def test_a_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env()
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r}: ")
    assert "\n" not in message


def test_checks_across_settings_name_both_variables() -> None:
    with pytest.raises(SettingsError, match=r"LODESTAR_REC_ALPHA_MIN.*LODESTAR_REC_ALPHA_MAX"):
        Settings(rec_alpha_min=0.8, rec_alpha_max=0.5)


def test_overrides_are_named_as_the_variables_and_validated(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, rec_candidates=7, als_iterations=3)
    assert settings.storage.data_dir == tmp_path
    assert (settings.rec.candidates, settings.training.als_iterations) == (7, 3)
    with pytest.raises(SettingsError, match=r"^LODESTAR_ALS_ITERATIONS=0: "):
        Settings(als_iterations=0)
    with pytest.raises(SettingsError, match="unknown setting 'rec_candidate'"):
        Settings(rec_candidate=7)


def test_settings_are_immutable_and_replace_makes_a_checked_copy() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.rec = settings.rec  # type: ignore[misc]
    with pytest.raises(ValueError):  # noqa: PT011 - pydantic's frozen-instance error
        settings.rec.candidates = 5  # type: ignore[misc]
    changed = settings.replace(rec_candidates=5, admin_key="k")
    assert (changed.rec.candidates, changed.access.admin_key) == (5, "k")
    assert settings.rec.candidates == 30
    with pytest.raises(SettingsError, match=r"^LODESTAR_REC_CANDIDATES="):
        settings.replace(rec_candidates=-1)


def test_the_environment_round_trips_for_a_child_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, rec_candidates=9, rec_drop_purchased=False,
                        search_query_encoder="onnx-int8")
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    again = Settings.from_env()
    assert again.to_env() == settings.to_env()
    assert again.changed() == settings.changed()
    assert "LODESTAR_REC_CANDIDATES" in again.changed()


def test_every_setting_is_described_once_in_a_group() -> None:
    described = [name for name, _, _ in Settings.describe()]
    grouped = [name for _, names in Settings.groups() for name in names]
    assert described == grouped
    assert len(set(described)) == len(described)
    assert {"LODESTAR_EVENT_WINDOW_DAYS", "LODESTAR_DECAY_PER_DAY", "LODESTAR_DATA_DIR",
            "LODESTAR_ADMIN_KEY"} <= set(described)


def test_an_index_version_records_no_secret() -> None:
    snapshot = Settings(admin_key="secret", qdrant_api_key="also").snapshot()
    assert "admin_key" not in snapshot and "qdrant_api_key" not in snapshot
    assert snapshot["rec_candidates"] == 30
