"""`field__in_constants=[...]`: an IN whose values are written into the SQL, not sent as parameters.

PostgreSQL plans a statement it has prepared (`DATABASE_PREPARE_THRESHOLD`) once for any
parameters, and that plan cannot use a partial index whose condition names values it only gets as
parameters: at 1M cases the queue's query (`case_queue_order`, on the queue's states) was planned
again on every request, ~1.5 ms of its ~2.5. For the code's own names (states), never for what a
user sent: anything but lowercase letters and underscores is refused.
"""

import re

from django.core.exceptions import EmptyResultSet
from django.db.models import CharField
from django.db.models.lookups import In

_NAME = re.compile(r"[a-z_]+")


@CharField.register_lookup
class InConstants(In):
    lookup_name = "in_constants"

    def process_rhs(self, compiler, connection):
        names = list(dict.fromkeys(str(value) for value in self.rhs))
        if not names:
            raise EmptyResultSet
        for name in names:
            if not _NAME.fullmatch(name):
                raise ValueError(f"in_constants takes lowercase names, not {name!r}")
        return "(" + ", ".join(f"'{name}'" for name in names) + ")", ()
