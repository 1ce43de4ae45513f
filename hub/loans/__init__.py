"""Loans: a tool goes out to a member and comes back.

- ``lending``  lend and return, open and overdue loans, returns that arrive before their loan
"""
