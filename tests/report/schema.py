"""The OASIS SARIF 2.1.0 schema, kept in ``tests/data`` so a fresh clone validates anywhere."""

from __future__ import annotations

import functools
import json
from typing import Any

from tests.conftest import DATA

SARIF_SCHEMA = DATA / "sarif-schema-2.1.0.json"


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # noqa: PLC0415

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def assert_valid_sarif(document: dict[str, Any]) -> None:
    """Fail with every schema error listed (one assertion among a test's content checks)."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
