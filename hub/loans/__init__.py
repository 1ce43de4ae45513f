"""Loans: a tool goes out to a member and comes back.

- ``lending``  lend and return, a tool's open loan, returns that arrive before their loan
"""
