"""Connecting to Temporal with the project's data converter, and registering its search attributes."""
from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from domain.settings import Settings
from workflows import search_attributes as sa


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_target, namespace=settings.temporal_namespace,
                                data_converter=pydantic_data_converter)


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Add the custom search attributes that are missing; returns the names added."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace))
        known = set(existing.custom_attributes)
    except RPCError as err:  # the time-skipping test server can add but not list them
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {k.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for k in sa.ALL if k.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
    return sorted(missing)
