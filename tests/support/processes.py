"""Real `flask` processes (the scheduler, mail delivery workers) on the test database, with their logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class FlaskProcess:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("w") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env={**os.environ, **env},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 30.0) -> float:
        """Seconds until `text` shows in the log."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if text in self.log():
                return time.monotonic() - started
            if self.process.poll() is not None:
                raise AssertionError(f"process ended ({self.process.returncode}) before logging {text!r}:\n"
                                     f"{self.log()[-3000:]}")
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in the log within {timeout} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no handler runs, no connection is closed politely."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def portal_env(app) -> dict[str, str]:
    """What a process started beside the tests needs to use the test app's database and SMTP sink."""
    config = app.config
    return {"DATABASE_URL": config["DATABASE_URL"], "SECRET_KEY": config["SECRET_KEY"], "MAIL_TRANSPORT": "smtp",
            "SMTP_HOST": config["SMTP_HOST"], "SMTP_PORT": str(config["SMTP_PORT"]), "BASE_URL": config["BASE_URL"],
            "PORTAL_ENV": "development", "SMTP_TIMEOUT": "5"}
