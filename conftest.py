"""Repository-wide pytest setup (tests/ and the nbval run of notebooks/)."""
import os
import tempfile
from pathlib import Path

# Keep Jupyter and IPython state out of $HOME while testing.
_base = Path(tempfile.gettempdir()) / "journeylib-tests"
for _var, _sub in (("JUPYTER_CONFIG_DIR", "jupyter-config"), ("JUPYTER_DATA_DIR", "jupyter-data"),
                   ("JUPYTER_RUNTIME_DIR", "jupyter-runtime"), ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl")):
    os.environ.setdefault(_var, str(_base / _sub))
    Path(os.environ[_var]).mkdir(parents=True, exist_ok=True)
