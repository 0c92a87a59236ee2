"""What every settings section shares: the `OPENFR_` prefix, the base class that refuses unknown keys, and
`iter_fields`, which lists every setting with its environment variable (for refusing unknown variables and
for the generated reference)."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict
from pydantic.fields import FieldInfo

ENV_PREFIX = "OPENFR_"


class Section(BaseModel):
    """One subsystem's group of settings (`OPENFR_<SECTION>__<FIELD>`): unknown keys are refused, so a misspelt
    key is an error rather than a silently ignored safeguard, and assignments are validated too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def iter_fields(
    model: type[BaseModel], prefix: str = ENV_PREFIX, *, leaves_only: bool = True
) -> Iterator[tuple[str, FieldInfo]]:
    """(environment variable, field) for every setting, depth first; sections too unless `leaves_only`."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        env = f"{prefix}{name.upper()}"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not leaves_only:
                yield env, info
            yield from iter_fields(annotation, env + "__", leaves_only=leaves_only)
        else:
            yield env, info
