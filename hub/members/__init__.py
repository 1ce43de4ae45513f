"""Who belongs to the network, what they may use, and who may act on whom.

- ``roster``       members, their cards and the trainings that gate tools and machines
- ``ranks``        member < volunteer < steward < admin: who may act on whom, and the operator
- ``standing``     enrolment with roles, details, suspension, reinstatement, roles (audited)
- ``cards``        stewards assign, revoke and report lost members' cards (audited)
- ``trainings``    stewards grant (with an expiry date) and revoke trainings (audited)
- ``credentials``  stewards' argon2 passwords, PIN resets (audited)
- ``sessions``     dashboard sign-in sessions on the hub, so any of them can be ended at once
- ``tokens``       API tokens: named, scoped, expiring, revocable (issue and revoke audited)
- ``throttling``   sign-in throttles by address and account that never lock the victim out
"""
