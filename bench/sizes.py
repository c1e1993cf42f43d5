"""Binary sizes for bench/run: the core binary and every plugin library, stripped (a copy is
stripped with `strip`, as a release image ships them), against the issue's goals: the core at
most 3 MiB, all plugins together below the original runtime's 14.7 MiB for everything."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CORE_GOAL_MIB = 3.0
PLUGINS_GOAL_MIB = 14.7


def stripped_size(path: Path) -> int:
    """Bytes of `path` once stripped of its symbols (the file itself is left alone)."""
    with tempfile.TemporaryDirectory(prefix="assay-bench-size-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        subprocess.run(["strip", str(copy)], check=True)
        return copy.stat().st_size


def rows(assay: Path, plugin_root: Path) -> list[list[str]]:
    """Table rows: the core, each shipped plugin (the test probe is not shipped), the sum."""
    mib = 1024 * 1024
    core = stripped_size(assay) / mib
    out = [["binary (stripped)", "MiB", "goal", "meets goal"],
           ["core (assay)", f"{core:.2f}", f"<= {CORE_GOAL_MIB:.1f}",
            "yes" if core <= CORE_GOAL_MIB else "NO"]]
    total = 0.0
    for folder in sorted(p for p in (plugin_root / "plugins").iterdir() if p.is_dir()):
        if folder.name == "probe":
            continue
        for library in sorted(folder.glob("*.so")):
            size = stripped_size(library.resolve()) / mib
            total += size
            out.append([f"plugin {folder.name}", f"{size:.2f}", "—", "—"])
    out.append(["all plugins", f"{total:.2f}", f"< {PLUGINS_GOAL_MIB}",
                "yes" if total < PLUGINS_GOAL_MIB else "NO"])
    return out
