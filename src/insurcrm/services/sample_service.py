"""The customer-service side of the sample portfolio: contacts, complaints, surveys and the
analysis of churn, invented deterministically from a seed (DOMAIN.md §3, §7–§9).

Used by :func:`~insurcrm.services.sample_portfolio.generate_sample` with its own random
generator, so the customers and policies of a seed are the same with or without it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

import attrs

from insurcrm.domain.churn import ChurnCause, ChurnRecord, ChurnStructure
from insurcrm.domain.complaints import Complaint, ComplaintCategory, ComplaintStep
from insurcrm.domain.customers import Customer
from insurcrm.domain.dates import add_years
from insurcrm.domain.interactions import Channel, Direction, Interaction, ObservedSignal, Purpose
from insurcrm.domain.policies import Policy
from insurcrm.domain.satisfaction import (
    Answer,
    Dimension,
    RespondentRole,
    SurveyChannel,
    SurveyResponse,
)

__all__ = ["ServiceRecords", "ServiceSampler", "survey_days"]

_MEMOS = {
    Purpose.INQUIRY: ("咨询保单现金价值", "询问理赔所需材料", "咨询附加险条款", "询问缴费方式变更"),
    Purpose.COMPLAINT: ("对理赔进度不满", "反映业务员联系不及时", "对续期扣款有疑问"),
    Purpose.REPURCHASE: ("有意为子女加保重疾险", "考虑增加意外险保额", "了解年金险产品"),
    Purpose.CARE: ("生日问候", "节日慰问", "提醒体检预约", "告知服务升级权益"),
    Purpose.SURVEY: ("满意度电话回访", "年度服务调查"),
    Purpose.REVISIT: ("上门回访了解近况", "电话回访，了解未续保原因"),
}
_COMPLAINTS = {
    ComplaintCategory.CLAIMS: "理赔材料提交后两周无人联系，客户情绪激动",
    ComplaintCategory.SERVICE: "柜面等候时间过长，工作人员态度冷淡",
    ComplaintCategory.SALES: "客户称业务员未说明犹豫期和退保损失",
    ComplaintCategory.UNDERWRITING: "核保结论迟迟未出，客户多次催问",
    ComplaintCategory.PRICE: "续保保费上涨，客户认为不合理",
    ComplaintCategory.OTHER: "短信通知内容有误",
}
_CAUSES = {
    ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY: (
        ChurnCause.CORE_SERVICE_FAILURE,
        ChurnCause.POOR_RESPONSE_TO_FAILURE,
        ChurnCause.SALES_STAFF_FAILURE,
        ChurnCause.INCONVENIENCE,
        ChurnCause.WEAK_SERVICE_AWARENESS,
    ),
    ChurnStructure.BOUGHT_OFF: (ChurnCause.PRICE, ChurnCause.NEW_TEMPTATIONS),
    ChurnStructure.PULLED_AWAY: (
        ChurnCause.COMPETITION,
        ChurnCause.AGENT_LEFT,
        ChurnCause.LACK_OF_INNOVATION,
    ),
    ChurnStructure.MIGRATED: (ChurnCause.INVOLUNTARY, ChurnCause.SHORT_TERM_BEHAVIOUR),
    ChurnStructure.INTENTIONALLY_PUSHED_AWAY: (ChurnCause.MALICIOUS_ARREARS,),
}


def survey_days(as_of: dt.date) -> tuple[tuple[str, dt.date], ...]:
    """The sample's yearly surveys (id, day): each June up to ``as_of``, 3 years back."""
    days = []
    for back in range(3, -1, -1):
        day = dt.date(as_of.year - back, 6, 15)
        if day <= as_of:
            days.append((f"SV{day.year}", day))
    return tuple(days)


@attrs.define
class ServiceRecords:
    """The service records invented for one family unit."""

    complaints: list[Complaint] = attrs.Factory(list)
    interactions: list[Interaction] = attrs.Factory(list)
    responses: list[SurveyResponse] = attrs.Factory(list)


