"""byecore's error tree.

Every error a user can cause or meet is one of these; the CLI prints its message
(and its hint, the command or setting that fixes it) and exits without a traceback.

    ByecoreError                      exit code 1
    ├── UsageError                    exit code 2: arguments that parse but make no sense
    ├── ConfigError (ValueError)      a settings file that does not parse or validate
    ├── NotFound (LookupError)        an unknown provider, preset or model
    ├── FileWriteError                the system refused a write (permissions, full disk…)
    └── UpstreamError                 a provider answered with an error, or not at all
        └── UpstreamUnreachable (ConnectionError)   DNS, refused connection, TLS, timeout

The stdlib bases are there where they are honest, so callers may also catch
``ValueError`` or ``ConnectionError``.
"""

from __future__ import annotations


class ByecoreError(Exception):
    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def as_dict(self) -> dict:
        out: dict = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


class UsageError(ByecoreError):
    exit_code = 2
    code = "usage"


class ConfigError(ByecoreError, ValueError):
    code = "config"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = path or ""
        if path and line:
            where = f"{path}, line {line}"
        if field:
            where = f"{where}: {field}" if where else field
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path, self.line, self.field = path, line, field

    def as_dict(self) -> dict:
        out = super().as_dict()
        out.update({k: v for k, v in (("path", self.path), ("line", self.line),
                                      ("field", self.field)) if v is not None})
        return out


class NotFound(ByecoreError, LookupError):
    code = "not_found"


class FileWriteError(ByecoreError):
    """The system refused a write; ``path`` is the file or folder it refused
    (``files.write_error`` words it)."""

    code = "write_failed"

    def __init__(self, message: str, *, path: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.path = path

    def as_dict(self) -> dict:
        return {**super().as_dict(), "path": self.path}


class UpstreamError(ByecoreError):
    code = "upstream"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status, self.provider = status, provider

    def as_dict(self) -> dict:
        out = super().as_dict()
        out.update({k: v for k, v in (("status", self.status), ("provider", self.provider))
                    if v is not None})
        return out


class UpstreamUnreachable(UpstreamError, ConnectionError):
    code = "unreachable"
