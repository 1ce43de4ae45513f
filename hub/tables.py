"""Import every table module so ``SQLModel.metadata`` holds the whole schema.

Alembic's environment and the test fixtures import this; add a new table module here.
"""

from sqlmodel import SQLModel

from hub import inbox, inventory, loans, members  # noqa: F401  (registers the tables)

metadata = SQLModel.metadata