class ServiceSampler:
    """Invents contacts, complaints and survey responses for customers and their policies."""

    def __init__(self, seed: int, as_of: dt.date) -> None:
        self.rng = random.Random(seed * 7919 + 17)
        self.as_of = as_of
        self.surveys = survey_days(as_of)

    def _day(self, first: dt.date, last: dt.date) -> dt.date:
        span = (last - first).days
        return first + dt.timedelta(days=self.rng.randint(0, max(span, 0)))

    def records(self, customers: Sequence[Customer], policies: Sequence[Policy]) -> ServiceRecords:
        """The service records of one family unit (customers and their policies)."""
        found = ServiceRecords()
        for customer in customers:
            own = [p for p in policies if p.policyholder_id == customer.id]
            self._contacts(customer, own, found)
            self._complaint(customer, own, found)
            self._surveys(customer, own, found)
        return found

    def _contacts(self, customer: Customer, own: list[Policy], found: ServiceRecords) -> None:
        rng = self.rng
        for n in range(rng.choices((0, 1, 2, 3, 4), weights=(25, 30, 25, 12, 8))[0]):
            on = self._day(customer.created_on, self.as_of)
            purpose = rng.choices(list(_MEMOS), weights=(30, 4, 12, 30, 6, 18))[0]
            signals: tuple[ObservedSignal, ...] = ()
            if rng.random() < 0.06:
                signals = (rng.choice(list(ObservedSignal)),)
            found.interactions.append(
                Interaction(
                    id=f"I{customer.id[1:]}-{n + 1}",
                    customer_id=customer.id,
                    on=on,
                    channel=rng.choices(list(Channel), weights=(15, 45, 3, 12, 10, 15))[0],
                    direction=Direction.OUTBOUND if rng.random() < 0.55 else Direction.INBOUND,
                    purpose=purpose,
                    memo=rng.choice(_MEMOS[purpose]),
                    csr_id=customer.csr_id or f"CSR{rng.randint(1, 15):03d}",
                    signals=signals,
                )
            )

    def _complaint(self, customer: Customer, own: list[Policy], found: ServiceRecords) -> None:
        rng = self.rng
        if not own or rng.random() >= 0.09:
            return
        first = max(customer.created_on, add_years(self.as_of, -3))
        received = self._day(first, self.as_of)
        promised = received + dt.timedelta(days=rng.choice((1, 3, 5, 7)))
        category = rng.choices(list(_COMPLAINTS), weights=(30, 25, 15, 10, 12, 8))[0]
        complaint = Complaint.receive(
            f"K{customer.id[1:]}",
            customer.id,
            received,
            promised,
            category,
            text=_COMPLAINTS[category],
            csr_id=customer.csr_id or f"CSR{rng.randint(1, 15):03d}",
        )
        day = received
        for step in ComplaintStep:
            day += dt.timedelta(days=rng.choices((0, 1, 2, 4, 9), weights=(40, 30, 15, 10, 5))[0])
            if day > self.as_of:
                break
            if step is ComplaintStep.COMPENSATE and rng.random() < 0.6:
                complaint = complaint.skip_compensation(day, "问题已解决，无需补偿")
            else:
                complaint = complaint.complete(step, day)
        else:
            day += dt.timedelta(days=rng.randint(0, 3))
            if day <= self.as_of:
                complaint = complaint.close(day)
        found.complaints.append(attrs.evolve(complaint, events=()))

    def _surveys(self, customer: Customer, own: list[Policy], found: ServiceRecords) -> None:
        rng = self.rng
        for survey_id, day in self.surveys:
            if customer.created_on > day or rng.random() >= 0.12:
                continue
            role = RespondentRole.POLICYHOLDER if own else RespondentRole.PROSPECT
            mood = rng.random()
            weights = (30, 45, 18, 5, 2) if mood < 0.75 else (5, 20, 35, 25, 15)
            answers = {d: rng.choices(list(Answer), weights=weights)[0] for d in Dimension}
            found.responses.append(
                SurveyResponse(
                    id=f"R{survey_id[2:]}-{customer.id[1:]}",
                    survey_id=survey_id,
                    customer_id=customer.id,
                    role=role,
                    channel=rng.choices(list(SurveyChannel), weights=(15, 50, 5, 30))[0],
                    on=min(day + dt.timedelta(days=rng.randint(0, 20)), self.as_of),
                    answers=answers,
                    expectation=rng.choice((Answer.SATISFIED, Answer.NEUTRAL, None)),
                    praises_us=rng.random() < (0.55 if mood < 0.75 else 0.15),
                    named_us=rng.random() < 0.3 if own else None,
                )
            )

    def analyse(self, record: ChurnRecord) -> ChurnRecord:
        """The churn record as staff would analyse it (about 3 in 4 are), or unchanged."""
        rng = self.rng
        if record.structure is not None or rng.random() >= 0.75:
            return record
        structure = rng.choices(
            (
                ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY,
                ChurnStructure.BOUGHT_OFF,
                ChurnStructure.PULLED_AWAY,
                ChurnStructure.MIGRATED,
                ChurnStructure.INTENTIONALLY_PUSHED_AWAY,
            ),
            weights=(30, 20, 25, 20, 5),
        )[0]
        pool = _CAUSES[structure]
        causes = rng.sample(pool, k=min(len(pool), rng.randint(1, 2)))
        return record.analysed(structure, causes, "电话回访确认流失原因")
