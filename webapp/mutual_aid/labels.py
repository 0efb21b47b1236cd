"""Names people read for mutual-aid categories, states and audiences, and the texts of notifications."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.mutual_aid.models import (
    Audience,
    CallState,
    Channel,
    DeliveryState,
    EventKind,
    EventState,
    HelpCategory,
    MatchState,
    OfferState,
    RequestState,
    Severity,
    Urgency,
)

EVENT_KIND_LABELS = {
    EventKind.FLOOD: _l("Flood"), EventKind.EARTHQUAKE: _l("Earthquake"), EventKind.STORM: _l("Storm"),
    EventKind.WILDFIRE: _l("Wildfire"), EventKind.DROUGHT: _l("Drought"), EventKind.EPIDEMIC: _l("Epidemic"),
    EventKind.OTHER: _l("Other disaster"),
}
SEVERITY_LABELS = {
    Severity.MINOR: _l("Minor"), Severity.MODERATE: _l("Moderate"), Severity.SEVERE: _l("Severe"),
    Severity.EXTREME: _l("Extreme"),
}
EVENT_STATE_LABELS = {
    EventState.DRAFT: _l("draft"), EventState.ACTIVE: _l("active"), EventState.RECOVERY: _l("recovery"),
    EventState.CLOSED: _l("closed"),
}
CATEGORY_LABELS = {
    HelpCategory.LODGING: _l("Lodging"), HelpCategory.STORAGE: _l("Storage"),
    HelpCategory.EQUIPMENT_LOAN: _l("Equipment loan"), HelpCategory.TRANSPORT: _l("Transport"),
    HelpCategory.CLEANING_REPAIR: _l("Cleaning and repair work"),
    HelpCategory.SKILLS_MEDICAL: _l("Skills: medical"), HelpCategory.SKILLS_LEGAL: _l("Skills: legal"),
    HelpCategory.SKILLS_PSYCHOLOGICAL: _l("Skills: psychological"),
    HelpCategory.SKILLS_TRANSLATION: _l("Skills: translation"), HelpCategory.GOODS: _l("Goods"),
    HelpCategory.OTHER: _l("Other help"),
}
URGENCY_LABELS = {
    Urgency.CRITICAL: _l("Critical: today"), Urgency.HIGH: _l("High: within days"), Urgency.NORMAL: _l("Normal"),
}
AUDIENCE_LABELS = {
    Audience.NEAR: _l("Near the area"), Audience.COMMITTED: _l("Standing commitments"),
    Audience.DIASPORA: _l("Diaspora"),
}
CHANNEL_LABELS = {Channel.INAPP: _l("In-app"), Channel.EMAIL: _l("Email"), Channel.SMS: _l("SMS")}
CALL_STATE_LABELS = {
    CallState.QUEUED: _l("queued"), CallState.SENT: _l("sent"), CallState.FAILED: _l("failed"),
    CallState.OPENED: _l("opened"),
}
DELIVERY_STATE_LABELS = {
    DeliveryState.QUEUED: _l("queued"), DeliveryState.SENDING: _l("sending"), DeliveryState.SENT: _l("sent"),
    DeliveryState.FAILED: _l("failed"),
}
OFFER_STATE_LABELS = {
    OfferState.SLEEPING: _l("sleeping"), OfferState.PUBLISHED: _l("published"), OfferState.HIDDEN: _l("hidden"),
    OfferState.CLOSED: _l("closed"),
}
REQUEST_STATE_LABELS = {
    RequestState.OPEN: _l("open"), RequestState.PROPOSED: _l("proposal waiting"),
    RequestState.MATCHED: _l("matched"), RequestState.FULFILLED: _l("fulfilled"),
    RequestState.CANCELLED: _l("cancelled"),
}
MATCH_STATE_LABELS = {
    MatchState.PROPOSED: _l("proposed"), MatchState.MATCHED: _l("matched"), MatchState.FULFILLED: _l("fulfilled"),
    MatchState.DECLINED: _l("declined"), MatchState.EXPIRED: _l("expired"), MatchState.CANCELLED: _l("cancelled"),
}


def labels() -> dict:
    """Every label table, for the templates."""
    return {"aid_kind": EVENT_KIND_LABELS, "aid_severity": SEVERITY_LABELS, "aid_event_state": EVENT_STATE_LABELS,
            "aid_category": CATEGORY_LABELS, "aid_urgency": URGENCY_LABELS, "aid_audience": AUDIENCE_LABELS,
            "aid_channel": CHANNEL_LABELS, "aid_call_state": CALL_STATE_LABELS,
            "aid_delivery_state": DELIVERY_STATE_LABELS, "aid_offer_state": OFFER_STATE_LABELS,
            "aid_request_state": REQUEST_STATE_LABELS, "aid_match_state": MATCH_STATE_LABELS,
            "aid_notice": notice_text}


def category_label(value: str) -> str:
    try:
        return str(CATEGORY_LABELS[HelpCategory(value)])
    except ValueError:
        return value


def notice_text(kind: str, params: dict | None) -> str:
    """The sentence a notification says, in the current language."""
    p = params or {}
    category = category_label(p.get("category", ""))
    title = p.get("title", "")
    texts = {
        "call": lambda: _("A disaster event was declared in a region you are linked to. Open the call to see how "
                          "you can help."),
        "request_proposed": lambda: _("Your request for %(c)s was sent to a helper. We will tell you when they "
                                      "answer.", c=category),
        "request_helper_proposed": lambda: _("A helper offers to answer your request for %(c)s. Accept to see "
                                             "each other's contact details.", c=category),
        "request_matched": lambda: _("Your request for %(c)s is matched: you can now see the helper's contact "
                                     "details.", c=category),
        "request_fulfilled": lambda: _("Your request for %(c)s is marked as fulfilled. Take care.", c=category),
        "request_cancelled": lambda: _("Your request for %(c)s is withdrawn.", c=category),
        "request_match_declined": lambda: _("The proposal for your request for %(c)s was declined; your request is "
                                            "open again and other helpers can answer.", c=category),
        "request_match_expired": lambda: _("Nobody answered the proposal for your request for %(c)s in time; your "
                                           "request is open again.", c=category),
        "request_match_cancelled": lambda: _("The match for your request for %(c)s was cancelled; your request is "
                                             "open again.", c=category),
        "request_event_closed": lambda: _("The event is closed, so your request for %(c)s was closed. Contact the "
                                          "coordinator if you still need help.", c=category),
        "request_still_need_help": lambda: _("Do you still need help with %(c)s? Tell us, so that helpers know.",
                                             c=category),
        "request_hidden": lambda: _("Your request for %(c)s was hidden by a moderator.", c=category),
        "helper_requester_asked": lambda: _("Someone asks for your offer “%(t)s”. Accept to see each other's "
                                            "contact details.", t=title),
        "helper_matched": lambda: _("Your offer “%(t)s” is matched: you can now see the requester's contact "
                                    "details.", t=title),
        "helper_fulfilled": lambda: _("The help you gave with “%(t)s” is marked as received. Thank you.", t=title),
        "helper_match_declined": lambda: _("A proposal about your offer “%(t)s” was declined.", t=title),
        "helper_match_cancelled": lambda: _("A match about your offer “%(t)s” was cancelled.", t=title),
    }
    text = texts.get(kind)
    return text() if text else _("Something changed in mutual aid.")
