"""Hypothesis strategies shared by the planner's property tests."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from models.entities import Platform
from models.generate import GenerationError, generate_platform
from planner.plan import Scenario


@st.composite
def platforms_and_losses(draw: st.DrawFn) -> tuple[Platform, Scenario]:
    """A small generated platform (some apps spread over datacenters) and a loss on it: one
    datacenter, or one to three hosts."""
    hosts = draw(st.integers(4, 14))
    apps = draw(st.integers(2, 4 * hosts))
    databases = draw(st.integers(0, 3))
    datacenters = draw(st.integers(1, min(3, hosts)))
    seed = draw(st.integers(0, 10_000))
    try:
        platform = generate_platform(hosts, apps, databases, datacenters, seed)
    except GenerationError:
        platform = generate_platform(hosts, 2, 0, datacenters, seed)
    if draw(st.booleans()):
        # Apps spread over 2+ datacenters keep that spread as a rule (it holds as placed).
        spread = []
        for app in platform.apps:
            dcs = {platform.host_by_id[h].datacenter for h in platform.hosts_of(app.id) if h}
            spread.append(replace(app, spread=len(dcs)) if len(dcs) >= 2 else app)
        platform = replace(platform, apps=tuple(spread))
    if datacenters > 1 and draw(st.booleans()):
        return platform, Scenario("datacenter", (platform.hosts[0].datacenter,))
    lost = draw(st.lists(st.sampled_from([h.id for h in platform.hosts]), min_size=1, max_size=3))
    return platform, Scenario("host", tuple(dict.fromkeys(lost)))
