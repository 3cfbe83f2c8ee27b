"""``liftnet.theory``: numerical checks of the facts MODEL.md section 4 states about (M) and
(P) (docs/maths.md 4), under the short name the README gives them.

The functions live in :mod:`liftnet.verification.theory` (the ``verification`` subpackage holds
every check); this module only names them, so that ``from liftnet.theory import
lift_feasibility`` works as ``liftnet.theory.lift_feasibility`` does. Both names are the same
function objects.
"""

from .verification import theory as _home
from .verification.theory import *  # noqa: F403 (the names of its __all__, the same objects)

__all__ = _home.__all__


def __dir__():  # dir(liftnet.theory): the public names only, as liftnet's own __dir__
    return sorted(__all__)
