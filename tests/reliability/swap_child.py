"""A potq writer run as a child process by the swap tests: stages ``m.xml``, ``m.bin`` and ``report.json`` of a
given version into an output folder and swaps them in, as ``potq run`` does.

    python -m tests.reliability.swap_child OUT VERSION [--signal-at N --signal KILL|INT|TERM|HUP] [--slow S]

It counts its file-system calls (CALLS), each named by the file it changes; with ``--signal-at N`` it sends
itself the signal just before the N-th, with ``--slow`` every rename takes S seconds longer. SIGINT, SIGTERM and
SIGHUP raise potq's Interrupted, as in ``potq run``, and the child exits 128 + signal. Prints the calls it made:
a JSON list of [call, file name].
"""
import argparse
import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from potcli.errors import Interrupted
from potcli.output.files import StagedOutputs

CALLS = ("mkdir", "link", "fsync", "replace", "unlink", "rmdir")
TRIO = ("m.xml", "m.bin", "report.json")


def trio(version: str) -> dict[str, bytes]:
    """The files of one version; the report names the sha256 of the other two, as potq's report.json does."""
    files = {"m.xml": f"<net version='{version}'/>\n".encode(), "m.bin": version.encode() * 1000}
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    return {**files, "report.json": json.dumps({"version": version, "sha256": hashes}).encode()}


def _raise_interrupted(signum, _frame):
    raise Interrupted(signum, signal.Signals(signum).name)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("version")
    parser.add_argument("--signal-at", type=int, default=0)
    parser.add_argument("--signal", default="KILL")
    parser.add_argument("--slow", type=float, default=0.0)
    args = parser.parse_args()
    made = []

    def counted(name, call):
        def wrapper(*positional, **keywords):
            target = positional[-1] if name in ("replace", "link") else positional[0]  # where it writes
            made.append([name, "" if isinstance(target, int) else Path(target).name])  # fsync takes a descriptor
            if len(made) == args.signal_at:
                os.kill(os.getpid(), getattr(signal, f"SIG{args.signal}"))
            if name == "replace" and args.slow:
                time.sleep(args.slow)
            return call(*positional, **keywords)
        return wrapper

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupted)
    for name in CALLS:
        setattr(os, name, counted(name, getattr(os, name)))
    try:
        with StagedOutputs(args.out) as staged:
            for name, data in trio(args.version).items():
                staged.write(name, data)
            staged.commit()
    except Interrupted as e:
        print(json.dumps(made))
        return e.exit_code
    print(json.dumps(made))
    return 0


if __name__ == "__main__":
    sys.exit(main())
