"""docs/architecture.md cannot drift from the code (issue 22): its module tree names every module and package
under src/openfr and nothing that is not there, its migration list is the migrations directory, and every
module, class, function, setting or file it names in `code` exists. Each failure says what to change.

The module tree is the ``` block that starts with `src/openfr/`: one entry per line, indented two spaces per
level, one or more names (`module.py` or `package/`) then two or more spaces and what they are; a line whose
first word is not a name continues the description above it."""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import importlib
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "openfr"
MIGRATIONS = SRC / "store" / "migrations" / "versions"
DOC = ROOT / "docs" / "architecture.md"
TEXT = DOC.read_text()


# -- the module tree ---------------------------------------------------------------------------------------


def _tree_block() -> list[str]:
    blocks = re.findall(r"```\n(src/openfr/\n.*?)```", TEXT, flags=re.S)
    assert len(blocks) == 1, "docs/architecture.md needs exactly one ``` block starting with the line src/openfr/"
    return blocks[0].splitlines()[1:]


def _is_name(word: str) -> bool:
    return word.endswith((".py", "/"))


def tree_entries() -> dict[Path, int]:
    """Every path the tree names (relative to src/openfr), with its line number in the block."""
    named: dict[Path, int] = {}
    parents: list[tuple[int, Path]] = [(-1, Path())]  # (indent, folder) of the enclosing packages
    for number, line in enumerate(_tree_block(), start=2):
        words = line.split()
        if not words or not _is_name(words[0]):
            continue  # a description carried over from the line above
        indent = len(line) - len(line.lstrip(" "))
        assert indent % 2 == 0 and indent >= 2, f"tree line {number}: indent entries two spaces per level: {line!r}"
        while parents[-1][0] >= indent:
            parents.pop()
        assert indent == parents[-1][0] + 2 or (parents[-1][0] == -1 and indent == 2), (
            f"tree line {number}: indented deeper than the package above it: {line!r}"
        )
        names = re.split(r"\s{2,}", line.strip())[0].split()
        assert all(_is_name(n) for n in names), (
            f"tree line {number}: the names before the description must each end in .py or /: {line!r}"
        )
        for name in names:
            path = parents[-1][1] / name.rstrip("/")
            assert path not in named, f"tree line {number}: {name} is listed twice"
            named[path] = number
        if names[-1].endswith("/") and len(names) == 1:
            parents.append((indent, parents[-1][1] / names[-1].rstrip("/")))
    return named


def source_modules() -> set[Path]:
    """What the tree must name: every module (but __init__.py) and every package under src/openfr, except the
    migrations themselves (listed on their own below)."""
    wanted = set()
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        if "__pycache__" in relative.parts or relative.parent == MIGRATIONS.relative_to(SRC):
            continue
        if path.name != "__init__.py":
            wanted.add(relative)
        for parent in relative.parents:
            if parent != Path() and (SRC / parent / "__init__.py").exists():
                wanted.add(parent)
    return wanted


def test_the_module_tree_names_only_what_exists():
    missing = [
        f"{p}{'/' if not p.suffix else ''} (tree line {n})" for p, n in tree_entries().items() if not (SRC / p).exists()
    ]
    assert not missing, (
        "docs/architecture.md's module tree names what is not in src/openfr (renamed or removed? "
        f"update the tree): {', '.join(sorted(missing))}"
    )


def test_every_module_and_package_is_in_the_module_tree():
    absent = sorted(source_modules() - set(tree_entries()))
    assert not absent, (
        "docs/architecture.md's module tree does not name these (add a line under their package, with what "
        "each is for): " + ", ".join(f"{p}/" if not p.suffix else str(p) for p in absent)
    )


# -- the migrations ----------------------------------------------------------------------------------------


def _migration_section() -> str:
    match = re.search(r"^## Migrations\n(.*?)(?=^## )", TEXT, flags=re.S | re.M)
    assert match, "docs/architecture.md needs a '## Migrations' section listing every Alembic migration"
    return match.group(1)


def test_the_migration_list_is_the_migrations_directory():
    listed = set(re.findall(r"`(\d{4}_\w+)`", _migration_section()))
    present = {p.stem for p in MIGRATIONS.glob("[0-9]*.py")}
    assert listed == present, (
        f"docs/architecture.md '## Migrations' lists {sorted(listed - present) or 'nothing'} that does not exist "
        f"and misses {sorted(present - listed) or 'nothing'} (src/openfr/store/migrations/versions)"
    )


