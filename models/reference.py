"""The embedded reference platform: a Paris-area region on real colocation facilities.

Three facilities hold the region's hosts (Equinix PA2 Saint-Denis, Telehouse Paris 2 Voltaire,
UltraEdge Velizy; PA2 and Paris 2 are under 10 km apart) and six more hold backup replicas only.
Names and coordinates come from PeeringDB (``data/paris_facilities.csv``). The platform itself is
``data/reference.yaml``, made by ``python -m models.reference`` and read like any user file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from models.entities import Platform
from models.generate import Site, generate_platform
from models.io import load_platform, save_platform

HOST_SITES = ("eqx-pa2", "th-paris2", "ue-velizy")
BACKUP_SITES = ("eqx-pa1", "th-paris3", "gs-paris", "dr-par6", "opcore-par2", "eqx-pa3")
SEED = 2012
#: The generated examples: hosts, apps, databases and seed of each (named ``paris-<example>``,
#: hosts in the three ``HOST_SITES``).
GENERATED: dict[str, tuple[int, int, int, int]] = {
    "reference": (60, 300, 100, SEED),
    "small": (6, 10, 4, 7),
    "medium": (300, 1500, 400, 11),
}
EXAMPLES = ("reference", "small", "medium", "provider-region")


def _data_path(name: str) -> Path:
    return Path(str(resources.files("models") / "data" / name))


@cache
def paris_facilities() -> dict[str, Site]:
    """The 20 Paris-area facilities of the PeeringDB sample, by id."""
    with _data_path("paris_facilities.csv").open(encoding="utf-8") as handle:
        return {
            row["id"]: Site(
                row["id"],
                row["name"],
                float(row["lat"]),
                float(row["lon"]),
                row["provider"],
                row["campus"],
            )
            for row in csv.DictReader(handle)
        }


def example_path(name: str = "reference") -> Path:
    """The file of a named example platform (``reference``, ``small``, ``medium``,
    ``provider-region``: :mod:`models.provider`)."""
    if name not in EXAMPLES:
        raise KeyError(name)
    return _data_path(f"{name}.yaml")


@cache
def reference_platform() -> Platform:
    """The embedded reference platform, used whenever no file is given."""
    return load_platform(example_path("reference"))


def build_examples(
    n1_safe: Callable[[Platform], Platform] | None = None,
) -> dict[str, Platform]:
    """Build the example platforms from the facility data (deterministic).

    Each tells one story (the README says which): ``reference`` is a realistic region whose
    audit ranks what a loss costs, ``small`` survives every single host and datacenter loss, and
    ``medium`` is the reference's shape at five times its size.

    Parameters
    ----------
    n1_safe
        Adds the extra hosts that make a platform survive every single host and datacenter
        loss (``planner.headroom.n1_safe``, as ``drplan generate --n1-safe``); the small example
        is made with it. Passed in because ``models`` does not depend on the planner.
    """
    facilities = paris_facilities()

    def generated(example: str, backup_sites: Sequence[str], **options: Any) -> Platform:
        hosts, apps, databases, seed = GENERATED[example]
        return generate_platform(
            hosts,
            apps,
            databases,
            datacenters=len(HOST_SITES),
            seed=seed,
            sites=[facilities[s] for s in (*HOST_SITES, *backup_sites)],
            name=f"paris-{example}",
            **options,
        )

    # Enough app hosts, and apps of at most 12 containers, for the region to absorb the loss of
    # any one datacenter (the audit shows what is left of the headroom).
    reference = generated("reference", BACKUP_SITES, database_host_share=0.3, max_containers=12)
    # Backup-only sites hold replicas within a storage budget (three times what they hold, so
    # that replicas lost with a datacenter can be re-homed); the host sites are unlimited.
    stored: dict[str, float] = {}
    for db in reference.databases:
        for site in reference.backups[db.id]:
            if site is not None:
                stored[site] = stored.get(site, 0) + db.size_gb
    datacenters = tuple(
        dc
        if dc.id in HOST_SITES
        else replace(
            dc, backup_capacity_gb=float(max(2000, 500 * round(3 * stored.get(dc.id, 0) / 500)))
        )
        for dc in reference.datacenters
    )
    reference = replace(reference, datacenters=datacenters)
    small = generated("small", ("eqx-pa1", "th-paris3"))
    if n1_safe is not None:
        small = n1_safe(small)
    medium = generated("medium", BACKUP_SITES)
    return {"reference": reference, "small": small, "medium": medium}


if __name__ == "__main__":
    from planner.headroom import n1_safe  # the build script, not the library, uses the planner

    for example, platform in build_examples(lambda p: n1_safe(p)[0]).items():
        save_platform(platform, example_path(example))
        print(f"wrote {example_path(example)}")
