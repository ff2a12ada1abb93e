"""``careledger``: the auditors' and operators' command line.

  careledger audit verify                 chain, completeness against the stream, rebuild
  careledger audit complaints --filter status=open
  careledger audit timeline SUBJECT_ID
  careledger audit consents --as-of 2026-11-01T00:00:00Z [--axis recorded]   as it stood then
  careledger audit consent SUBJECT_ID PURPOSE --at T   was it consented at T, and the proof
  careledger audit proof SUBJECT_ID --out FILE; careledger audit proof --check FILE --key KEY
  careledger audit checkpoint --check OLD NEW --key KEY   the log only grew (offline but the proof)
  careledger audit inclusion SEQUENCE [--size N]; careledger audit consistency FROM [--to N]
  careledger audit export --format csv    files + manifest, written by the ledger
  careledger audit sql "SELECT ..."       read-only SQL over a Parquet snapshot
  careledger audit return --period last-month --by channel   the complaints return
  careledger ledger rebuild --db FILE     rebuild every projection (ledger stopped; --workers N)
  careledger admin provision              make the streams and the vault bucket (as the admin)
  careledger admin checkpoint-key --origin NAME --out FILE   the ledger's signing key (0600)
  careledger ledger serve                 run the ledger (same as careledger-ledger)
  careledger demo                         a realistic scenario through intake

While the ledger runs it alone holds its DuckDB file, so audit commands ask its HTTP API
(--url, default http://127.0.0.1:8081, env CARELEDGER_LEDGER_URL) with an auditor's bearer
token: CARELEDGER_TOKEN, or the file CARELEDGER_TOKEN_FILE names, or (after `make run`, from
the repository) var/tokens/dev-auditor.token. The demo sends intake the token in
CARELEDGER_INTAKE_TOKEN, CARELEDGER_INTAKE_TOKEN_FILE or var/tokens/dev-channel.token.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from careledger.ledger.adapters.rebuild_parts import default_workers
from careledger.ledger.deadlines import load_policy
from careledger.ledger.entrypoints import offline, proof_checks
from careledger.ledger.entrypoints.client import (
    DEFAULT_URL,
    LedgerUnreachable,
    TokenUnreadable,
    call,
)
from careledger.ledger.queries.registers import REGISTERS
from careledger.ledger.queries.returns import DIMENSIONS, PERIODS


def _print(document: Any) -> int:
    print(json.dumps(document, indent=2, default=str, ensure_ascii=False))
    status = document.get("http_status", 200) if isinstance(document, dict) else 200
    return 0 if status < 400 else 1


def _filters(pairs: list[str]) -> dict[str, str]:
    filters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--filter takes NAME=VALUE, not {pair!r}")
        filters[name] = value
    return filters


def _history(url: str, args: argparse.Namespace) -> int:
    """Consent at an instant; a subject's proof bundle, fetched, or checked offline."""
    if args.audit == "consent":
        path = f"/v1/subjects/{args.subject_id}/consents/{args.purpose}"
        return _print(call(url, path, {"at": args.at, "axis": args.axis}))
    if args.check:
        checked = proof_checks.check_proof(args)
        _print(checked)
        return (
            0 if checked["ok"] else 2 if checked["proves_less"] and not checked["problems"] else 1
        )
    if not args.subject_id:
        raise SystemExit("careledger audit proof: give SUBJECT_ID, or --check FILE")
    bundle = call(url, f"/v1/subjects/{args.subject_id}/proof")
    if args.out is None or "http_status" in bundle:
        return _print(bundle)
    args.out.write_text(json.dumps(bundle, indent=2))
    return _print({"out": str(args.out), "items": len(bundle["items"]), "problems": []})


def _checkpoint(url: str, args: argparse.Namespace) -> int:
    """Two saved checkpoints: both signed by the key, the new one extending the old."""
    key = proof_checks.verifier(args.key, "careledger audit checkpoint --check")
    old_file, new_file = args.check
    try:
        old = proof_checks.read_checkpoint(old_file, key, "old")
        new = proof_checks.read_checkpoint(new_file, key, "new")
    except proof_checks.CheckpointProblem as exc:
        _print({"ok": False, "problems": [str(exc)]})
        return 1
    if old.origin != key.name:
        _print(
            {"ok": False, "problems": [f"the checkpoints are of {old.origin!r}, not {key.name!r}"]}
        )
        return 1
    if args.proof is not None:
        proof = proof_checks.read_json(args.proof, "careledger audit checkpoint --check")
    elif 0 < old.size < new.size:
        proof = call(
            url, "/v1/ledger/proofs/consistency", {"from": str(old.size), "to": str(new.size)}
        )
    else:
        proof = {"consistency_path": []}
    problems = proof_checks.check_checkpoints(old, new, proof)
    _print({"ok": not problems, "old_size": old.size, "new_size": new.size, "problems": problems})
    return 1 if problems else 0


