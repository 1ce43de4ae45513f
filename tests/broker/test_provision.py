"""broker.provision: passwords, credentials and the rendered config."""

import json
import stat
import subprocess

import pytest

from broker.provision import (
    ACL_SOURCE,
    broker_paths,
    default_data_dir,
    ensure_hub_credentials,
    hash_password,
    load_credentials,
    prepare_broker,
    provision_kiosk,
    read_password_file,
    render_config,
    revoke,
    verify_password,
)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_our_hash_and_mosquitto_passwd_agree(tmp_path):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "alice", "s3cret"], check=True)
    theirs = read_password_file(passwd)["alice"]
    assert verify_password("s3cret", theirs)
    assert not verify_password("s3cre", theirs)
    ours = hash_password("s3cret")
    assert ours.split("$")[:3] == theirs.split("$")[:3] == ["", "7", "101"]
    assert verify_password("s3cret", ours)
    assert hash_password("x") != hash_password("x")  # salted


def test_a_kiosk_gets_private_credentials_and_a_password_entry(tmp_path):
    credentials = provision_kiosk(tmp_path, "kiosk-a", site="north")
    paths = broker_paths(tmp_path)
    assert (credentials.username, credentials.site) == ("kiosk-a", "north")
    assert len(credentials.password) >= 40
    assert load_credentials(tmp_path, "kiosk-a") == credentials
    assert verify_password(credentials.password, read_password_file(paths.passwd)["kiosk-a"])
    assert mode(paths.credentials("kiosk-a")) == mode(paths.passwd) == 0o600
    assert mode(paths.root) == mode(paths.credentials_dir) == 0o700


def test_provisioning_again_keeps_the_password_unless_rotated(tmp_path):
    first = provision_kiosk(tmp_path, "kiosk-a")
    assert provision_kiosk(tmp_path, "kiosk-a") == first
    moved = provision_kiosk(tmp_path, "kiosk-a", site="south")
    assert (moved.password, moved.site) == (first.password, "south")
    rotated = provision_kiosk(tmp_path, "kiosk-a", rotate=True)
    assert rotated.password != first.password
    hashed = read_password_file(broker_paths(tmp_path).passwd)["kiosk-a"]
    assert verify_password(rotated.password, hashed)


def test_provisioning_mends_a_password_file_that_lost_an_entry(tmp_path):
    credentials = provision_kiosk(tmp_path, "kiosk-a")
    broker_paths(tmp_path).passwd.write_text("")
    provision_kiosk(tmp_path, "kiosk-a")
    hashed = read_password_file(broker_paths(tmp_path).passwd)["kiosk-a"]
    assert verify_password(credentials.password, hashed)


def test_users_are_kept_side_by_side_and_revoked_alone(tmp_path):
    _, credentials = prepare_broker(tmp_path, port=1, kiosks=["kiosk-a", "kiosk-b"])
    assert sorted(read_password_file(broker_paths(tmp_path).passwd)) == [
        "hub",
        "kiosk-a",
        "kiosk-b",
    ]
    assert revoke(tmp_path, "kiosk-a")
    assert not revoke(tmp_path, "kiosk-a")
    assert sorted(read_password_file(broker_paths(tmp_path).passwd)) == ["hub", "kiosk-b"]
    assert load_credentials(tmp_path, "hub") == credentials["hub"]
    with pytest.raises(FileNotFoundError):
        load_credentials(tmp_path, "kiosk-a")


@pytest.mark.parametrize(
    ("kiosk_id", "site"), [("hub", "main"), ("Kiosk A", "main"), ("kiosk-a", "North/1")]
)
def test_bad_ids_are_refused_before_anything_is_written(tmp_path, kiosk_id, site):
    with pytest.raises(ValueError):
        provision_kiosk(tmp_path, kiosk_id, site=site)
    assert not broker_paths(tmp_path).passwd.exists()


def test_the_hub_is_provisioned_once(tmp_path):
    assert ensure_hub_credentials(tmp_path) == ensure_hub_credentials(tmp_path)


def test_the_rendered_config_has_the_settings_the_project_relies_on(tmp_path):
    paths = render_config(tmp_path, port=18883, bind_address="0.0.0.0", run_as_user="mosquitto")
    lines = set(paths.config.read_text().splitlines())
    for setting in [
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {paths.passwd}",
        f"acl_file {paths.acl}",
        "set_tcp_nodelay true",
        "persistence true",
        f"persistence_location {paths.persistence_dir}/",
        "autosave_interval 10",
        "max_queued_messages 100000",
        "log_dest stderr",
        "listener 18883 0.0.0.0",
        "user mosquitto",
        f"pid_file {paths.pid}",
    ]:
        assert setting in lines
    assert paths.acl.read_text() == ACL_SOURCE.read_text()
    assert "#listener 8883 0.0.0.0" in lines


def test_the_config_runs_as_the_user_who_rendered_it_by_default(tmp_path):
    import getpass

    paths = render_config(tmp_path)
    assert f"user {getpass.getuser()}" in paths.config.read_text().splitlines()


def test_the_acl_confines_kiosks_by_username():
    rules = [line for line in ACL_SOURCE.read_text().splitlines() if line.startswith("pattern")]
    assert sorted(rules) == sorted(
        [f"pattern write commonshed/v1/+/kiosk/%u/{c}" for c in ("events", "status", "requests")]
        + [
            f"pattern read commonshed/v1/+/kiosk/%u/{c}"
            for c in ("acks", "allowlist", "config", "responses")
        ]
        + ["pattern read commonshed/v1/hub/status"]  # the hub's own status, for every kiosk
    )


def test_the_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMONSHED_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("COMMONSHED_DATA_DIR")
    assert str(default_data_dir()) == "data"


def test_credentials_files_are_plain_json(tmp_path):
    provision_kiosk(tmp_path, "kiosk-a")
    stored = json.loads(broker_paths(tmp_path).credentials("kiosk-a").read_text())
    assert set(stored) == {"username", "password", "site", "created_at"}
