"""An SMTP server in a process of its own (aiosmtpd) that writes the recipient of every message it accepts to a file,
one a line, as it accepts it: the benchmarks count arrivals and copies from that file.

    python -m bench.smtp_sink PORT OUTPUT_FILE
"""

from __future__ import annotations

import signal
import sys
import threading

from aiosmtpd.controller import Controller


class _Recorder:
    def __init__(self, output) -> None:
        self.output = output

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.output.write("".join(f"{recipient}\n" for recipient in envelope.rcpt_tos))
        self.output.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open(path, "a", encoding="utf-8") as output:
        controller = Controller(_Recorder(output), hostname="127.0.0.1", port=port)
        controller.start()
        print("smtp sink listening", flush=True)
        stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()
