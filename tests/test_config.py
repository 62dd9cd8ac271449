from __future__ import annotations

import pytest

from cleanpipe.config import Config, ConfigError, load_config


def test_defaults_file_and_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("workers = 2\n[dedup]\nthreshold = 0.8\nnum-perm = 64\n[names]\nmode = 'off'\n")
    config = load_config(path, {"dedup.threshold": 0.9, "read.max_bytes": None})
    assert config.workers == 2 and config.dedup.num_perm == 64 and config.names.mode == "off"
    assert config.dedup.threshold == 0.9  # the command line wins
    assert config.read.max_bytes == Config().read.max_bytes


@pytest.mark.parametrize("body", ["[dedup]\nthreshold = 1.5\n", "[names]\nmode = 'sometimes'\n", "nonsense = 1\n",
                                  "dedup = 3\n", "[dedup\n"])
def test_bad_config_is_a_config_error(tmp_path, body):
    path = tmp_path / "c.toml"
    path.write_text(body)
    with pytest.raises(ConfigError):
        load_config(path)


def test_hash_ignores_workers_but_not_thresholds():
    a, b, c = Config(), Config(workers=8), Config()
    c.dedup.threshold = 0.5
    assert a.sha256() == b.sha256() != c.sha256()


@pytest.mark.parametrize("body, says", [
    ("[dedup]\nenabled = 'false'\n", "dedup.enabled"),  # a string is not a boolean: never silently "on"
    ("workers = 'two'\n", "workers"),
    ("workers = 2.5\n", "workers"),
    ("[names]\nmode = 3\n", "names.mode"),
    ("[dedup.threshold]\nx = 1\n", "dedup.threshold"),  # a table where a number belongs
    ("[strip]\nhtml-fast = 'yes'\n", "strip.html_fast"),
    ("[dedup]\nthreshhold = 0.7\n", "unknown key 'dedup.threshhold'"),
    ("when = 2026-11-30\n", "config file"),
])
def test_wrong_types_and_unknown_keys_name_the_key_and_the_file(tmp_path, body, says):
    path = tmp_path / "c.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert says in str(err.value) and str(path) in str(err.value)


def test_a_config_built_in_python_is_type_checked_too():
    with pytest.raises(ConfigError, match="workers"):
        Config(workers="two").validate()
    ok = Config()
    ok.dedup.threshold = 1  # an int where a float belongs is fine
    ok.validate()


def test_cli_config_errors_exit_2_with_the_key(tmp_path):
    from click.testing import CliRunner

    from cleanpipe.cli import main

    path = tmp_path / "c.toml"
    path.write_text("[dedup]\nenabled = 'false'\n")
    result = CliRunner().invoke(main, ["run", "raw", "--config", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "dedup.enabled" in result.output


def test_workers_and_the_time_limit_do_not_change_the_config_hash():
    from cleanpipe.config import Config

    base = Config().sha256()
    assert Config(workers=7).sha256() == base and Config(doc_timeout=30).sha256() == base
    changed = Config()
    changed.strip.line_model = False
    assert changed.sha256() != base
