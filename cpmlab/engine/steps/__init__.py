"""The code of each step kind, one module per kind; ``table`` maps each step model class to it.

Every handler is ``handler(ctx, step, path, rep) -> status | None`` and works only through
the SessionContext it is given.
"""
