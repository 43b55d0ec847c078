"""The session key file: created once (0600) and shared by every process, refused when others
can read it or it is damaged; deleting it signs everyone out."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
from typer.testing import CliRunner

from backend.session_key import SessionKeyError, _create, load_or_create
from noderr import service_context
from noderr_cli.main import app as noderr_cli
from tests.backend.helpers import bearer, sign_in


def test_first_start__creates_a_0600_key_then_reuses_it(tmp_path):
    path = tmp_path / "data" / "session-key"
    first = load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(bytes.fromhex(path.read_text().strip())) == 32
    assert load_or_create(path).digest("token") == first.digest("token")
    assert "<redacted>" in repr(first) and path.read_text().strip() not in repr(first)


def test_creation_lost_to_another_process__keeps_the_first_key(tmp_path):
    path = tmp_path / "session-key"
    _create(path)
    written = path.read_bytes()
    _create(path)  # a second worker that saw no file a moment earlier
    assert path.read_bytes() == written
    assert [item.name for item in tmp_path.iterdir()] == ["session-key"]


def test_workers_starting_together__one_key(tmp_path):
    for round_ in range(10):
        path = tmp_path / str(round_) / "session-key"
        barrier = Barrier(8)

        def start(_: int, path: Path = path, barrier: Barrier = barrier) -> bytes:
            barrier.wait()
            return load_or_create(path).digest("token")

        with ThreadPoolExecutor(8) as pool:
            assert len(set(pool.map(start, range(8)))) == 1


def test_key_readable_by_others__refused(tmp_path):
    path = tmp_path / "session-key"
    load_or_create(path)
    path.chmod(0o640)
    with pytest.raises(SessionKeyError, match=r"readable by others .*chmod 600"):
        load_or_create(path)


@pytest.mark.parametrize("content", ["", "not hex", "ab" * 16], ids=["empty", "text", "short"])
def test_damaged_key__refused_with_what_to_do(tmp_path, content):
    path = tmp_path / "session-key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SessionKeyError, match="delete it to create a new one"):
        load_or_create(path)


def never_serve(*_: object, **__: object) -> None:
    raise AssertionError("the API started serving: the configuration should have stopped it")


def test_cli_api__unusable_key__exits_with_reason(monkeypatch, tmp_path, deployment):
    path = tmp_path / "session-key"
    path.write_text("ab" * 32)
    path.chmod(0o644)
    monkeypatch.setenv("NODERR_SESSION_KEY_FILE", str(path))
    monkeypatch.setattr(service_context, "load_service_context",
                        lambda *_: service_context.ServiceContext(
                            "http://127.0.0.1:1", deployment, tmp_path / "unused.json",
                            "postgresql://unused"))
    monkeypatch.setattr("uvicorn.run", never_serve)
    result = CliRunner().invoke(noderr_cli, ["api", "--port", "1"])
    assert result.exit_code == 1
    assert f"session key file {path} is readable by others" in result.output
    assert "Noderr API on" not in result.output


def test_rotation__a_new_key_file_signs_everyone_out(make_client, settings):
    before = make_client()
    token = sign_in(before, 1)
    assert before.get("/auth/me", headers=bearer(token)).status_code == 200
    os.remove(settings.session_key_file)  # the documented rotation: delete, restart
    after = make_client()
    response = after.get("/auth/me", headers=bearer(token))
    assert response.status_code == 401 and "sign in again" in response.json()["detail"]
    fresh = sign_in(after, 1)
    assert after.get("/auth/me", headers=bearer(fresh)).status_code == 200


def test_default_path__under_the_data_folder(monkeypatch, tmp_path):
    from backend.settings import BackendSettings
    from noderr.settings import get_settings

    monkeypatch.setenv("NODERR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NODERR_SESSION_KEY_FILE", raising=False)
    get_settings.cache_clear()
    try:
        assert BackendSettings().session_key_path() == tmp_path / "session-key"
    finally:
        get_settings.cache_clear()
