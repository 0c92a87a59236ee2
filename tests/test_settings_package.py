"""The settings stay a package by subsystem (issue 22): every section of the tree is defined in a subsystem
module and importable from `openfr.settings`, and no module of the package grows back into a long one.
(That the sections do not import each other is an import-linter contract in pyproject.toml.)"""

from pathlib import Path

from pydantic import BaseModel

import openfr.settings
from openfr.settings import Section, Settings

PACKAGE = Path(openfr.settings.__file__).parent
SUBSYSTEMS = {"engine", "gallery", "live", "web", "governance"}
MAX_LINES = 350  # the house style is modules of about 100-300 lines


def _sections(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = []
    for info in model.model_fields.values():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            found += [info.annotation, *_sections(info.annotation)]
    return found


def test_every_section_lives_in_a_subsystem_module_and_is_exported():
    sections = _sections(Settings)
    assert len(sections) == 10
    for section in sections:
        assert issubclass(section, Section), section
        module = section.__module__.removeprefix("openfr.settings.")
        assert module in SUBSYSTEMS, f"{section.__name__} is defined in {section.__module__}, not a subsystem module"
        assert section.__name__ in openfr.settings.__all__
        assert getattr(openfr.settings, section.__name__) is section
    assert [module for module in SUBSYSTEMS if not (PACKAGE / f"{module}.py").is_file()] == []


def test_star_import_gives_every_exported_name():
    namespace: dict = {}
    exec("from openfr.settings import *", namespace)
    assert set(openfr.settings.__all__) <= namespace.keys()


def test_no_settings_module_is_long():
    lengths = {path.name: len(path.read_text().splitlines()) for path in PACKAGE.glob("*.py")}
    assert {name for name, lines in lengths.items() if lines > MAX_LINES} == set(), lengths
