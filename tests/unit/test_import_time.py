"""No I/O at import: every careledger module imports in an empty environment without reading
a file or an environment variable (the composition roots read them, when they run)."""

import json
import os
import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import importlib, json, os, pkgutil, sys

    import careledger

    seen = []

    def ours(frame):
        # the innermost frame that is not the import machinery
        while frame is not None and frame.f_code.co_filename.startswith("<frozen"):
            frame = frame.f_back
        return frame is not None and "/careledger/" in frame.f_code.co_filename

    def audit(event, args):
        if event == "open" and not str(args[0]).endswith((".py", ".pyc", ".so", ".pth")):
            if ours(sys._getframe(1)):
                seen.append(f"read {args[0]}")

    class Watched(dict):
        def __getitem__(self, key):
            if ours(sys._getframe(1)):
                seen.append(f"environ[{key}]")
            return super().__getitem__(key)

        def get(self, key, default=None):
            if ours(sys._getframe(1)):
                seen.append(f"environ.get({key})")
            return super().get(key, default)

    os.environ = Watched(os.environ)
    sys.addaudithook(audit)
    names = sorted(
        m.name
        for m in pkgutil.walk_packages(careledger.__path__, "careledger.")
        if not m.name.endswith("__main__")
    )
    for name in names:
        importlib.import_module(name)
    print(json.dumps({"modules": names, "seen": seen}))
    """
)


def probe(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter that writes no bytecode (writing a ``.pyc`` is the
    import machinery's I/O, not the module's) with nothing but PATH in its environment."""
    env = {"PATH": os.environ.get("PATH", "")}
    done = subprocess.run(
        [sys.executable, "-B", "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_every_module_imports_in_an_empty_environment_reading_nothing() -> None:
    result = probe(PROBE)
    assert len(result["modules"]) > 100
    assert "careledger.ledger.bootstrap" in result["modules"]
    assert result["seen"] == []


def test_the_probe_sees_a_module_that_reads_at_import() -> None:
    read_at_import = (
        "import careledger.ledger.deadlines as d\n"
        'exec(compile(\'import os; os.environ.get("X"); open("/etc/hostname").close()\','
        " d.__file__, 'exec'))\n"
    )
    code = PROBE.replace("for name in names:\n", read_at_import + "for name in names:\n")
    assert code != PROBE
    result = probe(code)
    assert result["seen"] == ["environ.get(X)", "read /etc/hostname"]
