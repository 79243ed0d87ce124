from pathlib import Path

import pytest

from imagine.config import Settings, get_settings


def test_env_overrides_toml(tmp_path, monkeypatch):
    toml = tmp_path / "imagine.toml"
    toml.write_text('data_home = "from-toml"\n[serve]\nport = 9001\n[generate]\nsteps = 7\n')
    monkeypatch.setenv("IMAGINE_CONFIG", str(toml))
    monkeypatch.setenv("IMAGINE_SERVE__PORT", "9002")
    s = Settings()
    assert s.data_home == Path("from-toml")
    assert s.generate.steps == 7
    assert s.serve.port == 9002  # environment beats the file


def test_missing_named_config_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGINE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        Settings()


def test_default_database_is_sqlite_under_data_home(data_home):
    s = get_settings()
    assert s.resolved_database_url.startswith("sqlite:///")
    assert s.resolved_database_url.endswith(str((data_home / "imagine.db").resolve()))
