"""The shipped examples tell the story the README gives them, and validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.entities import Platform
from models.io import dump_platform_text, load_platform
from models.reference import EXAMPLES, build_examples, example_path
from planner.audit import AuditSettings, audit
from planner.headroom import n1_safe
from planner.placement import SolveParams, place
from planner.plan import Scenario
from planner.rules.catalogue import state_findings
from planner.sweep import host_datacenters
from tests import DATA, ROOT

SETTINGS = AuditSettings(time_limit_s=2.0, seed=0)


def _example(name: str) -> Platform:
    return load_platform(example_path(name))


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_keeps_every_rule(name: str) -> None:
    assert state_findings(_example(name)) == []


def test_small_survives_every_single_host_and_datacenter_loss() -> None:
    """Checked by the placement engine itself, scenario by scenario, not by the audit's
    shortcuts."""
    small = _example("small")
    params = SolveParams.repeatable(seed=0, workers=1, time_limit=2.0)
    scenarios = [Scenario("host", (h.id,)) for h in small.hosts] + [
        Scenario("datacenter", (dc,)) for dc in host_datacenters(small)
    ]
    for scenario in scenarios:
        result = place(small, scenario, params=params)
        assert result.status.has_plan and not result.unplaced, scenario
    assert audit(small, workers=1, settings=SETTINGS).all_recoverable


def test_small_is_what_the_build_script_makes() -> None:
    """``python -m models.reference`` builds small with the headroom (4 extra hosts)."""
    built = build_examples(lambda p: n1_safe(p, time_limit_s=2.0)[0])["small"]
    assert dump_platform_text(built) == dump_platform_text(_example("small"))
    assert len(built.hosts) == len(build_examples()["small"].hosts) + 4


@pytest.mark.parametrize("name", ["reference", "medium"])
def test_reference_and_medium_survive_every_single_loss(name: str) -> None:
    result = audit(_example(name), workers=1, settings=SETTINGS, explain=0)
    assert result.all_recoverable
    assert result.headroom is not None and result.headroom.total == 0


#: The shared data folder beside the checkout (``../shared/data``, the import's default), or
#: beside the worktrees' folder.
SHARED = next(
    (p / "shared" / "data" for p in ROOT.parents[0:2] if (p / "shared" / "data").is_dir()),
    Path("../shared/data"),
)


@pytest.mark.parametrize("sample", [False, True], ids=["slice", "sample"])
def test_tianchi_import_keeps_every_rule_and_survives_every_single_loss(sample: bool) -> None:
    """The tests' 20-machine slice, and the 300-machine sample when the shared data is here."""
    from models.reference import HOST_SITES, paris_facilities
    from models.tianchi import import_tianchi

    folder = SHARED if sample else DATA / "tianchi_small"
    if sample and not (folder / "tianchi2018b_sample300_machine_resources.csv").is_file():
        pytest.skip("the shared Tianchi sample is not on this machine")
    facilities = paris_facilities()
    platform = import_tianchi(folder, [facilities[s] for s in HOST_SITES], sample=sample)
    assert state_findings(platform) == []
    assert audit(platform, workers=1, settings=SETTINGS, explain=0).all_recoverable
