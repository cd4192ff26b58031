"""The interaction log (客户接触记录, DOMAIN.md §9): every call, visit or message.

An :class:`Interaction` records the date, channel, direction (inbound, or outbound =
proactive 主动联系), purpose, a memo and the representative (CSR) who handled it. A
representative who notices a sign of dissatisfaction (DOMAIN.md §7.2) that no figure
shows — the customer praising a competitor, a new business strategy, a change of
ownership, the relationship going downhill — records it in ``signals``; the early
warning counts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from insurcrm.domain.fields import a_date, an_id, an_optional_id, enum_tuple, optional_text
from insurcrm.domain.labels import LabelledEnum
from insurcrm.domain.privacy import mask_text
from insurcrm.errors import ValidationError

__all__ = [
    "CONVERSATION_CHANNELS",
    "Channel",
    "Direction",
    "Interaction",
    "ObservedSignal",
    "Purpose",
    "two_way_contacts",
]


class Channel(LabelledEnum):
    """How the contact happened (接触渠道)."""

    VISIT = ("VISIT", "拜访")
    PHONE = ("PHONE", "电话")
    MAIL = ("MAIL", "信函")
    COUNTER = ("COUNTER", "柜面")
    ONLINE = ("ONLINE", "网上")
    WECHAT = ("WECHAT", "微信")


class Direction(LabelledEnum):
    """Who started the contact."""

    INBOUND = ("INBOUND", "客户来访/来电")
    OUTBOUND = ("OUTBOUND", "主动联系")


class Purpose(LabelledEnum):
    """What the contact was for."""

    INQUIRY = ("INQUIRY", "咨询")
    COMPLAINT = ("COMPLAINT", "投诉")
    REPURCHASE = ("REPURCHASE", "再次购买")
    CARE = ("CARE", "关怀")
    SURVEY = ("SURVEY", "调查")
    REVISIT = ("REVISIT", "回访")


#: The channels on which a contact we start is a conversation: the customer answers there
#: and then. A letter, an online message or a WeChat message we send may go unanswered, so
#: it is not a two-way contact until the customer's answer is logged (as an inbound contact).
CONVERSATION_CHANNELS = frozenset({Channel.VISIT, Channel.PHONE, Channel.COUNTER})


class ObservedSignal(LabelledEnum):
    """Signs of dissatisfaction a representative noticed in a contact (§7.2)."""

    PRAISES_COMPETITOR = ("PRAISES_COMPETITOR", "明确竞争对手的优点")
    RELATIONSHIP_DECLINING = ("RELATIONSHIP_DECLINING", "销售关系走下坡路")
    NEW_BUSINESS_STRATEGY = ("NEW_BUSINESS_STRATEGY", "新的经营策略")
    OWNERSHIP_CHANGE = ("OWNERSHIP_CHANGE", "转换所有权")


def _signals(items: Iterable[ObservedSignal]) -> tuple[ObservedSignal, ...]:
    return enum_tuple(ObservedSignal, "signals", items)


@attrs.frozen
class Interaction:
    """One logged contact with a customer.

    Attributes:
        id: the interaction id.
        customer_id: the customer contacted.
        on: the day of the contact.
        channel: visit, phone, mail, counter, online or WeChat.
        direction: inbound, or outbound (proactive).
        purpose: inquiry, complaint, repurchase, care, survey or revisit.
        memo: what was said (personal data: masked in ``repr``, erased with the customer).
        csr_id: the representative who handled it.
        signals: signs of dissatisfaction noticed (§7.2).
        erased: the memo was erased with the customer (§10.4).
        version: 0 until first stored; bumped by every save.
    """

    id: str = attrs.field(validator=an_id)
    customer_id: str = attrs.field(validator=an_id)
    on: dt.date = attrs.field(validator=a_date)
    channel: Channel = attrs.field(validator=attrs.validators.instance_of(Channel))
    direction: Direction = attrs.field(validator=attrs.validators.instance_of(Direction))
    purpose: Purpose = attrs.field(validator=attrs.validators.instance_of(Purpose))
    memo: str | None = attrs.field(default=None, validator=optional_text, repr=mask_text)
    csr_id: str | None = attrs.field(default=None, validator=an_optional_id)
    signals: tuple[ObservedSignal, ...] = attrs.field(default=(), converter=_signals)
    erased: bool = False
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if self.erased and self.memo is not None:
            raise ValidationError("memo", "erased", "an erased interaction keeps no memo")

    @property
    def proactive(self) -> bool:
        """True for an outbound contact (主动联系)."""
        return self.direction is Direction.OUTBOUND

    @property
    def two_way(self) -> bool:
        """True for a two-way contact (§4.2 PROSPECT): one the customer took part in. Every
        inbound contact is; an outbound one is when held on a
        :data:`CONVERSATION_CHANNELS` channel (a visit, a call, at the counter)."""
        return self.direction is Direction.INBOUND or self.channel in CONVERSATION_CHANNELS

    def erase(self) -> Interaction:
        """The interaction without its memo (erasure, §10.4); date, channel, purpose and
        signals stay, so contact counts do not change."""
        return attrs.evolve(self, memo=None, erased=True)


def two_way_contacts(interactions: Iterable[Interaction], as_of: dt.date) -> int:
    """How many of ``interactions`` are two-way contacts (:attr:`Interaction.two_way`) on or
    before ``as_of``: what the loyalty ladder's PROSPECT rung counts (§4.2)."""
    return sum(1 for i in interactions if i.on <= as_of and i.two_way)
