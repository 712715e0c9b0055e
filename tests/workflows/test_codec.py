"""The payload codec (workflows/codec.py): every payload sealed with AES-256-GCM (or SM4-GCM), keys from
configuration with rotation, payloads from before encryption passed through, tampering detected."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.models import CITIZEN, CaseIntake, CaseStart
from domain.settings import Settings
from tests.conftest import fast_levels
from workflows.codec import (
    AES_GCM,
    ENCODING,
    KEY_ID,
    SM4_GCM,
    EncryptionCodec,
    PayloadDecryptError,
    PayloadKeyError,
    format_keys,
    keyring_for,
    new_key,
    parse_keys,
)
from workflows.temporal_client import data_converter, payload_codec

NAME, PHONE = "王小明", "13800001234"
TEXT = "白塔镇某工地包工头拖欠我们十几个工人三个月工资"


def case_start() -> CaseStart:
    return CaseStart(
        case_id="c1",
        case_no="T-1",
        received_at=datetime(2026, 1, 5, tzinfo=UTC),
        intake=CaseIntake(description=TEXT, citizen_name=NAME, citizen_phone=PHONE, channel="web"),
        intake_by=CITIZEN,
        levels=fast_levels(),
    )


def keys(*entries: tuple[str, bytes]) -> str:
    return format_keys(entries)


def plain_payload() -> Payload:
    return pydantic_data_converter.payload_converter.to_payloads([case_start()])[0]


def clear_in(blob: bytes) -> list[str]:
    return [s for s in (NAME, PHONE, TEXT) if s.encode() in blob]


async def test_round_trip_hides_the_personal_data():
    conv = data_converter(Settings(payload_keys=keys(new_key())))
    [sealed] = await conv.encode([case_start()])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID]
    assert clear_in(sealed.SerializeToString()) == []
    assert clear_in(plain_payload().SerializeToString()) == [NAME, PHONE, TEXT]  # the check can see them
    [back] = await conv.decode([sealed], [CaseStart])
    assert back == case_start()


async def test_each_payload_gets_its_own_nonce():
    codec = EncryptionCodec(parse_keys(keys(new_key())))
    a, b = await codec.encode([plain_payload(), plain_payload()])
    assert a.data != b.data


async def test_unencrypted_payload_passes_through():
    codec = EncryptionCodec(parse_keys(keys(new_key())))
    payload = plain_payload()
    [out] = await codec.decode([payload])
    assert out == payload
    # A codec that has no key at all still reads histories from before encryption.
    [out] = await EncryptionCodec(parse_keys(""), encrypt=False).decode([payload])
    assert out == payload


async def test_old_key_still_decrypts_after_rotation():
    old, new = new_key(key_id="2025"), new_key(key_id="2026")
    [sealed_old] = await EncryptionCodec(parse_keys(keys(old))).encode([plain_payload()])
    rotated = EncryptionCodec(parse_keys(keys(new, old)))
    [sealed_new] = await rotated.encode([plain_payload()])
    assert sealed_old.metadata[KEY_ID] == b"2025" and sealed_new.metadata[KEY_ID] == b"2026"
    assert await rotated.decode([sealed_old, sealed_new]) == [plain_payload(), plain_payload()]


async def test_tampered_ciphertext_fails():
    codec = EncryptionCodec(parse_keys(keys(new_key())))
    [sealed] = await codec.encode([plain_payload()])
    data = bytearray(sealed.data)
    data[len(data) // 2] ^= 0x01
    tampered = Payload(metadata=dict(sealed.metadata), data=bytes(data))
    with pytest.raises(PayloadDecryptError, match="failed authentication"):
        await codec.decode([tampered])
    truncated = Payload(metadata=dict(sealed.metadata), data=sealed.data[:10])
    with pytest.raises(PayloadDecryptError):
        await codec.decode([truncated])


async def test_payload_moved_to_another_key_id_fails():
    k1, k2 = new_key(key_id="a"), ("b", new_key()[1])
    codec = EncryptionCodec(parse_keys(keys(k1, k2)))
    [sealed] = await codec.encode([plain_payload()])
    relabelled = Payload(metadata={**dict(sealed.metadata), KEY_ID: b"b"}, data=sealed.data)
    with pytest.raises(PayloadDecryptError):
        await codec.decode([relabelled])


async def test_missing_or_wrong_key_is_a_clear_error():
    [sealed] = await EncryptionCodec(parse_keys(keys(new_key(key_id="gone")))).encode([plain_payload()])
    other = EncryptionCodec(parse_keys(keys(new_key(key_id="other"))))
    with pytest.raises(PayloadKeyError, match="'gone'.*not configured.*other"):
        await other.decode([sealed])
    same_id_other_key = EncryptionCodec(parse_keys(keys(new_key(key_id="gone"))))
    with pytest.raises(PayloadDecryptError, match="key 'gone'"):
        await same_id_other_key.decode([sealed])
    no_key_id = Payload(metadata={"encoding": ENCODING}, data=sealed.data)
    with pytest.raises(PayloadKeyError, match="no key id"):
        await other.decode([no_key_id])


@pytest.mark.parametrize(
    "text, error",
    [
        ("k1", "id:base64key"),
        ("k1:not base64!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "5 bytes"),
        (keys(("k1", os.urandom(32)), ("k1", os.urandom(32))), "twice"),
    ],
)
def test_bad_key_configuration_is_refused(text, error):
    with pytest.raises(PayloadKeyError, match=error):
        parse_keys(text)


def test_encrypting_key_must_fit_the_cipher():
    with pytest.raises(PayloadKeyError, match="SM4-GCM needs 16"):
        EncryptionCodec(parse_keys(keys(new_key(AES_GCM))), SM4_GCM)


async def test_sm4_gcm_round_trip_and_rotation_from_aes():
    aes, sm4 = new_key(AES_GCM, "aes"), new_key(SM4_GCM, "sm4")
    [old] = await EncryptionCodec(parse_keys(keys(aes)), AES_GCM).encode([plain_payload()])
    codec = EncryptionCodec(parse_keys(keys(sm4, aes)), "sm4-gcm")
    [new] = await codec.encode([plain_payload()])
    assert new.metadata["encryption-cipher"] == b"SM4-GCM" and clear_in(new.data) == []
    assert await codec.decode([new, old]) == [plain_payload(), plain_payload()]
    tampered = Payload(metadata=dict(new.metadata), data=new.data[:-1] + bytes([new.data[-1] ^ 1]))
    with pytest.raises(PayloadDecryptError):
        await codec.decode([tampered])


def test_embedded_default_generates_one_key_file_and_keeps_it(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", payload_keys=None)
    first = payload_codec(settings)
    path = tmp_path / "data" / "payload.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = payload_codec(settings)  # a restart, or another process of the installation
    assert again.ring == first.ring and len(first.ring.keys) == 1 and len(first.ring.active[1]) == 32
    # The file takes rotation too: a new first line encrypts, the old one still decrypts.
    added = new_key(key_id="next")
    path.write_text(format_keys([added]) + "\n" + path.read_text())
    assert payload_codec(settings).key_id == "next" and len(payload_codec(settings).ring.keys) == 2


def test_configured_keys_win_over_the_file_and_no_file_when_encryption_is_off(tmp_path):
    k = new_key(key_id="cfg")
    codec = payload_codec(Settings(data_dir=tmp_path, payload_keys=keys(k)))
    assert codec.key_id == "cfg" and not (tmp_path / "payload.keys").exists()
    off = payload_codec(Settings(data_dir=tmp_path, payload_keys=None, payload_encryption=False))
    assert off.key_id is None and not (tmp_path / "payload.keys").exists()
    assert keyring_for(None, tmp_path, create=False).keys == ()


async def test_encryption_off_still_reads_encrypted_histories(tmp_path):
    k = new_key(key_id="cfg")
    [sealed] = await EncryptionCodec(parse_keys(keys(k))).encode([plain_payload()])
    off = payload_codec(Settings(data_dir=tmp_path, payload_keys=keys(k), payload_encryption=False))
    [same] = await off.encode([plain_payload()])
    assert same == plain_payload()
    assert await off.decode([sealed]) == [plain_payload()]


async def test_failure_messages_are_encrypted_too():
    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    conv = data_converter(Settings(payload_keys=keys(new_key())))
    failure = Failure()
    await conv.encode_failure(ApplicationError(f"cannot store {NAME} {PHONE}"), failure)
    assert clear_in(failure.SerializeToString()) == []
    err = await conv.decode_failure(failure)
    assert PHONE in str(err)


def test_dev_server_ui_uses_the_codec_endpoint():
    from cli.dev import temporal_command

    argv = temporal_command(Settings(api_host="0.0.0.0", api_port=8123))
    assert argv[argv.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8123/api/v1/codec"
