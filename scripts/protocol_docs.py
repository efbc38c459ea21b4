"""Write docs/protocols/<name>.md for every shipped protocol from its header and timeline."""

from __future__ import annotations

from pathlib import Path

from cpmlab.protocol.loader import load_protocol
from cpmlab.protocol.timeline import build_timeline, format_timeline

ROOT = Path(__file__).resolve().parents[1]


def header_comment(path: Path) -> str:
    """Return the protocol's leading comment block without the '# ' prefixes."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return "\n".join(lines).strip()


def page(path: Path) -> str:
    """Return the markdown page of one protocol."""
    protocol = load_protocol(path)
    refs = "\n".join(f"- {r}" for r in protocol.references)
    limits = ", ".join(f"{k} {v:g}" for k, v in protocol.limits.model_dump().items())
    return (
        f"# {protocol.title}\n\n"
        f"File: `protocols/{path.name}` - BIDS task `{protocol.task}` - condition `{protocol.condition}` - "
        f"devices: {', '.join(protocol.devices)}\n\n"
        f"{protocol.description.strip()}\n\n"
        f"```\n{header_comment(path)}\n```\n\n"
        f"## Run it\n\n```sh\n"
        f"cpmlab run {path.stem} -p 01 -s 1 --data ~/cpm-data   # with devices from the lab config\n"
        f"cpmlab run {path.stem} -p 01 -s 1 --data /tmp/dry --emulate --simulate --speed 20   # dry run\n```\n\n"
        f"## Safety limits\n\n{limits}\n\n"
        f"## Timeline\n\n```\n{format_timeline(protocol, build_timeline(protocol))}\n```\n\n"
        f"## References\n\n{refs}\n"
    )


def main() -> None:
    """Regenerate every page."""
    out_dir = ROOT / "docs" / "protocols"
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "protocols").glob("*.yaml")):
        (out_dir / f"{path.stem}.md").write_text(page(path), encoding="utf-8")
        print(f"docs/protocols/{path.stem}.md")


if __name__ == "__main__":
    main()
