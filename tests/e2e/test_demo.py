"""`careledger demo` as a user runs it: against intake and the ledger as real processes."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from careledger.ledger.demo import run_demo
from careledger.stack.nats_server import NatsServer, free_port
from tests.e2e.stack import get_json, running_stack

CLI = "careledger.ledger.entrypoints.cli"


def test_the_demo_tells_a_story_the_registers_hold_and_refuses_the_pre_ticked_box(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    with running_stack(nats_server, tmp_path) as (intake, ledger, env):
        demo = subprocess.run(
            [sys.executable, "-m", CLI, "demo", "--intake", intake, "--url", ledger],
            env=env | {"PYTHONIOENCODING": "utf-8"},
            capture_output=True,
            encoding="utf-8",
            timeout=60,
        )
        output = demo.stdout + demo.stderr
        assert demo.returncode == 0, output
        assert re.search(r"complaint filed on twitter\s+CL-", output), output
        assert "pre-ticked box" in output and "refused by intake (422)" in output, output
        assert "the ledger has applied every event" in output, output
        subject = re.search(r"complaints\?subject_id=([0-9a-f-]{36})", output)
        complaint = re.search(r"escalations\?complaint_id=([0-9a-f-]{36})", output)
        assert subject and complaint, output

        complaints = get_json(
            ledger, "/v1/registers/complaints", env["CARELEDGER_TOKEN"], subject_id=subject[1]
        )["items"]
        assert [(c["complaint_id"], c["status"], c["level"]) for c in complaints] == [
            (complaint[1], "escalated", "consumer_office")
        ]
        assert complaints[0]["tracking_code"] in output

        escalations = get_json(
            ledger, "/v1/registers/escalations", env["CARELEDGER_TOKEN"], complaint_id=complaint[1]
        )
        assert [
            (e["to_level"], e["initiated_by"], e["external"], e["body_name"])
            for e in escalations["items"]
        ] == [
            ("supervisor", "staff", False, None),
            ("consumer_office", "customer", True, "OMIC Madrid"),
        ]

        consents = get_json(
            ledger, "/v1/registers/consents", env["CARELEDGER_TOKEN"], subject_id=subject[1]
        )["items"]
        assert sorted((c["purpose"], c["state"], c["mechanism"]) for c in consents) == [
            ("call_recording", "given", "verbal"),
            ("marketing_email", "withdrawn", "double_opt_in_confirmed"),
        ]

        verify = get_json(ledger, "/v1/ledger/verify", env["CARELEDGER_TOKEN"])
        assert verify["ok"] is True, verify


def test_the_demo_asks_whether_make_run_is_running_when_no_intake_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    assert run_demo(nobody, nobody) == 2
    output = capsys.readouterr().out
    assert f"no intake answers at {nobody}" in output and "is `make run` running?" in output
