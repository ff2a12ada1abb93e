"""``careledger demo``: a realistic customer-care story sent through intake's HTTP API.

A customer complains on Twitter; the complaint is acknowledged, escalated by staff to a
supervisor and by the customer to the municipal consumer office. On a phone call they
consent verbally to the recording; on the web form they confirm a double opt-in to
marketing email, which they later withdraw by email. A pre-ticked box is refused by intake.
Every run is a new story (fresh ids and idempotency keys). It speaks as make run's
``dev-channel`` client (``client_id`` crm; its token from ``CARELEDGER_INTAKE_TOKEN``,
``CARELEDGER_INTAKE_TOKEN_FILE`` or ``var/tokens/``). Standard library only.
"""

import datetime as dt
import hashlib
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from careledger.ledger.entrypoints.client import (
    DEFAULT_URL,
    INTAKE_TOKEN,
    LEDGER_TOKEN,
    bearer_token,
)

Body = dict[str, Any]
Step = tuple[str, str, Body]  # what to print, command, body (without subject and time)

CONTROLLER = "Acme Telecom Iberia S.A."
NAME, EMAIL = "Lucía Fernández Ortega", "lucia.fernandez@example.com"
TWEET = "@AcmeTelecom my fibre has been down for 5 days and nobody answers my calls. #fail"
CALL_SCRIPT = "This call may be recorded for quality and as proof of what we agree. Do you agree?"
WEB_NOTICE = "Tick the box to receive our offers by email. You can unsubscribe at any time."


class IntakeUnreachable(Exception):
    pass


def _consent(consent_id: str, purpose: str, mechanism: str, channel: str, **more: Any) -> Body:
    fields = {"consent_id": consent_id, "controller": CONTROLLER, "purposes": [purpose]}
    return fields | {"lawful_basis": "consent", "mechanism": mechanism, "channel": channel} | more


def _notice(notice_id: str, text: str) -> Body:
    return {"id": notice_id, "version": "v3", "sha256": hashlib.sha256(text.encode()).hexdigest()}


def _story(s: str, complaint: str, contacts: list[str], consents: list[str]) -> list[Step]:
    agent, customer = {"kind": "agent", "id": "agent-0412"}, {"kind": "customer", "id": s}
    twitter, phone, web = contacts
    recording, marketing, pre_ticked = consents
    web_form = {"actor": customer, "contact_id": web, "notice": _notice("web-offers", WEB_NOTICE)}
    deadline = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    # fmt: off
    return [
        ("contact opened on twitter", "open-contact", {
            "actor": agent, "contact_id": twitter, "channel": "social", "network": "twitter",
            "direction": "inbound", "personal": {"name": NAME}}),
        ("complaint filed on twitter", "file-complaint", {
            "actor": agent, "complaint_id": complaint, "contact_id": twitter, "kind": "complaint",
            "product": "fibre.home", "cause": "outage.no_callback", "channel": "social",
            "jurisdiction": "ES-MD", "sector": "telecommunications",
            "personal": {"name": NAME, "email": EMAIL, "text": TWEET}}),
        ("complaint acknowledged", "acknowledge-complaint", {
            "actor": {"kind": "system", "id": "complaints-desk"}, "complaint_id": complaint,
            "deadline_communicated": deadline}),
        ("escalated by staff to a supervisor", "escalate-complaint", {
            "actor": agent, "complaint_id": complaint, "to_level": "supervisor",
            "initiated_by": "staff", "reason_code": "no_technician_slot"}),
        ("escalated by the customer to OMIC Madrid", "escalate-complaint", {
            "actor": customer, "complaint_id": complaint, "to_level": "consumer_office",
            "body_name": "OMIC Madrid", "external_reference": f"OMIC-MAD-{complaint[:6]}",
            "initiated_by": "customer", "reason_code": "customer_disagrees"}),
        ("phone call opened", "open-contact", {
            "actor": agent, "contact_id": phone, "channel": "phone", "direction": "inbound"}),
        ("verbal consent to call recording", "give-consent", _consent(
            recording, "call_recording", "verbal", "phone", actor=agent, contact_id=phone,
            notice=_notice("call-recording-script", CALL_SCRIPT),
            evidence={"kind": "call_recording", "reference": f"rec-{phone[:8]}"})),
        ("web form opened", "open-contact", {
            "actor": customer, "contact_id": web, "channel": "web_form", "direction": "inbound",
            "personal": {"email": EMAIL}}),
        ("double opt-in to marketing email", "give-consent", _consent(
            marketing, "marketing_email", "double_opt_in_confirmed", "web_form", **web_form,
            evidence={"kind": "email_confirmation", "reference": f"doi-{marketing[:8]}"})),
        ("marketing email consent withdrawn by email", "withdraw-consent", {
            "actor": customer, "consent_id": marketing, "purposes": ["marketing_email"],
            "channel": "email"}),
        ("pre-ticked box for partner offers", "give-consent", _consent(
            pre_ticked, "partner_offers", "pre_ticked_box", "web_form", **web_form,
            evidence={"kind": "form_submission", "reference": f"form-{pre_ticked[:8]}"})),
    ]
    # fmt: on


