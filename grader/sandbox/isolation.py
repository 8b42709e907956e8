"""Which isolation the sandbox gets on this machine, and the command that starts its template in it.

Three levels, best first:

* `bubblewrap` (`bwrap` installed and working): new user, PID, network, IPC and UTS namespaces; a
  read-only view of only what Python needs (the system's /usr, the interpreter, the virtual
  environment and the `grader` package), with `reference`, the checks and the tests not there at
  all; a private tmpfs /tmp as working directory; the whole sandbox dies with the parent. When the
  grader runs as root, the child gives up root for `nobody` before running student code.
* `unshare` (util-linux, unprivileged user namespaces): new user, PID and network namespaces, but
  the file system is the host's.
* `rlimits`: resource limits and a private working directory only.
* `spawn` (the self-check where forking a warm template is impossible or unsafe: Windows has no
  `os.fork` and no `resource`, and macOS's system libraries do not survive a fork after torch
  started threads): each child is a fresh Python process (`grader.child.spawned`), slower to
  start, under the parent's per-call time limits (and rlimits where `resource` exists), with a
  private working directory and nothing else. `HW2_GRADER_ISOLATION=spawn` forces it anywhere.

At the two weak levels, a grader running as root still hands each child to `nobody` where `nobody`
can reach the interpreter (`_can_drop_on_host`), so student code cannot write the grader's files,
other students' results or the plan cache.

In every level the child has its own process group, rlimits and per-call time limits. The level in
force is printed in the report header and kept in every results.json, so staff know what a run was
protected by; staff grading refuses to fall back below bubblewrap unasked (`require_bubblewrap`).
"""

from __future__ import annotations

import functools
import glob
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.errors import ConfigurationError

Mode = Literal["bubblewrap", "unshare", "rlimits", "spawn"]
MODES: tuple[Mode, ...] = ("bubblewrap", "unshare", "rlimits", "spawn")

ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
)
NOBODY = 65534


@dataclass(frozen=True)
class Isolation:
    """An isolation level and what it means for the report header."""

    mode: Mode
    drop_to_nobody: bool
    own_pid_namespace: bool

    def describe(self) -> str:
        if self.mode == "bubblewrap":
            who = "as nobody" if self.drop_to_nobody else "unprivileged"
            return f"bubblewrap: no network, read-only system, private /tmp, grader files hidden, {who}"
        who = "as nobody" if self.drop_to_nobody else "as the grader's user"
        if self.mode == "unshare":
            return f"unshare: no network, own process namespace; file system not hidden; {who}"
        if self.mode == "spawn":
            return (
                "spawn: a separate Python process per submission with the grader's time limits; "
                "network and files are not isolated (the portable level, weaker than a sandbox)"
            )
        return f"rlimits only: no namespaces available; network and files are not isolated; {who}"


def preferred() -> Mode | Literal["auto"]:
    """The level asked for in `$HW2_GRADER_ISOLATION` (bubblewrap, unshare, rlimits), else auto."""
    value = os.environ.get("HW2_GRADER_ISOLATION", "auto").strip().lower() or "auto"
    if value == "auto":
        return "auto"
    for mode in MODES:
        if value == mode:
            return mode
    raise ConfigurationError(
        f"invalid HW2_GRADER_ISOLATION {value!r} from the environment: use one of auto, "
        + ", ".join(MODES)
    )


@functools.cache
def detect(preferred: Mode | Literal["auto"] = "auto") -> Isolation:
    """The best isolation that works here (or `preferred`, when it works); cached per process."""
    if preferred == "spawn" or (preferred == "auto" and not forks_safely()):
        return Isolation("spawn", drop_to_nobody=False, own_pid_namespace=False)
    candidates = MODES if preferred == "auto" else (preferred,)
    for mode in candidates:
        if mode == "bubblewrap" and _works(
            ["bwrap", "--ro-bind", "/", "/", *_BWRAP_NAMESPACES, "true"]
        ):
            return Isolation("bubblewrap", drop_to_nobody=os.geteuid() == 0, own_pid_namespace=True)
        if mode == "unshare" and _works([*_UNSHARE, "true"]):
            return Isolation("unshare", drop_to_nobody=_can_drop_on_host(), own_pid_namespace=True)
        if mode == "rlimits":
            return Isolation("rlimits", drop_to_nobody=_can_drop_on_host(), own_pid_namespace=False)
    raise ConfigurationError(
        f"isolation {preferred!r} (HW2_GRADER_ISOLATION) is not available on this machine"
    )


