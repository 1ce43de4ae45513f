"""Shared-asset scheduling: bookable machines, their rules, bookings, check-in and feeds.

The modules, each with one reason to change:

- ``models``      the tables (Resource, ResourceClosure, Booking, BookingPause, MemberPin,
                  CalendarFeed)
- ``hours``       opening hours and slot arithmetic in the site's time zone
- ``resources``   resources, closed days, pauses, notices to holders
- ``rules``       every booking rule, each refusal naming its rule and when it would pass
- ``schedule``    create, move, cancel; a resource's slots; a member's bookings
- ``attendance``  card check-in, the no-show sweep, pausing repeat no-shows
- ``pins``        tablet PINs (argon2) with lockout; changing a PIN with the old one
- ``tablets``     tablets enrolled by stewards (device tokens), identifying by card or PIN
                  with throttles per tablet and per address
- ``calendars``   private iCalendar feeds behind revocable tokens
- ``refusals``    the refusals, each naming its rule and from when a request would pass
"""

from hub.bookings.attendance import (
    DEFAULT_NO_SHOW_POLICY,
    NoShowPolicy,
    SweepReport,
    booking_cost,
    booking_pause_of,
    check_in_all_by_card,
    check_in_by_card,
    lift_booking_pause,
    pause_booking_rights,
    paused_members,
    release_no_shows,
    sweep_bookings,
)
from hub.bookings.calendars import (
    feed_for_token,
    issue_member_feed,
    issue_resource_feed,
    member_calendar,
    resource_calendar,
)
from hub.bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingPause,
    BookingStatus,
    CalendarFeed,
    HolderChoice,
    MemberPin,
    Resource,
    ResourceClosure,
)
from hub.bookings.pins import has_pin, set_pin, verify_pin
from hub.bookings.refusals import (
    BookingRefused,
    BookingRightsPaused,
    PinLockedOut,
    ResourceUnavailable,
    SlotTaken,
)
from hub.bookings.resources import (
    add_resource,
    close_day,
    closed_days,
    describe_choice,
    find_resource,
    get_resource,
    list_resources,
    pause_resource,
    register_resource,
    reopen_day,
    resource_by_code,
    resume_resource,
    tell_holders_of_unavailable_resources,
    unavailability,
    update_rules,
)
from hub.bookings.schedule import (
    DayPlan,
    MemberBooking,
    Slot,
    SlotState,
    availability,
    bookings_of_member,
    cancel_booking,
    cancel_member_booking,
    create_booking,
    get_booking,
)

__all__ = [
    "ACTIVE_STATUSES",
    "DEFAULT_NO_SHOW_POLICY",
    "Booking",
    "BookingPause",
    "BookingRefused",
    "BookingRightsPaused",
    "BookingStatus",
    "CalendarFeed",
    "HolderChoice",
    "DayPlan",
    "MemberBooking",
    "MemberPin",
    "NoShowPolicy",
    "PinLockedOut",
    "Resource",
    "ResourceClosure",
    "ResourceUnavailable",
    "Slot",
    "SlotState",
    "SlotTaken",
    "SweepReport",
    "add_resource",
    "availability",
    "booking_cost",
    "booking_pause_of",
    "bookings_of_member",
    "cancel_booking",
    "cancel_member_booking",
    "check_in_all_by_card",
    "check_in_by_card",
    "close_day",
    "closed_days",
    "create_booking",
    "describe_choice",
    "feed_for_token",
    "find_resource",
    "get_booking",
    "get_resource",
    "has_pin",
    "issue_member_feed",
    "issue_resource_feed",
    "lift_booking_pause",
    "paused_members",
    "list_resources",
    "member_calendar",
    "pause_booking_rights",
    "pause_resource",
    "register_resource",
    "release_no_shows",
    "reopen_day",
    "resource_by_code",
    "resource_calendar",
    "resume_resource",
    "set_pin",
    "sweep_bookings",
    "tell_holders_of_unavailable_resources",
    "unavailability",
    "update_rules",
    "verify_pin",
]
