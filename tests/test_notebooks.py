"""The notebooks run clean, top to bottom, on the venv's python3 kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["what_if.ipynb", "capacity_planning.ipynb"])
def test_notebook_runs_clean(name, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), (
        f"{name} is committed with outputs"
    )
    NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    drawing = [
        cell
        for cell in book.cells
        if cell.cell_type == "code" and cell.source.strip().startswith("plots.")
    ]
    assert len(drawing) >= 4
    for cell in drawing:  # every cell that ends on a plot shows it as an image
        assert any("image/png" in output.get("data", {}) for output in cell.outputs), cell.source