def forks_safely() -> bool:
    """Whether a warm template may fork children here: `os.fork` and `resource` exist (not on
    Windows), and the platform is not macOS, where a fork after torch's threads started is unsafe."""
    return (
        hasattr(os, "fork")
        and importlib.util.find_spec("resource") is not None
        and sys.platform != "darwin"
    )


def require_bubblewrap(command: str) -> Isolation:
    """The isolation for staff grading (`grade`, `gradescope-run`): bubblewrap, or a weaker level
    only when `HW2_GRADER_ISOLATION` names it on purpose. Below bubblewrap, student code runs as
    the grader's user and sees its files, so a silent fall back would let one submission read the
    hidden checks or rewrite another's results; the self-check, on a student's own laptop, does
    not ask for this."""
    wanted = preferred()
    found = detect(wanted)
    if wanted == "auto" and found.mode != "bubblewrap":
        raise ConfigurationError(
            f"`{command}` grades with bubblewrap, which does not work on this machine "
            "(install it: apt-get install bubblewrap; in a container, allow user namespaces). "
            "To grade with weaker isolation on purpose, set HW2_GRADER_ISOLATION="
            f"{found.mode}: every report then names the isolation it ran under"
        )
    return found


# As root, bwrap needs no user namespace, and one would leave `nobody` unmapped for the child.
_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
_BWRAP_NAMESPACES = (
    *(() if _ROOT else ("--unshare-user",)),
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
)
# As root, unshare needs no user namespace either, and without one the child can leave root for
# `nobody` (a user namespace that maps only root has no `nobody`).
_UNSHARE = (
    "unshare",
    *(() if _ROOT else ("--user", "--map-root-user")),
    "--net",
    "--pid",
    "--fork",
    "--kill-child",
)


def _can_drop_on_host() -> bool:
    """Whether a child on the host's file system (the weak levels) can run as `nobody`: the grader
    is root, and `nobody` can reach the interpreter and our code (an interpreter under a private
    home folder, say /root/.pyenv, would fail the child's first import of a module the template
    has not loaded: a wrong verdict, so the child then stays the grader's user)."""
    if os.geteuid() != 0:
        return False
    for path in (Path(sys.base_prefix), Path(sys.prefix), *child_code()):
        for folder in (path.resolve(), *path.resolve().parents):
            try:
                if not folder.stat().st_mode & stat.S_IXOTH:
                    return False
            except OSError:
                return False
    return True


def _works(argv: list[str]) -> bool:
    if shutil.which(argv[0]) is None:
        return False
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def command(isolation: Isolation, argv: list[str]) -> list[str]:
    """`argv` (a Python command) wrapped in the isolation's launcher."""
    if isolation.mode == "bubblewrap":
        return [*bubblewrap_arguments(drop_caps=isolation.drop_to_nobody), "--", *argv]
    if isolation.mode == "unshare":
        return [*_UNSHARE, *argv]
    return argv


