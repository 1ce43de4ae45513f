"""Who belongs to the network, and what they may use.

- ``roster``       members, their cards and the trainings that gate tools and machines
- ``credentials``  stewards' argon2 passwords, sign-in lock-outs, API tokens
"""
