"""Every `careledger audit` example in the README runs, after the demo, and answers."""

import json
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

from careledger.stack.nats_server import NatsServer
from tests.e2e.stack import get_json, running_stack

README = Path(__file__).parents[2] / "README.md"
CLI = "careledger.ledger.entrypoints.cli"


def readme_audit_examples() -> list[list[str]]:
    lines = re.findall(r"^\.venv/bin/careledger (audit .+)$", README.read_text(), re.MULTILINE)
    assert len(lines) >= 6, "the README lost its auditor examples"
    return [shlex.split(line) for line in lines]


def test_every_readme_auditor_example_answers_from_the_demo_data(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    with running_stack(nats_server, tmp_path) as (intake, ledger, env):
        run = [sys.executable, "-m", CLI]
        demo = subprocess.run(
            [*run, "demo", "--intake", intake, "--url", ledger],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        subject = get_json(ledger, "/v1/registers/complaints", env["CARELEDGER_TOKEN"])["items"][0][
            "subject_id"
        ]

        answers = {}
        bundle, key = tmp_path / "proof.json", tmp_path / "ledger.vkey"
        served = urllib.request.Request(
            f"{ledger}/v1/ledger/key",
            headers={"Authorization": f"Bearer {env['CARELEDGER_TOKEN']}"},
        )
        with urllib.request.urlopen(served, timeout=10) as response:
            key.write_bytes(response.read())
        documented = [  # in the README's prose: they need the demo's subject id
            ["audit", "timeline", subject],
            ["audit", "consent", subject, "call_recording", "--at", "now"],
            ["audit", "proof", subject, "--out", str(bundle)],
            ["audit", "proof", "--check", str(bundle), "--key", str(key)],
        ]
        for args in [*readme_audit_examples(), *documented]:
            args = [args[0], "--url", ledger, *args[1:]]
            done = subprocess.run(
                [*run, *args], env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, (args, done.stdout, done.stderr)
            key = args[3] + "".join(f" {flag}" for flag in ("--as-of", "--check") if flag in args)
            answers[key] = json.loads(done.stdout)

    assert answers["complaints"]["items"][0]["status"] == "escalated"
    assert answers["consents"]["items"][0]["purpose"] == "marketing_email"
    assert answers["escalations"]["items"][0]["body_name"] == "OMIC Madrid"
    assert answers["contacts"]["total"] == 1
    assert answers["verify"]["ok"] is True
    inclusion, consistency = answers["inclusion"], answers["consistency"]
    assert inclusion["sequence"] == 3 and inclusion["tree_size"] >= 10
    assert consistency["first"] == 2 and consistency["consistency_path"]
    manifest = answers["export"]["manifest"]
    assert {f["table"] for f in manifest["files"]} >= {"events", "complaints", "consents"}
    assert answers["sql"]["rows"] == [{"channel": "social", "complaints": 1}]
    assert len(answers["timeline"]["items"]) == 10
    assert answers["consents --as-of"]["items"] == answers["consents"]["items"]
    breached = answers["complaint_deadlines --as-of"]
    assert breached["total"] >= 1 and breached["replayed_events"] == 2  # filed, acknowledged
    assert {r["status"] for r in breached["items"]} == {"breached"}
    consent = answers["consent"]
    assert (consent["consented"], consent["given"]["evidence"]["kind"]) == (True, "call_recording")
    assert (answers["proof"]["items"], answers["proof --check"]["ok"]) == (10, True)
    counts = answers["return"]["counts"]
    assert [(r["channel"], r["opened"], r["closed"]) for r in counts] == [
        ("social", 1, 0),
        (None, 1, 0),
    ]