def bubblewrap_arguments(*, drop_caps: bool) -> list[str]:
    """bwrap's options: namespaces, the read-only mounts Python needs, and of our own code exactly
    what the child imports (`child_code`): nothing of the checks, the stand-ins, the reference
    solutions, the plan cache or the tests."""
    grader_dir = _grader_dir()
    binds = _python_paths()
    # The private /tmp comes first, so that a virtual environment that lives under /tmp (a fresh
    # clone in CI, say) is bound on top of it rather than hidden by it.
    args = ["bwrap", *_BWRAP_NAMESPACES, "--tmpfs", "/tmp"]
    made: set[Path] = {Path("/tmp")}

    def bind(path: Path) -> None:
        for ancestor in reversed(path.parents):
            if ancestor != Path("/") and ancestor not in made and not _inside(ancestor, binds):
                args.extend(["--perms", "0755", "--dir", str(ancestor)])
                made.add(ancestor)
        args.extend(["--ro-bind", str(path), str(path)])
        made.add(path)

    for path in sorted(binds, key=lambda p: len(p.parts)):
        bind(path)
    # An installed grader lies inside a bound prefix: an empty folder goes over it first, and the
    # allowed parts are bound back on top.
    if _inside(grader_dir, binds):
        args += ["--perms", "0755", "--tmpfs", str(grader_dir)]
        made.add(grader_dir)
    for path in child_code():
        if not _inside(path, binds) or path.is_relative_to(grader_dir):
            bind(path)
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for etc in ETC_FILES:
        args += ["--ro-bind-try", etc, etc]
    args += ["--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp"]
    args += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    devices = sorted(glob.glob("/dev/nvidia*"))
    for device in devices:
        args += ["--dev-bind", device, device]
    if devices:
        args += ["--ro-bind-try", "/sys", "/sys"]
    for hidden in hidden_paths():
        if _inside(hidden, binds) and hidden.is_dir():
            args += ["--tmpfs", str(hidden)]
    if drop_caps:
        args += ["--cap-drop", "ALL"]
        # The template keeps what it needs to hand a child to `nobody`, to kill it afterwards and
        # to remove what it left in its working directory (a child leaving root loses them all).
        for cap in (
            "CAP_SETUID",
            "CAP_SETGID",
            "CAP_CHOWN",
            "CAP_KILL",
            "CAP_DAC_OVERRIDE",
            "CAP_FOWNER",
        ):
            args += ["--cap-add", cap]
    return args


def child_code() -> list[Path]:
    """The allow-list of our code in the sandbox: what the template and its children import
    (`grader.child`, `grader.protocol`, the package's empty top level, and `d2lcompat`).

    Whatever is listed here, student code can read and import; the import-contract test holds
    `grader.child` to importing nothing else of ours."""
    grader_dir = _grader_dir()
    spec = importlib.util.find_spec("d2lcompat")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "the d2l-compatible package `d2lcompat` is not installed beside grader"
        )
    d2l = Path(next(iter(spec.submodule_search_locations))).resolve()
    return [grader_dir / "__init__.py", grader_dir / "child", grader_dir / "protocol", d2l]


def _grader_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def _python_paths() -> set[Path]:
    """What the interpreter and its imports read: its prefixes, /usr, and every site directory on
    `sys.path` (the user's, or one a `.pth` file adds, where torch may live outside the prefix);
    not our own code."""
    paths = {Path("/usr"), Path(sys.base_prefix).resolve(), Path(sys.prefix)}
    paths.add(Path(os.path.realpath(sys.executable)).parent.parent)
    paths |= {  # as the child's sys.path names them (a symlinked environment is bound as named)
        Path(os.path.abspath(entry))
        for entry in sys.path
        if Path(entry).name in ("site-packages", "dist-packages") and Path(entry).is_dir()
    }
    return {p for p in paths if p.exists() and not _inside(p, paths - {p})}


def hidden_paths() -> list[Path]:
    """What student code must never read, where it lies inside a bound prefix (an installed
    grader): the reference solutions and the example plans' cache."""
    hidden: list[Path] = []
    try:
        spec = importlib.util.find_spec("reference")
    except (ImportError, ValueError):  # not installed here (a student kit): nothing more to hide
        spec = None
    if spec is not None and spec.submodule_search_locations:
        hidden += [Path(p).resolve() for p in spec.submodule_search_locations]
    cache = os.environ.get("HW2_GRADER_CACHE", "")
    if cache and cache != "off":
        hidden.append(Path(cache).resolve())
    return hidden


def _inside(path: Path, roots: set[Path]) -> bool:
    return any(path != root and path.is_relative_to(root) for root in roots)
