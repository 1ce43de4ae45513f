"""Filling a hub at once.

- ``csv_io``  import members and tools from CSV (all or nothing), export the records as CSV
- ``demo``    a believable small tool library for the demo and the tests
"""
