"""Numbers that may be given as variable expressions, e.g. ``${ts_target_c}`` or ``${hpt_c + 1}``."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, GetCoreSchemaHandler
from pydantic_core import core_schema

_EXPR = re.compile(r"^\$\{(?P<body>[^{}]+)\}$")
_TEMPLATE = re.compile(r"\$\{([^{}]+)\}")

_BINOPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_FUNCS = {"min": min, "max": max, "round": round, "abs": abs}
MAX_EXPRESSION_CHARS = 200  # far more than any real expression; keeps parsing and evaluation bounded


class ExpressionError(ValueError):
    """An expression is malformed or names an unknown variable."""


class Expr(str):
    """A numeric value to be computed from session variables when the step runs."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())

    @property
    def body(self) -> str:
        """The expression inside ${...}."""
        m = _EXPR.match(self)
        assert m is not None
        return m["body"].strip()

    def names(self) -> set[str]:
        """Return the variable names the expression uses."""
        tree = _parse(self.body)
        return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in _FUNCS}

    def evaluate(self, variables: Mapping[str, Any]) -> float:
        """Return the expression's value given the session's variables."""
        try:
            value = float(_eval(_parse(self.body).body, variables))
        except (ArithmeticError, TypeError, ValueError, RecursionError) as exc:
            if isinstance(exc, ExpressionError):
                raise
            raise ExpressionError(f"expression '${{{self.body}}}' cannot be computed: {exc}") from None
        if not math.isfinite(value):
            raise ExpressionError(f"expression '${{{self.body}}}' gives {value}, not a finite number")
        return value


def _parse(body: str) -> ast.Expression:
    if len(body) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(f"expression is {len(body)} characters long; at most {MAX_EXPRESSION_CHARS} allowed")
    try:
        tree = ast.parse(body, mode="eval")
    except (SyntaxError, RecursionError, MemoryError) as exc:
        if not isinstance(exc, SyntaxError):
            raise ExpressionError(f"cannot parse expression '${{{body}}}': nested too deeply") from None
        raise ExpressionError(f"cannot parse expression '${{{body}}}': {exc.msg}") from None
    for node in ast.walk(tree):
        allowed = (
            ast.Expression,
            ast.BinOp,
            ast.UnaryOp,
            ast.USub,
            ast.UAdd,
            ast.Name,
            ast.Load,
            ast.Constant,
            ast.Call,
            *_BINOPS,
        )
        if not isinstance(node, allowed):
            raise ExpressionError(
                f"expression '${{{body}}}' uses {type(node).__name__}; only + - * /, "
                f"numbers, variable names and min/max/round/abs are allowed"
            )
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _FUNCS):
            raise ExpressionError(f"expression '${{{body}}}' calls an unknown function")
        if isinstance(node, ast.Call) and (node.keywords or not node.args):
            raise ExpressionError(f"expression '${{{body}}}': functions take plain arguments, at least one")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or not isinstance(node.value, int | float)):
            raise ExpressionError(f"expression '${{{body}}}' contains {node.value!r}; only numbers are allowed")
    return tree


def _eval(node: ast.AST, variables: Mapping[str, Any]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in variables:
            raise ExpressionError(f"variable {node.id!r} has no value yet")
        value = variables[node.id]
        if not isinstance(value, int | float):
            raise ExpressionError(f"variable {node.id!r} is {value!r}, not a number")
        return float(value)
    if isinstance(node, ast.BinOp):
        return _BINOPS[type(node.op)](_eval(node.left, variables), _eval(node.right, variables))
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, variables)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return float(_FUNCS[node.func.id](*(_eval(a, variables) for a in node.args)))
    raise ExpressionError(f"unsupported expression element {type(node).__name__}")


def _to_number(value: Any) -> float | Expr:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a yes/no value")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"{value} is too large") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {value}")
        return number
    if isinstance(value, str):
        if _EXPR.match(value.strip()):
            expr = Expr(value.strip())
            expr.names()  # parse now so a malformed expression fails at load time
            return expr
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
            raise ValueError(f"expected a finite number, got {value!r}")
    raise ValueError(f"expected a number or a ${{variable}} expression, got {value!r}")


Number = Annotated[float | Expr, BeforeValidator(_to_number)]


def resolve(value: float | Expr, variables: Mapping[str, Any]) -> float:
    """Return value itself, or the expression evaluated with variables."""
    return value.evaluate(variables) if isinstance(value, Expr) else float(value)


def render_text(text: str, variables: Mapping[str, Any]) -> str:
    """Replace ${name} in participant text with variable values (unknown names stay)."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1).strip()
        value = variables.get(name)
        if value is None:
            return m.group(0)
        return f"{value:g}" if isinstance(value, float) else str(value)

    return _TEMPLATE.sub(sub, text)
