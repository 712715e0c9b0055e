"""Connecting to Temporal with the project's data converter, and registering its search attributes."""

from __future__ import annotations

import dataclasses
import logging

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.service import RPCError, RPCStatusCode

from domain.settings import Settings
from workflows import search_attributes as sa
from workflows.codec import EncryptionCodec, cipher_name, keyring_for
from workflows.signatures import SigningInterceptor, VerifyingInterceptor, signing_keys


def payload_codec(settings: Settings) -> EncryptionCodec:
    """The payload codec of this installation: the configured keys, or its generated key file."""
    cipher = cipher_name(settings.payload_cipher)
    ring = keyring_for(settings.payload_keys, settings.data_dir, cipher, create=settings.payload_encryption)
    return EncryptionCodec(ring, cipher, encrypt=settings.payload_encryption)


def data_converter(settings: Settings) -> DataConverter:
    """pydantic_data_converter with every payload encrypted (workflows/codec.py), and failure messages and
    stack traces moved into an (encrypted) payload too, since an error's text may quote personal data.
    The worker, the API, the command line and the Replayer must all use this one."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=payload_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def step_keys(settings: Settings) -> tuple[tuple[str, bytes], ...]:
    """The keys that sign and check updates and starts (workflows/signatures.py): derived from the payload keys,
    so an installation has one secret to keep, and rotation of one rotates the other."""
    cipher = cipher_name(settings.payload_cipher)
    return signing_keys(keyring_for(settings.payload_keys, settings.data_dir, cipher, create=True).keys)


def client_interceptors(settings: Settings) -> list[SigningInterceptor]:
    """What every client of the project installs: the signature on each update and start, which the worker
    requires. A client without it (someone at Temporal's port with the `temporal` CLI) is refused."""
    return [SigningInterceptor(step_keys(settings), data_converter(settings).payload_converter)]


def worker_interceptors(settings: Settings) -> list[VerifyingInterceptor]:
    log = logging.getLogger("wuhuan.worker.signatures")

    def refused(why: str, workflow_id: str, name: str) -> None:
        log.warning("refused %s of %s: %s", name, workflow_id, why)

    return [VerifyingInterceptor(step_keys(settings), refused)]


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        interceptors=client_interceptors(settings),
    )


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add the custom search attributes that are missing; returns the names added."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as err:  # the time-skipping test server can add but not list them
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {k.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for k in sa.ALL if k.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
