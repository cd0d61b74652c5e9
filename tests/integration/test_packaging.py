"""Issue 27 items 4 and 7: the first `pip install .` is quiet (no warning of ours from the build
backend) and the wheel ships what the installed command needs, under a licence people can read."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
# The MD5 of https://www.apache.org/licenses/LICENSE-2.0.txt, the standard text unmodified.
APACHE_2_MD5 = "3b83ef96387f14655fc854ddc3c6bd57"
# A Python warning as setuptools prints it ("..._Warning: Package 'app.web.static' is absent
# from the `packages` configuration", SetuptoolsDeprecationWarning, BuildBackendWarning...).
# setuptools' own "warning: build_py: byte-compiling is disabled" is about pip, not our config.
OUR_WARNING = re.compile(r"\w*Warning\b|is absent from the")


def test_the_wheel_builds_without_a_warning_and_ships_its_data(tmp_path: Path) -> None:
    built = subprocess.run(
        # -v: pip hides the backend's output otherwise, and the warnings with it.
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", tmp_path, ROOT],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    output = built.stdout + built.stderr
    assert "Building wheel for flinkswatch" in output  # the backend's output was seen
    warnings = [line.strip() for line in output.splitlines() if OUR_WARNING.search(line)]
    assert warnings == []
    (wheel,) = tmp_path.glob("flinkswatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        *(f"app/web/templates/{p.name}" for p in ROOT.glob("app/web/templates/*.html")),
        *(f"app/web/static/{p.name}" for p in ROOT.glob("app/web/static/*.css")),
        *(f"app/migrations/versions/{p.name}" for p in ROOT.glob("migrations/versions/*.py")),
    }
    assert {"app/web/templates/base.html", "app/web/static/site.css"} <= shipped
    assert shipped <= names
    assert {"app/py.typed", "app/migrations/script.py.mako", "app/migrations/env.py"} <= names
    assert "flinkswatch-0.1.0.dist-info/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read("flinkswatch-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()


def test_the_licence_is_the_whole_apache_2_text_and_said_everywhere() -> None:
    text = (ROOT / "LICENSE").read_bytes()
    assert hashlib.md5(text, usedforsecurity=False).hexdigest() == APACHE_2_MD5
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"Apache License 2\.0.*\[`LICENSE`\]\(LICENSE\)", readme), "README: licence"
