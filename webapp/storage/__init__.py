"""Where uploaded files live: a storage interface and its local-disk implementation."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app, url_for


class Storage(Protocol):
    """What the application needs of a file store; an object store can replace the disk."""

    def save(self, data: bytes, prefix: str, extension: str) -> str: ...
    def put(self, key: str, data: bytes) -> None: ...
    def exists(self, key: str) -> bool: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str) -> str: ...


class LocalStorage:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("storage key escapes the storage root")
        return path

    def save(self, data: bytes, prefix: str, extension: str) -> str:
        key = f"{prefix}/{secrets.token_hex(12)}.{extension}"
        self.put(key, data)
        return key

    def put(self, key: str, data: bytes) -> None:
        """Write under a key the caller chose (derived files: a generated cover); atomic, last writer wins."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return url_for("storage.upload", key=key)


def get_storage() -> Storage:
    store = current_app.extensions.get("harambee.storage")
    if store is None:
        store = LocalStorage(current_app.config["UPLOAD_DIR"])
        current_app.extensions["harambee.storage"] = store
    return store