def _sql(url: str, args: argparse.Namespace) -> int:
    """One SELECT over a Parquet export (made now unless --snapshot names one), sandboxed."""
    snapshot = args.snapshot
    if snapshot is None:
        made = call(url, "/v1/exports", {"format": "parquet"}, method="POST")
        if "directory" not in made:
            return _print(made)
        snapshot = Path(made["directory"])
    limits = offline.Limits(seconds=args.time_limit, memory=args.memory_limit, rows=args.max_rows)
    return _print(offline.sql(snapshot, args.query, limits))


def _audit(args: argparse.Namespace) -> int:
    url = args.url
    if args.audit in ("consent", "proof"):
        return _history(url, args)
    if args.audit == "checkpoint":
        return _checkpoint(url, args)
    if args.audit == "inclusion":
        asked = {"sequence": str(args.sequence)} | ({"size": str(args.size)} if args.size else {})
        return _print(call(url, "/v1/ledger/proofs/inclusion", asked))
    if args.audit == "consistency":
        asked = {"from": str(args.start)} | ({"to": str(args.end)} if args.end else {})
        return _print(call(url, "/v1/ledger/proofs/consistency", asked))
    if args.audit == "verify":
        report = call(url, "/v1/ledger/verify")
        _print(report)
        return 0 if report.get("ok") else 1
    if args.audit == "timeline":
        return _print(call(url, f"/v1/subjects/{args.subject_id}/timeline"))
    if args.audit == "export":
        return _print(call(url, "/v1/exports", {"format": args.format}, method="POST"))
    if args.audit == "return":
        asked = {"from": args.start, "to": args.end, "period": args.period, "by": args.by}
        params = {k: v for k, v in asked.items() if v}
        if args.format == "json":
            return _print(call(url, "/v1/returns/complaints", params))
        params["format"] = args.format
        return _print(call(url, "/v1/returns/complaints", params, method="POST"))
    if args.audit == "sql":
        return _sql(url, args)
    params = _filters(args.filter) | {"limit": str(args.limit), "offset": str(args.offset)}
    if args.as_of:
        params |= {"as_of": args.as_of, "axis": args.axis}
    return _print(call(url, f"/v1/registers/{args.audit}", params))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="careledger", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top = parser.add_subparsers(dest="area", required=True)
    audit = top.add_parser("audit", help="query and verify the registers")
    audit.add_argument("--url", default=os.environ.get("CARELEDGER_LEDGER_URL", DEFAULT_URL))
    sub = audit.add_subparsers(dest="audit", required=True)
    sub.add_parser("verify", help="recompute the hash chain, compare with the stream and a rebuild")
    timeline = sub.add_parser("timeline", help="every event about one data subject")
    timeline.add_argument("subject_id")
    consent = sub.add_parser("consent", help="was PURPOSE consented by SUBJECT_ID at an instant")
    consent.add_argument("subject_id")
    consent.add_argument("purpose")
    consent.add_argument("--at", default="now", help="ISO 8601 with a zone, or now")
    consent.add_argument("--axis", choices=("occurred", "recorded"), default="occurred")
    proof = sub.add_parser("proof", help="every event about a subject, with its hash links")
    proof.add_argument("subject_id", nargs="?")
    proof.add_argument("--out", type=Path, help="write the bundle to FILE")
    proof.add_argument("--check", type=Path, metavar="FILE", help="check a bundle, offline")
    proof.add_argument("--key", help="the ledger's note verifier key, or a file holding it")
    inclusion = sub.add_parser("inclusion", help="RFC 9162 inclusion proof of an event")
    inclusion.add_argument("sequence", type=int, help="the event's stream sequence")
    inclusion.add_argument("--size", type=int, help="in the tree of SIZE leaves (default: signed)")
    consistency = sub.add_parser("consistency", help="RFC 9162 consistency proof of two sizes")
    consistency.add_argument("start", type=int, metavar="FROM", help="the older tree's size")
    consistency.add_argument("--to", dest="end", type=int, help="the newer (default: signed)")
    checkpoint = sub.add_parser(
        "checkpoint", help="two saved checkpoints: both signed, the log only appended to"
    )
    checkpoint.add_argument("--check", nargs=2, type=Path, metavar=("OLD", "NEW"), required=True)
    checkpoint.add_argument("--key", help="the ledger's note verifier key, or a file holding it")
    checkpoint.add_argument(
        "--proof", type=Path, help="the consistency proof (JSON); default: ask the ledger"
    )
    export = sub.add_parser("export", help="CSV or Parquet files with a manifest")
    export.add_argument("--format", choices=("csv", "parquet"), default="parquet")
    ret = sub.add_parser("return", help="the complaints return for a period ([from, to), UTC)")
    ret.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day")
    ret.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="the day after the last")
    ret.add_argument("--period", choices=PERIODS, help="instead of --from and --to")
    ret.add_argument("--by", choices=DIMENSIONS, required=True)
    ret.add_argument("--format", choices=("json", "csv", "parquet"), default="json")
    sql = sub.add_parser("sql", help="one read-only SELECT over a Parquet snapshot")
    sql.add_argument("query")
    sql.add_argument("--snapshot", type=Path, help="an export directory (default: make one)")
    for flag, kind, default, metavar, what in (
        ("--time-limit", float, offline.Limits.seconds, "SECONDS", "until it is interrupted"),
        ("--memory-limit", str, offline.Limits.memory, "SIZE", "memory it may use"),
        ("--max-rows", int, offline.Limits.rows, "N", "rows its answer may have"),
    ):
        text = f"the query's limit: {what} (default: %(default)s)"
        sql.add_argument(flag, type=kind, default=default, metavar=metavar, help=text)
    for name in REGISTERS:
        if name == "timeline":
            continue
        register = sub.add_parser(name, help=f"the {name} register")
        register.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE")
        register.add_argument("--limit", type=int, default=100)
        register.add_argument("--offset", type=int, default=0)
        register.add_argument("--as-of", metavar="INSTANT", help="as it stood then (or now)")
        register.add_argument("--axis", choices=("occurred", "recorded"), default="occurred")
    ledger = top.add_parser("ledger", help="run or rebuild the ledger")
    lsub = ledger.add_subparsers(dest="ledger", required=True)
    lsub.add_parser("serve", help="run the ledger", add_help=False)
    rebuild = lsub.add_parser("rebuild", help="rebuild every projection from the events")
    rebuild.add_argument(
        "--db", type=Path, default=Path(os.environ.get("CARELEDGER_LEDGER_DB", "var/ledger.duckdb"))
    )
    rebuild.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help="processes folding the events, for 100,000 events or more (default: one per core)",
    )
    demo = top.add_parser("demo", help="send a realistic scenario through intake")
    demo.add_argument(
        "--intake", default=os.environ.get("CARELEDGER_INTAKE_URL", "http://127.0.0.1:8080")
    )
    demo.add_argument("--url", default=os.environ.get("CARELEDGER_LEDGER_URL", DEFAULT_URL))
    demo.add_argument(
        "--client-id",
        default="crm",
        help="the client_id the commands carry: the one intake's clients file grants the "
        "token (default: crm, make run's dev-channel client)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["ledger", "serve"]:
        from careledger.ledger.entrypoints.serve import main as serve

        serve(argv[2:])
        return
    if argv[:1] == ["admin"]:
        from careledger.ledger.entrypoints.admin import main as admin

        admin(argv[1:])
        return
    args = _parser().parse_args(argv)
    try:
        if args.area == "audit":
            raise SystemExit(_audit(args))
        if args.area == "ledger":
            raise SystemExit(offline.rebuild(args.db, load_policy(), max(1, args.workers)))
        from careledger.ledger.demo import run_demo

        raise SystemExit(run_demo(args.intake, args.url, args.client_id))
    except (LedgerUnreachable, TokenUnreadable) as exc:
        raise SystemExit(f"careledger: {exc}") from None


if __name__ == "__main__":
    main()