def _authorization(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _post(intake: str, command: str, body: Body, key: str) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    request = urllib.request.Request(
        f"{intake.rstrip('/')}/v1/commands/{command}",
        data=json.dumps(body).encode(),
        headers=headers | _authorization(bearer_token(INTAKE_TOKEN)),
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        raise IntakeUnreachable(f"no intake answers at {intake} ({reason})") from exc


def _send(intake: str, run: str, s: str, steps: list[Step], client_id: str) -> int | None:
    """Send the steps in order, a few minutes apart; the last stream sequence, or None."""
    now, last = dt.datetime.now(dt.UTC), 0
    for i, (what, command, body) in enumerate(steps):
        at = now - dt.timedelta(minutes=3 * (len(steps) - i))
        common = {"subject_id": s, "occurred_at": at.isoformat(), "client_id": client_id}
        status, reply = _post(intake, command, common | body, f"careledger-demo-{run}-{i:02d}")
        refusal_expected = body.get("mechanism") == "pre_ticked_box"
        if refusal_expected and status == 422:
            print(f"✗ {what} refused by intake (422): {reply['errors'][0]['message']}")
        elif status == 201 and not refusal_expected:
            code = f"  {reply['tracking_code']}" if reply.get("tracking_code") else ""
            print(f"✓ {what}{code}  event {reply['event_id'][:8]}…")
            last = max(last, reply["stream_sequence"])
        else:
            print(f"✗ {command} ({what}) answered {status}: {json.dumps(reply)}")
            if status in (401, 403):
                print(f"  intake's token: {INTAKE_TOKEN[0]} or {INTAKE_TOKEN[1]}; --client-id")
            return None
    return last


def _wait_for_ledger(ledger: str, sequence: int, timeout: float = 15.0) -> str:
    deadline, position = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        try:
            url = f"{ledger.rstrip('/')}/v1/ledger/position"
            asked = urllib.request.Request(url, headers=_authorization(bearer_token(LEDGER_TOKEN)))
            with urllib.request.urlopen(asked, timeout=3) as response:
                position = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                return f"the ledger refused to say ({exc.code}): set {LEDGER_TOKEN[0]}"
            # else e.g. 503 while the ledger starts
        except OSError:
            return f"the ledger was not reachable at {ledger}: start it (make run) to look"
        if position.get("lag") == 0 and position.get("ledger_sequence", 0) >= sequence:
            return f"the ledger has applied every event (stream sequence {sequence})"
        time.sleep(0.2)
    return f"the ledger is still catching up ({position}); the registers will fill shortly"


def _where_to_look(ledger: str, s: str, complaint: str) -> None:
    base, url = ledger.rstrip("/"), "" if ledger == DEFAULT_URL else f" --url {ledger}"
    paths = [f"registers/complaints?subject_id={s}", f"registers/consents?subject_id={s}"]
    paths += [f"registers/escalations?complaint_id={complaint}", f"subjects/{s}/timeline"]
    audits = [f"complaints --filter subject_id={s}", f"consents --filter subject_id={s}"]
    audits += [f"escalations --filter complaint_id={complaint}", f"timeline {s}"]
    print("\nWhere to look")
    for path in [*paths, "ledger/verify"]:
        print(f"  {base}/v1/{path}")
    for audit in [*audits, "verify"]:
        print(f"  careledger audit{url} {audit}")


def run_demo(intake_url: str, ledger_url: str, client_id: str = "crm") -> int:
    run, s, complaint = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    contacts = [str(uuid.uuid4()) for _ in range(3)]
    consents = [str(uuid.uuid4()) for _ in range(3)]
    print(f"CareLedger demo: subject {s}, through intake at {intake_url}\n")
    try:
        last = _send(intake_url, run, s, _story(s, complaint, contacts, consents), client_id)
    except IntakeUnreachable as exc:
        print(f"✗ {exc}: is `make run` running? (or pass --intake URL)")
        return 2
    if last is None:
        return 1
    print(f"\n{_wait_for_ledger(ledger_url, last)}")
    _where_to_look(ledger_url, s, complaint)
    return 0
