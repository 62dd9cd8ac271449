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
