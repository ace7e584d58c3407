"""``--sites sites.yaml``: where each Kubernetes zone runs, since a cluster does not say.

::

    zones:
      eu-west-3a: {id: eqx-pa2, name: "Equinix PA2 - Paris, Saint-Denis", lat: 48.927166,
                   lon: 2.350664, provider: Equinix}

``id`` (default: the zone's name) is the datacenter's id in the platform; ``lat``/``lon`` are
required, so backup distances can be computed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from models.kubernetes.reading import KubernetesInputError


class Site(BaseModel):
    """The datacenter a zone runs in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")] | None = None
    name: str = ""
    lat: Annotated[float, Strict(), Field(ge=-90, le=90)]
    lon: Annotated[float, Strict(), Field(ge=-180, le=180)]
    provider: str = ""
    campus: str = ""


class SitesFile(BaseModel):
    """Zone name -> its datacenter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: dict[str, Site]


def load_sites(path: str | Path) -> dict[str, Site]:
    """The zones of a sites file.

    Raises
    ------
    KubernetesInputError
        One line per problem, with the field path.
    """
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise KubernetesInputError([f"{source}: cannot read file: {reason}"]) from None
    except yaml.YAMLError as error:
        raise KubernetesInputError([f"{source}: YAML syntax error: {error}"]) from None
    try:
        return dict(SitesFile.model_validate(data).zones)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"])
            message = "missing field" if item["type"] == "missing" else item["msg"]
            got = "" if item["type"] == "missing" else f" (got {item.get('input')!r})"
            lines.append(f"{source}: {where}: {message}{got}")
        raise KubernetesInputError(lines) from None
