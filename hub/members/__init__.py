"""Who belongs to the network, and what they may use.

- ``roster``       members, their cards and the trainings that gate tools and machines
- ``credentials``  stewards' argon2 passwords, API tokens, PIN resets by stewards
- ``throttling``   sign-in throttles by address and account that never lock the victim out
"""
