"""Provider conformance kits (see docs/plugins/conformance.md).

- ``ModelConformance``: the ``Provider``/``Model`` contract for any provider whose model
  answers in this process (fixtures ``provider``, ``model_id``, optional
  ``failing_model_id``).
- ``ProviderConformance``: the wire and fault suite of an HTTP provider against a loopback
  server (fixtures ``provider``, ``make_model``, ``wire``).

Both check the provider object (``ProviderChecks``): ``models()`` lists ids *without* the
provider prefix, ``model(id)`` returns a ``Model``, the kernel resolves and lists it.
"""

from __future__ import annotations

from ._http_conformance import ProviderConformance
from ._provider_checks import ModelConformance, ProviderChecks
from ._wire import CONFORMANCE_KEY, ErrorKind, WireAdapter, assert_no_secret

__all__ = [
    "CONFORMANCE_KEY",
    "ErrorKind",
    "ModelConformance",
    "ProviderChecks",
    "ProviderConformance",
    "WireAdapter",
    "assert_no_secret",
]
