"""``careledger-intake``: run the intake service (HTTP and NATS APIs) until stopped."""

from careledger.intake.bootstrap import IntakeService
from careledger.intake.settings import Settings, SettingsError
from careledger.runtime import arguments, overrides, serve
from careledger.runtime.principals import PrincipalsFileError


def main(argv: list[str] | None = None) -> None:
    args = arguments("careledger-intake", __doc__, "CARELEDGER_INTAKE").parse_args(argv)
    try:
        settings = Settings.from_env(**overrides(args))
        service = IntakeService(settings)
    except (PrincipalsFileError, SettingsError) as exc:
        raise SystemExit(f"careledger-intake: {exc}") from None
    serve(service.http_app(), settings.http_host, settings.http_port, settings.http_read_timeout)


if __name__ == "__main__":
    main()
