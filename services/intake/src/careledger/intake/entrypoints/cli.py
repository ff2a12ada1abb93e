"""``careledger-intake``: run the intake service (HTTP and NATS APIs) until stopped."""

from careledger.intake.bootstrap import IntakeService
from careledger.intake.settings import Settings
from careledger.runtime import arguments, overrides, serve


def main(argv: list[str] | None = None) -> None:
    args = arguments("careledger-intake", __doc__, "CARELEDGER_INTAKE").parse_args(argv)
    settings = Settings.from_env(**overrides(args))
    serve(IntakeService(settings).http_app(), settings.http_host, settings.http_port)


if __name__ == "__main__":
    main()