def test_every_migration_the_doc_mentions_exists():
    numbers = {p.name[:4] for p in MIGRATIONS.glob("[0-9]*.py")}
    mentioned = re.findall(r"[Mm]igrations? (\d{4})\b", TEXT)
    for low, high in re.findall(r"[Mm]igrations (\d{4})-(\d{4})", TEXT):
        assert (low, high) == (min(numbers), max(numbers)), (
            f"docs/architecture.md says migrations {low}-{high}; there are {min(numbers)}-{max(numbers)}"
        )
    unknown = sorted(set(mentioned) - numbers)
    assert not unknown, f"docs/architecture.md mentions migration(s) {unknown}, which do not exist"


# -- what the prose names in `code` ------------------------------------------------------------------------


@cache
def _source_words() -> set[str]:
    return {w for p in SRC.rglob("*.py") for w in re.findall(r"\w+", p.read_text())}


@cache
def _source_strings() -> set[str]:
    strings = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(node.value)
    return strings


@cache
def _classes() -> dict[str, str]:
    """Class name -> the module that defines it."""
    found = {}
    for path in SRC.rglob("*.py"):
        module = ".".join(("openfr", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, module)
    return found


@cache
def _setting_paths() -> set[str]:
    from openfr.settings import Settings

    paths = set()

    def walk(model, prefix: str) -> None:
        for name, info in model.model_fields.items():
            paths.add(prefix + name)
            kind = info.annotation
            if isinstance(kind, type) and hasattr(kind, "model_fields"):
                walk(kind, f"{prefix}{name}.")

    walk(Settings, "")
    return paths


def _module_file(head: str) -> str | None:
    """`live/lifecycle` -> 'openfr.live.lifecycle' if that module exists."""
    relative = Path(head)
    if (SRC / relative.with_suffix(".py")).is_file() or (SRC / relative / "__init__.py").is_file():
        return ".".join(("openfr", *relative.parts))
    return None


def _has(owner: object, attr: str) -> bool:
    if hasattr(owner, attr):
        return True
    fields = getattr(owner, "model_fields", None) or getattr(owner, "__dataclass_fields__", None) or {}
    return attr in fields or attr in getattr(owner, "__annotations__", {})


def _problem(token: str) -> str | None:
    """Why `token` (the text of one `code` span) names nothing real, or None."""
    called = token.strip().endswith(")")  # `db.read()`, `principal.require(...)`: an object's method, or f
    token = re.sub(r"\(.*\)$", "", token.strip())
    if token.startswith(("$", "<", "..", "-", "/", "openfr ")) or " " in token.replace(" / ", "/"):
        return None  # runtime paths, URLs, options, commands, SQL
    token = token.replace(" / ", "/")
    known_file = re.search(r"\.(py|md|js|html|css|json|toml|sh)$", token)
    if (known_file and ("/" in token or token.endswith((".py", ".md")))) or token.endswith("/"):
        bases = (ROOT, SRC, SRC / "web")
        return None if any((base / token).exists() for base in bases) else f"no file or folder {token}"
    if match := re.fullmatch(r"([A-Z]\w*)\.(\w+(?:/\w+)*)", token):  # Class.method
        name, attrs = match.groups()
        module = _classes().get(name)
        if module is None:
            return f"no class {name} in src/openfr"
        owner = getattr(importlib.import_module(module), name)
        lacking = [a for a in attrs.split("/") if not _has(owner, a)]
        return f"{name} ({module}) has no {', '.join(lacking)}" if lacking else None
    if match := re.fullmatch(r"app\.(\w+)", token):
        return None if match.group(1) in _application_services() else f"Application has no service {match.group(1)}"
    if match := re.fullmatch(r"([a-z_]\w*(?:/\w+)*)\.([A-Za-z_]\w*(?:/\w+)*)", token):
        head, attrs = match.groups()
        module = _module_file(head)
        qualified = "/" in head or (module is not None and (SRC / f"{head}.py").is_file())
        if qualified:  # `live/lifecycle.authorise`, `thresholds.check_threshold`
            if module is None:
                return f"no module src/openfr/{head}.py"
            lacking = [a for a in attrs.split("/") if not _has(importlib.import_module(module), a)]
            return f"{module} has no {', '.join(lacking)}" if lacking else None
    if re.fullmatch(r"[a-z_]+(\.[\w*-]+)+", token) and token.split(".")[0] in _setting_sections():
        # `live.heartbeat_s` (a setting), `search.oifr` (a permission), `server.start` (an audit action)
        if any(fnmatch.fnmatchcase(p, token) for p in _setting_paths()) or token in _source_strings():
            return None
        return f"no setting, permission or audit action {token}"
    if not called and (match := re.fullmatch(r"([a-z_]\w*)\.([a-z_]\w*)", token)):  # `pages.render`: by its name
        head, attr = match.groups()
        modules = [p for p in SRC.rglob(f"{head}.py") if "versions" not in p.parts]
        if len(modules) == 1:
            module = ".".join(("openfr", *modules[0].relative_to(SRC).with_suffix("").parts))
            return None if _has(importlib.import_module(module), attr) else f"{module} has no {attr}"
    if re.fullmatch(r"[a-z_]+(/[a-z_]+)+", token):  # `governance/credentials`: a module or a package
        return None if _module_file(token) else f"no module or package src/openfr/{token}"
    if re.fullmatch(r"[A-Z][a-z]\w*", token):  # a class, function or name openfr defines or uses
        return None if token in _source_words() else f"nothing named {token} in src/openfr"
    if re.fullmatch(r"[a-z]\w*_\w+", token):  # snake_case: a function, column or field
        return None if token in _source_words() else f"nothing named {token} in src/openfr"
    return None


@cache
def _setting_sections() -> set[str]:
    return {p.split(".")[0] for p in _setting_paths() if "." in p}


def _application_services() -> set[str]:
    from openfr.services import Application

    fields = {f.name for f in dataclasses.fields(Application)} if dataclasses.is_dataclass(Application) else set()
    return (fields or set(getattr(Application, "__annotations__", {}))) - {"runtime"}


def test_every_module_class_function_setting_and_file_the_doc_names_exists():
    problems = sorted({f"`{t}`: {why}" for t in re.findall(r"`([^`\n]+)`", TEXT) if (why := _problem(t))})
    assert not problems, "docs/architecture.md names what the code does not have:\n" + "\n".join(problems)


def test_the_doc_lists_every_service_of_the_application():
    named = set(re.findall(r"`app\.(\w+)`", TEXT))
    absent = sorted(_application_services() - named)
    assert not absent, f"docs/architecture.md does not list these services of Application as `app.X`: {absent}"


@pytest.mark.parametrize(
    "token, problem",
    [
        ("FaceEngine.probe_all", "has no probe_all"),
        ("live/lifecycle.authorize", "has no authorize"),
        ("thresholds.no_such_rule", "has no no_such_rule"),
        ("engine/models.py", "no file or folder"),
        ("live.no_such_setting", "no setting"),
        ("NoSuchService", "nothing named"),
        ("no_such_function", "nothing named"),
        ("app.nothing", "no service"),
        ("pages.no_such_function", "has no no_such_function"),
        ("governance/no_such_module", "no module or package"),
    ],
)
def test_the_checks_catch_what_does_not_exist(token, problem):
    assert problem in (_problem(token) or "")


def test_files_cited_in_src_exist():
    """A docstring or comment in src/ that cites a document (docs/*.md, a top-level *.md) or a source file
    (`live/decision.py`, `tests/test_cli.py`) cites one in the repository. Runtime paths ($OPENFR_HOME/...)
    are not files of the repository."""
    cited = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        cited |= {(path, m) for m in re.findall(r"(?<![\w/.$-])((?:docs/)?[\w-]+\.md)\b", text)}
        cited |= {(path, m) for m in re.findall(r"(?<![\w/.$-])((?:[\w-]+/)+[\w-]+\.(?:py|md|js|json|sh))\b", text)}
    bases = (ROOT, SRC, SRC / "web")
    missing = sorted(
        f"{path.relative_to(ROOT)}: {cited_path}"
        for path, cited_path in cited
        if not any((base / cited_path).is_file() for base in (*bases, path.parent))
    )
    assert not missing, "src/ cites files that are not in the repository:\n" + "\n".join(missing)


def test_no_two_modules_share_a_file_name():
    """A traceback or a log line names a module by its file: `services/deployments.py` and
    `live/deployments.py` read alike at a glance, so each file name is used once (package __init__ and
    Alembic's numbered migrations aside)."""
    names: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        if path.name != "__init__.py" and "versions" not in path.parts:
            names.setdefault(path.name, []).append(path.relative_to(SRC).as_posix())
    repeated = {name: where for name, where in names.items() if len(where) > 1}
    assert not repeated, f"file names used more than once: {repeated}"


def test_the_modules_started_first_exist():
    """conftest.LONGEST_FIRST names test modules by file: a renamed one would silently lose its place."""
    from conftest import LONGEST_FIRST

    tests = Path(__file__).parent
    assert [name for name in LONGEST_FIRST if not (tests / name).is_file()] == []
