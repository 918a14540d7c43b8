"""Every YAML file of the project (journey.yml, a stage file, a mapping) fails the same clear way."""
from __future__ import annotations

import pytest

from journeylib.config import load_config
from journeylib.data.mapping import load_mapping
from journeylib.errors import MappingError, ParameterError, StageConfigError
from journeylib.stages import load_lifecycle


@pytest.mark.parametrize("loader, error, what", [
    (load_config, ParameterError, "config file"), (load_lifecycle, StageConfigError, "stage file"),
    (load_mapping, MappingError, "mapping file"),
])
def test_a_missing_or_broken_yaml_file_is_named_with_the_place_of_the_problem(tmp_path, loader, error, what):
    (tmp_path / "settings.yml").write_text("a: [1, 2\nb: 3\n", encoding="utf-8")
    with pytest.raises(error, match=rf"{what} '.*setings\.yml' does not exist \(did you mean 'settings\.yml'\?\)"):
        loader(str(tmp_path / "setings.yml"))
    with pytest.raises(error, match=r"settings\.yml: not valid YAML at line 2, column 2"):
        loader(str(tmp_path / "settings.yml"))
