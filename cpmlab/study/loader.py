"""Load a study YAML file: schema errors and cross-checks with file and line, like protocol files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.loader import Problem, ProtocolError, line_of, load_protocol, validate_yaml
from cpmlab.protocol.model import Protocol
from cpmlab.protocols import protocol_path
from cpmlab.study.model import Study, Visit

Path_ = tuple[str | int, ...]


class StudyError(ProtocolError):
    """A study file is invalid; carries every problem found."""


@dataclass(frozen=True)
class LoadedStudy:
    """A validated study with the protocol file each visit and condition runs."""

    study: Study
    path: Path
    protocol_paths: dict[tuple[str, str | None], Path]  # (visit id, condition or None) -> protocol file
    protocols: dict[tuple[str, str | None], Protocol]

    def protocol_for(self, visit: Visit, condition: str | None) -> tuple[Path, Protocol]:
        """Return the protocol file and model a visit runs under a condition."""
        key = (visit.id, condition if isinstance(visit.protocol, dict) else None)
        return self.protocol_paths[key], self.protocols[key]


def resolve_study_protocol(name: str, study_dir: Path) -> Path:
    """Return a protocol file named in a study: a path relative to the study file, or a shipped protocol."""
    candidate = study_dir / name
    if candidate.suffix not in (".yaml", ".yml"):
        candidate = candidate.with_name(candidate.name + ".yaml")
    if candidate.is_file():
        return candidate
    return protocol_path(name)


def _defined_variables(protocol: Protocol) -> set[str]:
    names = set(protocol.variables)
    for visit in protocol.walk():
        names |= set(visit.step.defines())
    return names


def _check(study: Study, file: str, lines: dict[Path_, int], lab_limits: SafetyLimits | None) -> LoadedStudy:
    problems: list[Problem] = []

    def problem(path: Path_, field: str, message: str) -> None:
        problems.append(Problem(file, line_of(path, lines), field, message))

    study_dir = Path(file).resolve().parent
    if len(set(study.conditions)) != len(study.conditions):
        problem(("conditions",), "conditions", "a condition is named twice")
    names = [f.name for f in study.participant_fields]
    for i, name in enumerate(names):
        if name in names[:i]:
            problem(("participant_fields", i, "name"), f"participant_fields[{i}].name", f"{name!r} is named twice")
    paths: dict[tuple[str, str | None], Path] = {}
    protocols: dict[tuple[str, str | None], Protocol] = {}
    seen: dict[str, int] = {}
    sessions: dict[str, str] = {}
    for i, visit in enumerate(study.visits):
        where = f"visits[{i}]"
        if visit.id in seen:
            problem(
                ("visits", i, "id"), f"{where}.id", f"visit id {visit.id!r} is already used by visits[{seen[visit.id]}]"
            )
        seen.setdefault(visit.id, i)
        if visit.session in sessions:
            problem(
                ("visits", i, "session"),
                f"{where}.session",
                f"session {visit.session!r} is already visit {sessions[visit.session]!r}'s",
            )
        sessions.setdefault(visit.session, visit.id)
        if visit.condition is not None and visit.condition > len(study.conditions):
            problem(
                ("visits", i, "condition"),
                f"{where}.condition",
                f"the study has {len(study.conditions)} condition(s); condition {visit.condition} does not exist",
            )
        if isinstance(visit.protocol, dict):
            if visit.condition is None:
                problem(("visits", i, "protocol"), f"{where}.protocol", "one protocol per condition needs a condition")
            if set(visit.protocol) != set(study.conditions):
                problem(
                    ("visits", i, "protocol"),
                    f"{where}.protocol",
                    f"name one protocol for each condition ({', '.join(study.conditions)}), "
                    f"not for {', '.join(visit.protocol)}",
                )
            entries = [(cond, name, ("visits", i, "protocol", cond)) for cond, name in visit.protocol.items()]
        else:
            entries = [(None, visit.protocol, ("visits", i, "protocol"))]
        for cond, name, path in entries:
            field = where + ".protocol" + (f".{cond}" if cond else "")
            try:
                proto_path = resolve_study_protocol(name, study_dir)
                protocol = load_protocol(proto_path, lab_limits)
            except FileNotFoundError as exc:
                problem(path, field, str(exc))
                continue
            except ProtocolError as exc:
                problem(path, field, f"protocol {name!r} is invalid: {exc.problems[0]}")
                continue
            if cond in ("active", "sham", "none") and protocol.condition != cond:
                problem(path, field, f"protocol {name!r} declares condition {protocol.condition!r}, not {cond!r}")
            paths[(visit.id, cond)] = proto_path
            protocols[(visit.id, cond)] = protocol
        for var, carry in visit.carry.items():
            cpath = ("visits", i, "carry", var)
            cfield = f"{where}.carry.{var}"
            if carry.from_visit not in seen or seen[carry.from_visit] >= i:
                problem(cpath, cfield, f"from_visit {carry.from_visit!r} is not an earlier visit of this study")
                continue
            for (vid, _), protocol in protocols.items():
                if vid == visit.id and var not in protocol.variables:
                    problem(
                        cpath,
                        cfield,
                        f"protocol {protocol.name!r} has no variable {var!r} in its variables header",
                    )
                if vid == carry.from_visit and carry.variable not in _defined_variables(protocol):
                    problem(
                        cpath,
                        cfield,
                        f"visit {carry.from_visit!r}'s protocol {protocol.name!r} never sets {carry.variable!r}",
                    )
    if problems:
        raise StudyError(problems)
    return LoadedStudy(study, Path(file), paths, protocols)


def parse_study(text: str, file: str, lab_limits: SafetyLimits | None = None) -> LoadedStudy:
    """Parse and validate study text; raise StudyError listing every problem."""
    study, lines = validate_yaml(
        text, file, Study, kind="study", error=StudyError, fields_doc="docs/studies.md for the fields of a study"
    )
    return _check(study, file, lines, lab_limits)


def load_study(path: str | Path, lab_limits: SafetyLimits | None = None) -> LoadedStudy:
    """Load and validate a study file (or a shipped study by name); raise StudyError on any problem."""
    path = Path(path)
    if not path.exists() and path.suffix not in (".yaml", ".yml"):
        from cpmlab.studies import study_path

        try:
            path = study_path(str(path))
        except FileNotFoundError as exc:
            raise StudyError([Problem(str(path), None, "", str(exc))]) from None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudyError([Problem(str(path), None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError([Problem(str(path), None, "", f"cannot read the file: {exc}")]) from None
    return parse_study(text, str(path), lab_limits)
