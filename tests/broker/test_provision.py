"""broker.provision: credentials, the dynamic-security plugin's file, the rendered config."""

import getpass
import json
import stat
import subprocess

import pytest

from broker.dynsec import (
    ADMIN_USERNAME,
    PasswordHash,
    find_client,
    find_role,
    kiosk_acls,
    read_config,
)
from broker.provision import (
    MIGRATED_PASSWD,
    broker_paths,
    default_data_dir,
    ensure_hub_credentials,
    load_credentials,
    migrate_password_file,
    prepare_broker,
    provision_kiosk,
    read_password_file,
    render_config,
    revoke,
)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def stored_hash(data_dir, username) -> PasswordHash:
    client = find_client(read_config(broker_paths(data_dir).dynsec), username)
    assert client is not None, f"{username} is not in the plugin's file"
    return PasswordHash.from_passwd(
        f"$7${client['iterations']}${client['salt']}${client['password']}"
    )


def test_our_hash_is_the_one_mosquitto_ctrl_writes(tmp_path):
    dynsec = tmp_path / "dynsec.json"
    subprocess.run(
        ["mosquitto_ctrl", "dynsec", "init", str(dynsec), "alice", "s3cret"],
        check=True,
        capture_output=True,
    )
    [theirs] = json.loads(dynsec.read_text())["clients"]
    hashed = PasswordHash.from_passwd(
        f"$7${theirs['iterations']}${theirs['salt']}${theirs['password']}"
    )
    assert hashed.matches("s3cret")
    assert not hashed.matches("s3cre")
    ours = PasswordHash.of("s3cret", salt=hashed.salt)
    assert ours.as_json() == {k: theirs[k] for k in ("password", "salt", "iterations")}
    assert PasswordHash.of("x") != PasswordHash.of("x")  # salted


def test_a_password_file_hash_is_read_as_the_same_pbkdf2(tmp_path):
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "alice", "s3cret"], check=True)
    assert PasswordHash.from_passwd(read_password_file(passwd)["alice"]).matches("s3cret")
    with pytest.raises(ValueError, match=r"\$7\$"):
        PasswordHash.from_passwd("$6$abc$def")


def test_a_kiosk_gets_private_credentials_a_bound_client_and_its_own_role(tmp_path):
    credentials = provision_kiosk(tmp_path, "kiosk-a", site="north")
    paths = broker_paths(tmp_path)
    assert (credentials.username, credentials.site) == ("kiosk-a", "north")
    assert len(credentials.password) >= 40
    assert load_credentials(tmp_path, "kiosk-a") == credentials
    assert stored_hash(tmp_path, "kiosk-a").matches(credentials.password)
    config = read_config(paths.dynsec)
    client = find_client(config, "kiosk-a")
    assert client["clientid"] == "kiosk-a"
    assert client["roles"] == [{"rolename": "kiosk:kiosk-a"}]
    role = find_role(config, "kiosk:kiosk-a")
    assert {(acl["acltype"], acl["topic"]) for acl in role["acls"]} == {
        ("subscribePattern", "commonshed/v1/north/kiosk/kiosk-a/acks"),
        ("subscribePattern", "commonshed/v1/north/kiosk/kiosk-a/allowlist"),
        ("subscribePattern", "commonshed/v1/north/kiosk/kiosk-a/config"),
        ("subscribePattern", "commonshed/v1/north/kiosk/kiosk-a/responses"),
        ("subscribePattern", "commonshed/v1/hub/status"),
        ("publishClientSend", "commonshed/v1/north/kiosk/kiosk-a/events"),
        ("publishClientSend", "commonshed/v1/north/kiosk/kiosk-a/status"),
        ("publishClientSend", "commonshed/v1/north/kiosk/kiosk-a/requests"),
    }
    assert config["defaultACLAccess"]["subscribe"] is False
    assert config["defaultACLAccess"]["publishClientSend"] is False
    assert mode(paths.credentials("kiosk-a")) == mode(paths.dynsec) == 0o600
    assert mode(paths.root) == mode(paths.credentials_dir) == 0o700


def test_provisioning_again_keeps_the_password_unless_rotated(tmp_path):
    first = provision_kiosk(tmp_path, "kiosk-a")
    assert provision_kiosk(tmp_path, "kiosk-a") == first
    moved = provision_kiosk(tmp_path, "kiosk-a", site="south")
    assert (moved.password, moved.site) == (first.password, "south")
    role = find_role(read_config(broker_paths(tmp_path).dynsec), "kiosk:kiosk-a")
    assert "commonshed/v1/south/kiosk/kiosk-a/events" in {acl["topic"] for acl in role["acls"]}
    rotated = provision_kiosk(tmp_path, "kiosk-a", rotate=True)
    assert rotated.password != first.password
    assert stored_hash(tmp_path, "kiosk-a").matches(rotated.password)


