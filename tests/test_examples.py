"""The example notebooks run top to bottom in a fresh Jupyter kernel (nbclient) and show what they promise."""

from pathlib import Path

import nbclient  # the [test] extra: nbclient (with nbformat) and ipykernel
import nbformat
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

pytestmark = pytest.mark.slow


def test_pendulum_notebook_discovers_shows_exports_and_tailors(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the kernel's torch: one thread, as every test (conftest.py)
    nb = nbformat.read(EXAMPLES / "pendulum.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = {cell.source.splitlines()[-1]: cell.outputs for cell in nb.cells if cell.cell_type == "code"}
    (found,) = [o for o in outputs["result"] if o.output_type == "execute_result"]
    assert "<td>conserved</td>" in found.data["text/html"] and "text/latex" in found.data
    assert "image/png" in outputs["result.plot_law(1)"][0].data
    assert "text/latex" in outputs["result.law"][0].data
    exported = "".join(o.get("text", "") for o in outputs["law"] if o.output_type == "stream")
    assert "def law(q, p):" in exported and "np.cos(q)" in exported
    summary = outputs["comparison.summary"][0].data["text/html"]
    assert "mlp" in summary and "noether" in summary
