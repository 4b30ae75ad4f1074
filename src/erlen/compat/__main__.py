"""``python -m erlen.compat``: Flask's ``flask`` command on Erlen, without a launcher.

``python -m erlen.compat db upgrade`` does what ``flask db upgrade`` does
with Flask installed; see :mod:`erlen.compat.command`.
"""

from .command import main

main()
