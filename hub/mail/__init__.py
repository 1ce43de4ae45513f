"""Mail to members: a durable outbox, the member's choices, and the reminders the hub sends.

- ``choices``    which kinds of mail a member wants (every kind on until they turn it off)
- ``outbox``     the durable outbox: ``queue_mail`` writes a mail in the caller's transaction;
                 attempts, back-off and a record of what was sent
- ``smtp``       build a message (standard library ``email.message``) and hand it to SMTP
- ``reminders``  the housekeeping jobs: find what is due to be said, and send what is queued
- ``sink``       a local SMTP server that files each mail under ``data/mail/`` (the demo's)
"""
