"""``careledger``: the auditors' and operators' command line.

  careledger audit verify                 chain, completeness against the stream, rebuild
  careledger audit complaints --filter status=open
  careledger audit timeline SUBJECT_ID
  careledger audit export --format csv    files + manifest, written by the ledger
  careledger audit sql "SELECT ..."       read-only SQL over a Parquet snapshot
  careledger ledger rebuild --db FILE     rebuild every projection (ledger stopped)
  careledger ledger serve                 run the ledger (same as careledger-ledger)
  careledger demo                         a realistic scenario through intake

While the ledger runs it alone holds its DuckDB file, so audit commands ask its HTTP API
(--url, default http://127.0.0.1:8081, env CARELEDGER_LEDGER_URL), with the bearer token
in CARELEDGER_TOKEN when the ledger has an auditors file.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from careledger.ledger.application.registers import REGISTERS
from careledger.ledger.entrypoints import offline
from careledger.ledger.entrypoints.client import DEFAULT_URL, LedgerUnreachable, call


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


def _audit(args: argparse.Namespace) -> int:
    url = args.url
    if args.audit == "verify":
        report = call(url, "/v1/ledger/verify")
        _print(report)
        return 0 if report.get("ok") else 1
    if args.audit == "timeline":
        return _print(call(url, f"/v1/subjects/{args.subject_id}/timeline"))
    if args.audit == "export":
        return _print(call(url, "/v1/exports", {"format": args.format}, method="POST"))
    if args.audit == "sql":
        snapshot = args.snapshot or Path(
            call(url, "/v1/exports", {"format": "parquet"}, method="POST")["directory"]
        )
        return _print(offline.sql(snapshot, args.query))
    params = _filters(args.filter) | {"limit": str(args.limit), "offset": str(args.offset)}
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
    export = sub.add_parser("export", help="CSV or Parquet files with a manifest")
    export.add_argument("--format", choices=("csv", "parquet"), default="parquet")
    sql = sub.add_parser("sql", help="one read-only SELECT over a Parquet snapshot")
    sql.add_argument("query")
    sql.add_argument("--snapshot", type=Path, help="an export directory (default: make one)")
    for name in REGISTERS:
        if name == "timeline":
            continue
        register = sub.add_parser(name, help=f"the {name} register")
        register.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE")
        register.add_argument("--limit", type=int, default=100)
        register.add_argument("--offset", type=int, default=0)
    ledger = top.add_parser("ledger", help="run or rebuild the ledger")
    lsub = ledger.add_subparsers(dest="ledger", required=True)
    lsub.add_parser("serve", help="run the ledger", add_help=False)
    rebuild = lsub.add_parser("rebuild", help="rebuild every projection from the events")
    rebuild.add_argument(
        "--db", type=Path, default=Path(os.environ.get("CARELEDGER_LEDGER_DB", "var/ledger.duckdb"))
    )
    demo = top.add_parser("demo", help="send a realistic scenario through intake")
    demo.add_argument(
        "--intake", default=os.environ.get("CARELEDGER_INTAKE_URL", "http://127.0.0.1:8080")
    )
    demo.add_argument("--url", default=os.environ.get("CARELEDGER_LEDGER_URL", DEFAULT_URL))
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["ledger", "serve"]:
        from careledger.ledger.entrypoints.serve import main as serve

        serve(argv[2:])
        return
    args = _parser().parse_args(argv)
    try:
        if args.area == "audit":
            raise SystemExit(_audit(args))
        if args.area == "ledger":
            raise SystemExit(offline.rebuild(args.db))
        from careledger.ledger.demo import run_demo

        raise SystemExit(run_demo(args.intake, args.url))
    except LedgerUnreachable as exc:
        raise SystemExit(f"careledger: {exc}") from None


if __name__ == "__main__":
    main()
