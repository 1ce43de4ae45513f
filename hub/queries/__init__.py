"""Read-only views of the records: what the steward pages and the API show.

- ``steward``  the steward pages' questions: what needs me, charts, lists
- ``api``      joined rows for the JSON API
"""
