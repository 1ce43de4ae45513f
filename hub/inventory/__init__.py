"""What the library holds and where: kiosks, their lockers, the tools in them.

- ``registry``  kiosks, lockers and tools: register, find, take out of service, retire
- ``fleet``     what kiosks report: status (online, backlog), door alarms, refused cards
"""
