"""The repository rtc works on: its root, layout and settings (rtc.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from compiler.limits import Limits, parse_limits
from compiler.repository import CONFIG_NAME as CONFIG_NAME
from compiler.repository import RepositoryNotFound
from compiler.repository import find_root as find_repository

DEFAULT_ENGINE = "rjsonnet"


class ProjectError(Exception):
    """The repository cannot be used: no rtc.toml, or a bad setting in it."""


@dataclass(frozen=True)
class Project:
    root: Path
    engine: str = DEFAULT_ENGINE
    out_dir_name: str = "out"
    # Folders (relative to root) Jsonnet imports may read; nothing else is readable.
    source_dirs: tuple[str, ...] = ("catalog", "hardware", "overlays")
    # Extra import search paths inside the repository, tried after the root.
    library_paths: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    settings: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def out_dir(self) -> Path:
        return self.root / self.out_dir_name

    @property
    def overlays_dir(self) -> Path:
        return self.root / "overlays"

    def relative(self, path: Path | str) -> str:
        """Repository-relative POSIX path, for messages and headers."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def find_root(start: Path) -> Path:
    try:
        return Path(find_repository(str(start)))
    except RepositoryNotFound as exc:
        raise ProjectError(str(exc)) from None


def load_project(root: Path | None = None, *, start: Path | None = None) -> Project:
    resolved = (root or find_root((start or Path.cwd()).resolve())).resolve()
    config_path = resolved / CONFIG_NAME
    if not config_path.is_file():
        raise ProjectError(f"{config_path}: not found; a catalog repository has {CONFIG_NAME} at its root")
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{CONFIG_NAME}: {exc}") from exc
    section = data.get("rtc", {})
    if not isinstance(section, dict):
        raise ProjectError(f"{CONFIG_NAME}: [rtc] must be a table")
    engine = section.get("engine", DEFAULT_ENGINE)
    out = section.get("out", "out")
    libs = section.get("library-paths", [])
    if not isinstance(engine, str):
        raise ProjectError(f"{CONFIG_NAME}: rtc.engine must be a string")
    if not isinstance(out, str) or not out or Path(out).is_absolute() or ".." in Path(out).parts:
        raise ProjectError(f"{CONFIG_NAME}: rtc.out must be a folder name inside the repository, got {out!r}")
    if not isinstance(libs, list) or not all(isinstance(p, str) for p in libs):
        raise ProjectError(f"{CONFIG_NAME}: rtc.library-paths must be a list of folder names")
    for lib in libs:
        if Path(lib).is_absolute() or ".." in Path(lib).parts:
            raise ProjectError(f"{CONFIG_NAME}: library path {lib!r} must stay inside the repository")
    try:
        limits = parse_limits(data.get("limits"))
    except ValueError as exc:
        raise ProjectError(f"{CONFIG_NAME}: {exc}") from exc
    return Project(
        root=resolved,
        limits=limits,
        engine=engine,
        out_dir_name=out,
        library_paths=tuple(libs),
        source_dirs=("catalog", "hardware", "overlays", *libs),
        settings=data,
    )
