"""Fixtures shared by the planner's tests: tiny platforms, each named after its situation."""

from __future__ import annotations

from tests import DATA, platform_fixture

spare = platform_fixture(
    DATA / "spare_host_fits_exactly.yaml",
    "h2 has exactly the room for one container of api once h1 is lost.",
)
spread_roles = platform_fixture(
    DATA / "spread_and_roles_on_lost_hosts.yaml",
    "api must run in two datacenters; database orders may only use databases hosts.",
)
solo_web = platform_fixture(
    DATA / "one_container_app_on_lost_host.yaml",
    "solo (one container) and web (three) share h1; detection 20 s, boot 40 s.",
)
