"""`make run` without SECRET_KEY: the development settings make a random key on the first start, keep
it in var/ (FLUX_VAR_DIR here) with mode 0600, and every later start, and every process starting at
the same time, reads the same key. No key is committed in the repository any more."""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from project.settings.secret_key import development_secret_key

# The string project/settings/dev.py used to fall back on: anyone could forge tokens with it.
COMMITTED_KEY = "dev-only-insecure-key-do-not-use-in-production"
PRINT_KEY = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"


def start_development_settings(var_dir: Path, **env: str) -> subprocess.Popen:
    """Load project.settings.dev in a new process, as `make run`'s processes do; it prints the key."""
    environment = {name: value for name, value in os.environ.items() if name not in {"SECRET_KEY", "DATABASE_URL"}}
    environment |= {"DJANGO_SETTINGS_MODULE": "project.settings.dev", "FLUX_VAR_DIR": str(var_dir),
                    "FLUX_LOG_SHIPPING": "0", **env}
    return subprocess.Popen([sys.executable, "-c", PRINT_KEY], cwd=settings.BASE_DIR, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def key_printed_by(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out.strip().splitlines()[-1]


def test_a_first_start_makes_a_private_random_key_and_later_starts_read_it(tmp_path):
    var_dir = tmp_path / "var"

    first = key_printed_by(start_development_settings(var_dir))
    second = key_printed_by(start_development_settings(var_dir))

    assert first == second
    assert first != COMMITTED_KEY and len(first) >= 50
    key_file = var_dir / "secret_key"
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(path.name for path in var_dir.iterdir()) == ["secret_key"]  # no temporary file left


def test_another_var_directory_gets_another_key(tmp_path):
    one = key_printed_by(start_development_settings(tmp_path / "one"))
    two = key_printed_by(start_development_settings(tmp_path / "two"))

    assert one != two


def test_secret_key_from_the_environment_wins_and_nothing_is_written(tmp_path):
    given = "k" * 30 + "an-operator-chosen-development-key"

    assert key_printed_by(start_development_settings(tmp_path, SECRET_KEY=given)) == given
    assert not (tmp_path / "secret_key").exists()


def test_processes_starting_together_agree_on_one_key(tmp_path):
    """`make run` starts web, relay and consumer at once: four fresh processes, one key."""
    processes = [start_development_settings(tmp_path) for _ in range(4)]

    keys = {key_printed_by(process) for process in processes}

    assert keys == {(tmp_path / "secret_key").read_text().strip()}


def _race(path: str, barrier, results) -> None:
    barrier.wait()
    results.put(development_secret_key(Path(path)))


def test_racing_first_starts_read_back_the_one_key_that_won(tmp_path):
    """Eight processes released at the same instant on an empty directory: whichever writes first,
    all of them return the key that ended up in the file."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(8), context.Queue()
    path = tmp_path / "var" / "secret_key"
    workers = [context.Process(target=_race, args=(str(path), barrier, results)) for _ in range(8)]
    for worker in workers:
        worker.start()
    keys = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)

    assert set(keys) == {path.read_text().strip()}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]


@pytest.mark.parametrize("content", ["", "short\n"])
def test_an_unusable_key_file_stops_the_start_with_a_clear_message(tmp_path, content):
    (tmp_path / "secret_key").write_text(content)

    process = start_development_settings(tmp_path)
    _, err = process.communicate(timeout=120)

    assert process.returncode != 0
    assert "holds no usable development SECRET_KEY: delete it" in err


def test_the_repository_holds_no_development_key():
    source = (Path(settings.BASE_DIR) / "project" / "settings" / "dev.py").read_text()

    assert COMMITTED_KEY not in source
    assert "var/" in (Path(settings.BASE_DIR) / ".gitignore").read_text().split()
