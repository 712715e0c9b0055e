"""Only the project's own clients may start a case or take a step in it: a signature on every update and start.

Whoever reaches Temporal's port can send an update by hand (`temporal workflow update execute --name urge
--input '{"actor": {...}}'`), and the case's validators would judge it by the actor it names. So the project's
client (`workflows/temporal_client.py: connect`, which the API, the command line and the tests use) adds a header
`wuhuan-signature` to every update and workflow start: an HMAC-SHA256, with a key derived from the installation's
payload keys, over the workflow id, the update id (or the workflow type), the name, the time of signing and the
arguments as the data converter encodes them. The worker's interceptor checks it:

- an update without a valid signature is refused in the update *validator* phase, so, like any refused step, it
  leaves no trace in the history; validators do not run on replay, so histories recorded before signatures
  (tests/replay/histories) replay unchanged;
- a start of `DisputeCase` or `HazardRectification` without one fails the workflow at once, before it records
  or sends anything (a start is in the history before any worker sees it: refusing it quietly is not possible).
  The check runs only the first time a run executes, never on replay, and not for a continued run
  (continue-as-new is the worker's own doing; only the server sets `continued_run_id`).

A signature is valid for `MAX_AGE` either side of the worker's clock, and names one update id, so one seen in a
history cannot be reused for another step or, after that window, at all. Keys: each payload key (the configured
`WUHUAN_PAYLOAD_KEYS` or `<data_dir>/payload.keys`) yields a signing key; the first signs, all verify, so
rotation works as it does for encryption. The keys never enter the workflow sandbox: the check is an extern
function run by the worker outside it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import temporalio.client
import temporalio.worker
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError

HEADER = "wuhuan-signature"
VERSION = 1
MAX_AGE = 300.0  # seconds either side: clock skew between the API's host and the worker's
SIGNED_STARTS = frozenset({"DisputeCase", "HazardRectification"})
EXTERN_CHECK = "wuhuan_check_signature"
REFUSED = "UnsignedRequest"
_DERIVE = b"wuhuan-client-signature-v1"


def signing_keys(payload_keys: Sequence[tuple[str, bytes]]) -> tuple[tuple[str, bytes], ...]:
    """One signing key per payload key, derived so that a signature never reveals anything of the cipher key."""
    return tuple((kid, hmac.new(key, _DERIVE, hashlib.sha256).digest()) for kid, key in payload_keys)


def _canonical(payload: Payload) -> bytes:
    """The encoding and the data; JSON re-serialised with sorted keys, so that the client's encoding of a model
    and the worker's re-encoding of the decoded model agree whatever the order of the fields."""
    encoding = payload.metadata.get("encoding", b"")
    data = payload.data
    if encoding == b"json/plain":
        data = json.dumps(json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return encoding + b"\x00" + data


def args_digest(converter: PayloadConverter, args: Sequence[Any]) -> bytes:
    h = hashlib.sha256()
    for p in converter.to_payloads(args) if args else []:
        c = _canonical(p)
        h.update(len(c).to_bytes(8, "big") + c)
    return h.digest()


def _message(kind: str, workflow_id: str, ref: str, name: str, at: int, digest: bytes) -> bytes:
    parts = [f"v{VERSION}", kind, workflow_id, ref, name, str(at)]
    return "\x00".join(parts).encode() + b"\x00" + digest


def sign(key: tuple[str, bytes], kind: str, workflow_id: str, ref: str, name: str, digest: bytes) -> Payload:
    kid, secret = key
    at = int(time.time())
    mac = hmac.new(secret, _message(kind, workflow_id, ref, name, at, digest), hashlib.sha256).hexdigest()
    body = json.dumps({"v": VERSION, "kid": kid, "at": at, "mac": mac}).encode()
    return Payload(metadata={"encoding": b"json/plain"}, data=body)


def check(
    keys: Sequence[tuple[str, bytes]],
    header: Payload | None,
    kind: str,
    workflow_id: str,
    ref: str,
    name: str,
    digest: bytes,
    now: float | None = None,
) -> str | None:
    """None when the header is a valid signature of this request; otherwise why not (for the worker's log)."""
    if header is None:
        return "no signature"
    try:
        body = json.loads(header.data)
        kid, at, mac = str(body["kid"]), int(body["at"]), str(body["mac"])
    except (ValueError, KeyError, TypeError):
        return "malformed signature"
    secret = dict(keys).get(kid)
    if secret is None:
        return f"signed with unknown key {kid!r}"
    if abs((time.time() if now is None else now) - at) > MAX_AGE:
        return "signature expired"
    want = hmac.new(secret, _message(kind, workflow_id, ref, name, at, digest), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, mac):
        return "bad signature"
    return None


# --- the client side: the project's clients sign ----------------------------------------------------------


class SigningInterceptor(temporalio.client.Interceptor):
    """Signs every update and workflow start the client sends (`connect` installs it)."""

    def __init__(self, keys: Sequence[tuple[str, bytes]], converter: PayloadConverter):
        if not keys:
            raise ValueError("no signing key: the payload keys are empty")
        self.key, self.converter = keys[0], converter

    def intercept_client(self, next: temporalio.client.OutboundInterceptor) -> temporalio.client.OutboundInterceptor:
        return _SigningOutbound(next, self)


class _SigningOutbound(temporalio.client.OutboundInterceptor):
    def __init__(self, next: temporalio.client.OutboundInterceptor, root: SigningInterceptor):
        super().__init__(next)
        self.root = root

    def _signed(self, headers: Mapping[str, Payload], kind: str, wf_id: str, ref: str, name: str, args: Any) -> dict:
        digest = args_digest(self.root.converter, args)
        return {**headers, HEADER: sign(self.root.key, kind, wf_id, ref, name, digest)}

    async def start_workflow(self, input: temporalio.client.StartWorkflowInput) -> Any:
        input.headers = self._signed(input.headers, "start", input.id, input.workflow, input.workflow, input.args)
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: temporalio.client.StartWorkflowUpdateInput) -> Any:
        input.update_id = input.update_id or str(uuid.uuid4())
        input.headers = self._signed(input.headers, "update", input.id, input.update_id, input.update, input.args)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(self, input: temporalio.client.StartWorkflowUpdateWithStartInput) -> Any:
        s, u = input.start_workflow_input, input.update_workflow_input
        s.headers = self._signed(s.headers, "start", s.id, s.workflow, s.workflow, s.args)
        u.update_id = u.update_id or str(uuid.uuid4())
        u.headers = self._signed(u.headers, "update", s.id, u.update_id, u.update, u.args)
        return await super().start_update_with_start_workflow(input)


