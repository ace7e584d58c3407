"""Import a Kubernetes cluster (``kubectl get ... -o json``) as a drplan platform."""

from models.kubernetes.importer import KubernetesImport, LabelKeys, import_kubernetes
from models.kubernetes.quantity import QuantityError, amount, gigabytes, quantity
from models.kubernetes.reading import KubernetesInputError, read_objects
from models.kubernetes.sites import Site, load_sites
from models.kubernetes.workloads import Note, NoteKind, pod_requests

__all__ = [
    "KubernetesImport",
    "KubernetesInputError",
    "LabelKeys",
    "Note",
    "NoteKind",
    "QuantityError",
    "Site",
    "amount",
    "gigabytes",
    "import_kubernetes",
    "load_sites",
    "pod_requests",
    "quantity",
    "read_objects",
]
