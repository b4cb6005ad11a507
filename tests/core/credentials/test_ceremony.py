"""The key ceremonies: root, device request, certify, install, revocation lists."""
import json
import os

import pytest

from core.credentials import ceremony, keys
from core.credentials.keys import KeyFileError
from core.credentials.trust import (DeviceSigner, TrustStore, device_cert_path,
                                    device_key_path)
from core.errors import InvalidState, ValidationError

NOW = 1_795_500_000


def test_root_and_device_keys_are_private_files(tmp_path):
    info = ceremony.init_root(tmp_path / "root")
    assert oct(os.stat(info["root_key"]).st_mode & 0o777) == "0o600"
    ceremony.request(tmp_path / "data", "D01", "MUH")
    assert oct(os.stat(device_key_path(tmp_path / "data")).st_mode & 0o777) == "0o600"


def test_a_root_key_is_never_overwritten(tmp_path):
    ceremony.init_root(tmp_path)
    before = (tmp_path / "root.key").read_bytes()
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        ceremony.init_root(tmp_path)
    assert (tmp_path / "root.key").read_bytes() == before


def test_the_request_holds_only_public_material_and_the_key_stays(tmp_path):
    first = ceremony.request(tmp_path, "D01", "MUH")
    again = ceremony.request(tmp_path, "D01", "MUH")
    assert first == again  # the device key is created once
    private = device_key_path(tmp_path).read_text()
    assert "PRIVATE KEY" in private and private not in json.dumps(first)
    assert set(first) == {"nafitha_certificate_request", "device_id", "office", "public_key"}


@pytest.mark.parametrize("text", ["", "{}", "not json", '{"nafitha_certificate_request": 1}',
                                  json.dumps({"nafitha_certificate_request": 1,
                                              "device_id": "D1", "office": "M",
                                              "public_key": "abcd"})])
def test_a_bad_request_is_refused(text):
    with pytest.raises(ValidationError, match="not a Nafitha certificate request"):
        ceremony.parse_request(text)


def test_install_refuses_a_certificate_from_another_root(tmp_path):
    root, other = keys.generate(), keys.generate()
    req = ceremony.parse_request(json.dumps(ceremony.request(tmp_path, "D01", "MUH")))
    cert = ceremony.certify(other, req, ["RES"], NOW)
    with pytest.raises(ValidationError, match="not signed by this root"):
        ceremony.install(tmp_path, cert.to_bytes(), keys.public_bytes(root))
    assert not device_cert_path(tmp_path).exists()
    assert TrustStore.load(tmp_path).roots == {}


def test_install_refuses_a_certificate_for_another_devices_key(tmp_path):
    root = keys.generate()
    other_req = ceremony.parse_request(json.dumps(ceremony.request(tmp_path / "other", "D02",
                                                                   "MUH")))
    ceremony.request(tmp_path / "mine", "D01", "MUH")
    cert = ceremony.certify(root, other_req, ["RES"], NOW)
    with pytest.raises(ValidationError, match="another device's key"):
        ceremony.install(tmp_path / "mine", cert.to_bytes(), keys.public_bytes(root))
    assert not device_cert_path(tmp_path / "mine").exists()


def test_install_refuses_garbage(tmp_path):
    ceremony.request(tmp_path, "D01", "MUH")
    with pytest.raises(ValidationError, match="not a device certificate"):
        ceremony.install(tmp_path, b"\xd2\x84garbage", keys.public_bytes(keys.generate()))


def test_the_signer_refuses_what_its_certificate_does_not_allow(tmp_path):
    root = keys.generate()
    ceremony.setup_device(tmp_path, root, "D01", "MUH", ["RES"], NOW, sign_days=30)
    signer = DeviceSigner.load(tmp_path, "D01", "MUH")
    signer.check_can_sign("RES", NOW + 86400)
    with pytest.raises(InvalidState, match="does not allow BPS"):
        signer.check_can_sign("BPS", NOW)
    with pytest.raises(InvalidState, match="outside its signing period"):
        signer.check_can_sign("RES", NOW + 31 * 86400)
    with pytest.raises(InvalidState, match="for D01 of MUH, not D02"):
        DeviceSigner.load(tmp_path, "D02", "MUH").check_can_sign("RES", NOW)


def test_a_certificate_that_does_not_match_the_key_on_disk_is_refused(tmp_path):
    root = keys.generate()
    ceremony.setup_device(tmp_path, root, "D01", "MUH", ["RES"], NOW)
    device_key_path(tmp_path).unlink()
    ceremony.request(tmp_path, "D01", "MUH")  # a new key, the old certificate
    with pytest.raises(InvalidState, match="certifies another key"):
        DeviceSigner.load(tmp_path, "D01", "MUH")


def test_revocation_lists_accumulate_and_only_newer_ones_install(tmp_path):
    root = keys.generate()
    trust = TrustStore(data_dir=tmp_path)
    trust.add_root(keys.public_bytes(root))
    first = ceremony.revoke(root, 1, NOW, ["L1"], {})
    second = ceremony.revoke(root, 1, NOW + 60, ["L2"], {"MUH/D05": NOW}, base=first)
    assert second.number == 2 and second.licences == {"L1", "L2"}
    trust.install_revocations(first.to_bytes())
    trust.install_revocations(second.to_bytes())
    reloaded = TrustStore.load(tmp_path)
    assert reloaded.revocations.number == 2 and reloaded.revocations.devices == {"MUH/D05": NOW}
    with pytest.raises(ValidationError, match="not newer"):
        reloaded.install_revocations(first.to_bytes())
    with pytest.raises(ValidationError, match="not a revocation list"):
        reloaded.install_revocations(b"junk")
    assert TrustStore.load(tmp_path).revocations.number == 2