def test_provisioning_mends_a_plugin_file_that_lost_a_client(tmp_path):
    credentials = provision_kiosk(tmp_path, "kiosk-a")
    broker_paths(tmp_path).dynsec.unlink()
    provision_kiosk(tmp_path, "kiosk-a")
    assert stored_hash(tmp_path, "kiosk-a").matches(credentials.password)


def test_users_are_kept_side_by_side_and_revoked_alone(tmp_path):
    _, credentials = prepare_broker(tmp_path, port=1, kiosks=["kiosk-a", "kiosk-b"])
    config = read_config(broker_paths(tmp_path).dynsec)
    assert sorted(c["username"] for c in config["clients"]) == [
        ADMIN_USERNAME,
        "hub",
        "kiosk-a",
        "kiosk-b",
    ]
    assert revoke(tmp_path, "kiosk-a")
    assert not revoke(tmp_path, "kiosk-a")
    config = read_config(broker_paths(tmp_path).dynsec)
    assert sorted(c["username"] for c in config["clients"]) == [ADMIN_USERNAME, "hub", "kiosk-b"]
    assert find_role(config, "kiosk:kiosk-a") is None
    assert load_credentials(tmp_path, "hub") == credentials["hub"]
    with pytest.raises(FileNotFoundError):
        load_credentials(tmp_path, "kiosk-a")


@pytest.mark.parametrize(
    ("kiosk_id", "site"),
    [("hub", "main"), ("Kiosk A", "main"), ("kiosk-a", "North/1"), (ADMIN_USERNAME, "main")],
)
def test_bad_ids_are_refused_before_anything_is_written(tmp_path, kiosk_id, site):
    with pytest.raises(ValueError):
        provision_kiosk(tmp_path, kiosk_id, site=site)
    assert not broker_paths(tmp_path).dynsec.exists()


def test_the_hub_is_provisioned_once_and_not_bound_to_a_client_id(tmp_path):
    assert ensure_hub_credentials(tmp_path) == ensure_hub_credentials(tmp_path)
    hub = find_client(read_config(broker_paths(tmp_path).dynsec), "hub")
    assert "clientid" not in hub  # each hub worker connects with a client id of its own


def test_the_rendered_config_has_the_settings_the_project_relies_on(tmp_path):
    paths = render_config(tmp_path, port=18883, bind_address="0.0.0.0", run_as_user="mosquitto")
    lines = set(paths.config.read_text().splitlines())
    plugin = next(line for line in lines if line.startswith("plugin "))
    assert plugin.endswith("/mosquitto_dynamic_security.so")
    for setting in [
        "per_listener_settings false",
        "allow_anonymous false",
        f"plugin_opt_config_file {paths.dynsec}",
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
    assert not any(line.startswith(("password_file", "acl_file")) for line in lines)
    assert "#listener 8883 0.0.0.0" in lines
    assert find_client(read_config(paths.dynsec), ADMIN_USERNAME) is not None


def test_the_plugin_is_found_where_the_platform_keeps_it(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMONSHED_DYNSEC_PLUGIN", "/opt/mosquitto/dynsec.so")
    paths = render_config(tmp_path)
    assert "plugin /opt/mosquitto/dynsec.so" in paths.config.read_text().splitlines()


def test_the_config_runs_as_the_user_who_rendered_it_by_default(tmp_path):
    paths = render_config(tmp_path)
    assert f"user {getpass.getuser()}" in paths.config.read_text().splitlines()


def test_a_migrated_kiosk_with_no_recorded_site_keeps_the_old_any_site_rule():
    assert kiosk_acls("+", "kiosk-a")[0].topic == "commonshed/v1/+/kiosk/kiosk-a/acks"


def test_the_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COMMONSHED_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("COMMONSHED_DATA_DIR")
    assert str(default_data_dir()) == "data"


def test_credentials_files_are_plain_json(tmp_path):
    provision_kiosk(tmp_path, "kiosk-a")
    stored = json.loads(broker_paths(tmp_path).credentials("kiosk-a").read_text())
    assert set(stored) == {"username", "password", "site", "created_at"}


def test_nothing_to_migrate_without_a_password_file(tmp_path):
    assert migrate_password_file(tmp_path) == []
    assert not (broker_paths(tmp_path).root / MIGRATED_PASSWD).exists()
