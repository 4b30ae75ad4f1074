"""Vendor Swagger UI into the package: ``python3 scripts/vendor_swagger_ui.py``.

The API reference page of :mod:`erlen.openapi` (``OPENAPI_DOCS_URL``) runs
Swagger UI from files inside the package, so it works offline and loads
nothing from a CDN. This script takes them from the npm registry's
``swagger-ui-dist`` package at the pinned :data:`VERSION` (with ``npm pack``,
checking the tarball against the registry's pinned :data:`INTEGRITY`) and
writes the two files the page needs, with the package's licence and notice,
to ``src/erlen/openapi/ui/swagger-ui/``, where they are committed and shipped
as package data. To move to another release, change both pins and run it.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "5.36.0"
#: ``npm view swagger-ui-dist@VERSION dist.integrity``.
INTEGRITY = "sha512-Lt6/Kb0gXmLdiabLhvso4VdJP9V7qJWB0zh0gzeXUV3+CMOTzMmvpJRSXN7EAjfwixwmoi9ezDbLHiexC7lA9A=="
#: The files taken from the package.
FILES = (
    "swagger-ui-bundle.js",
    "swagger-ui-bundle.js.LICENSE.txt",
    "swagger-ui.css",
    "LICENSE",
    "NOTICE",
)
TARGET = Path(__file__).resolve().parent.parent / "src" / "erlen" / "openapi" / "ui" / "swagger-ui"


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"swagger-ui-dist@{VERSION}", "--pack-destination", tmp, "--silent"],
            check=True,
            timeout=300,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        data = tarball.read_bytes()
        if _integrity(data) != INTEGRITY:
            print(f"{tarball.name} does not match the pinned integrity", file=sys.stderr)
            return 1
        TARGET.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as tar:
            for name in FILES:
                member = tar.extractfile(f"package/{name}")
                assert member is not None, name
                content = member.read()
                if name.endswith((".js", ".css")):
                    # The source maps are not shipped: drop the comment that names them.
                    lines = content.rstrip(b"\n").split(b"\n")
                    if lines[-1].startswith((b"//# sourceMappingURL=", b"/*# sourceMappingURL=")):
                        content = b"\n".join(lines[:-1]) + b"\n"
                (TARGET / name).write_bytes(content)
    (TARGET / "VERSION").write_text(f"swagger-ui-dist {VERSION}\n{INTEGRITY}\n")
    print(f"swagger-ui-dist {VERSION} written to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
