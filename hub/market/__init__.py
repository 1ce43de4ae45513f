"""The network's own market and its decisions (issue 19).

- ``posts``      offers and requests, their categories and answers; stewards hide what breaks
                 the network's rules (audited)
- ``exchanges``  hours for a service done through a post: claimed by the giver or confirmed by
                 the receiver, moved between the two members by the ledger (zero-sum)
- ``skills``     who can fix what: members' skill tags, fixers suggested for a broken tool
- ``asks``       asking suggested fixers by email: a steward's choice, or those who opted in
- ``proposals``  deciding together: proposals, votes, the decision rule, a passed spend
- ``records``    the open records of all this: counts and hours, never who
"""
