"""What the library holds and where: kiosks, their lockers, the tools in them.

- ``registry``  kiosks, lockers and tools: the models, their audit actions, find, check, add
- ``tools``     a steward's doors on tools: add, edit, move, retire, rename a category (audited)
- ``kiosks``    a steward's doors on kiosks: register, rename, lockers, broker login (audited)
- ``sites``     the sheds of the network: who may borrow at each, their bridge logins (audited)
- ``fleet``     what kiosks report: status (online, backlog), door alarms, refused cards
"""
