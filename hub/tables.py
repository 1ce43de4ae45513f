"""Import every table module so ``SQLModel.metadata`` holds the whole schema.

Alembic's environment and the test fixtures import this; add a new table module here.
"""

from sqlmodel import SQLModel

import hub.bookings  # noqa: F401  (shared-asset scheduling)
import hub.timebank  # noqa: F401  (registers the timebank, maintenance and ledger tables)
from hub import (  # noqa: F401
    accounts,
    audit,
    fleet,
    inbox,
    inventory,
    loans,
    members,
    sync,
)

metadata = SQLModel.metadata