# --- the worker side: the worker checks -------------------------------------------------------------------


class VerifyingInterceptor(temporalio.worker.Interceptor):
    """Registered on the worker (worker.build_worker): refuses unsigned updates and starts (see the module)."""

    def __init__(self, keys: Sequence[tuple[str, bytes]], on_refusal: Callable[[str, str, str], None] | None = None):
        self.keys = tuple(keys)
        self.on_refusal = on_refusal

    def _check(self, header: Payload | None, kind: str, workflow_id: str, ref: str, name: str, digest: bytes) -> bool:
        why = check(self.keys, header, kind, workflow_id, ref, name, digest)
        if why is not None and self.on_refusal is not None:
            self.on_refusal(why, workflow_id, name)
        return why is None

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[EXTERN_CHECK] = self._check
        return _VerifyingInbound


def _refuse(what: str) -> ApplicationError:
    return ApplicationError(
        f"{what} refused: not signed by this installation's client", type=REFUSED, non_retryable=True
    )


class _VerifyingInbound(temporalio.worker.WorkflowInboundInterceptor):
    @staticmethod
    def _valid(headers: Mapping[str, Payload], kind: str, ref: str, name: str, args: Sequence[Any]) -> bool:
        digest = args_digest(workflow.payload_converter(), args)
        checker = workflow.extern_functions()[EXTERN_CHECK]
        return bool(checker(headers.get(HEADER), kind, workflow.info().workflow_id, ref, name, digest))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        if (
            info.workflow_type in SIGNED_STARTS
            and info.continued_run_id is None
            and not workflow.unsafe.is_replaying()
            and not self._valid(input.headers, "start", info.workflow_type, info.workflow_type, input.args)
        ):
            raise _refuse("workflow start")
        return await super().execute_workflow(input)

    def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
        # Only live: validators are not run for updates already in a history, so old histories replay as before.
        if not self._valid(input.headers, "update", input.id, input.update, input.args):
            raise _refuse(f"update {input.update}")
        super().handle_update_validator(input)
