"""What the library holds and where: kiosks, their lockers, the tools in them.

- ``registry``  kiosks, lockers and tools: register, find, take out of service, retire
- ``fleet``     the kiosk fleet's health: online, last seen, backlog, door alarms, refusals
"""
