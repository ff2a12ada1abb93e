"""``careledger-ledger``: run the ledger (consumer + auditors' HTTP API) until stopped."""

from pathlib import Path

from careledger.ledger.adapters.signing_key import SigningKeyError
from careledger.ledger.bootstrap import LedgerService
from careledger.ledger.settings import Settings
from careledger.runtime import arguments, overrides, serve
from careledger.runtime.principals import PrincipalsFileError


def main(argv: list[str] | None = None) -> None:
    parser = arguments("careledger-ledger", __doc__, "CARELEDGER_LEDGER")
    parser.add_argument("--db", type=Path, help="DuckDB file (env CARELEDGER_LEDGER_DB)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(**overrides(args, db_path=args.db))
    try:
        service = LedgerService(settings)
    except (PrincipalsFileError, SigningKeyError) as exc:
        raise SystemExit(f"careledger-ledger: {exc}") from None
    serve(service.http_app(), settings.http_host, settings.http_port, settings.http_read_timeout)


if __name__ == "__main__":
    main()
