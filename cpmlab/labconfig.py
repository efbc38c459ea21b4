"""The lab config: usual device ports, the lab's safety limits, data folder (YAML, per user)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cpmlab.core.errors import CpmlabError
from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.model import LimitsModel

CONFIG_ENV = "CPMLAB_CONFIG"


class LabConfig(BaseModel):
    """Settings that belong to the lab rather than to a protocol."""

    model_config = ConfigDict(extra="forbid")

    lab: str = "unnamed lab"
    operator: str | None = None
    data: str | None = None
    limits: LimitsModel = LimitsModel()
    devices: dict[str, str] = Field(default_factory=dict)  # role -> "driver:port"
    driver_options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def safety_limits(self) -> SafetyLimits:
        """Return the lab's limits."""
        return self.limits.to_limits()


def config_path() -> Path:
    """Return the lab config path ($CPMLAB_CONFIG, else the platform's user config dir)."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("cpmlab")) / "lab.yaml"


def load_lab_config(path: str | Path | None = None) -> LabConfig:
    """Load the lab config, or defaults if there is none; raise CpmlabError if it is invalid."""
    path = Path(path) if path else config_path()
    if not path.exists():
        return LabConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return LabConfig.model_validate(data)
    except (yaml.YAMLError, OSError) as exc:
        raise CpmlabError(f"lab config {path}: cannot read it: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CpmlabError(f"lab config {path}: {problems}") from None


def save_lab_config(config: LabConfig, path: str | Path | None = None) -> Path:
    """Write the lab config (used by the console's settings)."""
    path = Path(path) if path else config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    return path
