"""drplan models: what a platform is and what must always hold.

The public API for notebooks and library users (every name below is imported on first use)::

    from models import generate_platform, load_platform, save_platform

    platform = generate_platform(hosts=12, apps=20, databases=6, datacenters=3, seed=1)
    save_platform(platform, "platform.yaml")
    same = load_platform("platform.yaml")  # validated: every problem listed, or a Platform

``planner`` re-exports the names most scripts need, with the planners and the rule catalogue
(``state_findings``: every rule a platform's state breaks).
"""

from __future__ import annotations

from models.lazy_exports import lazy_exports

#: ``typing.TYPE_CHECKING`` without importing ``typing`` (mypy reads the name alike).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from models.entities import (
        App,
        BackupSites,
        Database,
        Datacenter,
        Engine,
        Host,
        Placement,
        Platform,
        ReplicaRole,
        Role,
        ServiceClass,
    )
    from models.exceptions import (
        Defect,
        DrplanError,
        GenerationError,
        InputError,
        KubernetesInputError,
        OutputError,
        QuantityError,
        TraceError,
    )
    from models.generate import generate_platform
    from models.io import (
        PlatformFileError,
        dump_platform_text,
        load_platform,
        parse_platform,
        platform_to_dict,
        save_platform,
    )
    from models.kubernetes import import_kubernetes
    from models.policy import Policy
    from models.reference import build_examples, example_path, reference_platform
    from models.rules import (
        Finding,
        Rule,
        backup_findings,
        capacity_findings,
        effective_capacity,
        host_usage,
    )
    from models.tianchi import import_tianchi
    from models.topology import Topology

#: Every public name and where it comes from, ``module`` or ``module:attribute`` (imported on
#: first use). No name is a submodule's: importing ``planner.audit`` would replace it.
_EXPORTS: dict[str, str] = {
    "App": "models.entities",
    "BackupSites": "models.entities",
    "Database": "models.entities",
    "Datacenter": "models.entities",
    "Defect": "models.exceptions",
    "DrplanError": "models.exceptions",
    "Engine": "models.entities",
    "Finding": "models.rules",
    "GenerationError": "models.exceptions",
    "Host": "models.entities",
    "InputError": "models.exceptions",
    "KubernetesInputError": "models.exceptions",
    "OutputError": "models.exceptions",
    "Placement": "models.entities",
    "Platform": "models.entities",
    "PlatformFileError": "models.io",
    "Policy": "models.policy",
    "QuantityError": "models.exceptions",
    "ReplicaRole": "models.entities",
    "Role": "models.entities",
    "Rule": "models.rules",
    "ServiceClass": "models.entities",
    "Topology": "models.topology",
    "TraceError": "models.exceptions",
    "backup_findings": "models.rules",
    "build_examples": "models.reference",
    "capacity_findings": "models.rules",
    "dump_platform_text": "models.io",
    "effective_capacity": "models.rules",
    "example_path": "models.reference",
    "generate_platform": "models.generate",
    "host_usage": "models.rules",
    "import_kubernetes": "models.kubernetes",
    "import_tianchi": "models.tianchi",
    "load_platform": "models.io",
    "parse_platform": "models.io",
    "platform_to_dict": "models.io",
    "reference_platform": "models.reference",
    "save_platform": "models.io",
}

__all__ = [
    "App",
    "BackupSites",
    "Database",
    "Datacenter",
    "Defect",
    "DrplanError",
    "Engine",
    "Finding",
    "GenerationError",
    "Host",
    "InputError",
    "KubernetesInputError",
    "OutputError",
    "Placement",
    "Platform",
    "PlatformFileError",
    "Policy",
    "QuantityError",
    "ReplicaRole",
    "Role",
    "Rule",
    "ServiceClass",
    "Topology",
    "TraceError",
    "backup_findings",
    "build_examples",
    "capacity_findings",
    "dump_platform_text",
    "effective_capacity",
    "example_path",
    "generate_platform",
    "host_usage",
    "import_kubernetes",
    "import_tianchi",
    "load_platform",
    "parse_platform",
    "platform_to_dict",
    "reference_platform",
    "save_platform",
]


__getattr__, __dir__ = lazy_exports(globals())
