"""Customer future value (客户将来的价值) through a unit of work: fit the renewal model to the
portfolio's own renewal history, then value customers with it.

:func:`fit_renewal_model` fits the shifted-beta-geometric model by maximum likelihood
with scipy (over log α and log β, from α = β = 1, L-BFGS-B). When every contract renews
alike the fit runs off to α, β → ∞ (the sBG's limit is one constant rate); the model is
then that one rate, estimated from the same history. It falls back to the configured
flat retention rate when the history is too short (fewer than ``min_renewal_years``
renewal years or ``min_contracts`` contracts), shows no loss or no renewal at all, or
the fit fails, and the model's ``reason`` says which.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

from insurcrm.domain.future_value import (
    FutureValue,
    FutureValueConfig,
    RenewalHistory,
    RenewalModel,
    RenewalModelKind,
    customer_future_value,
    flat_model,
    renewal_history,
    renewal_history_by_holder,
    sbg_log_likelihood,
    sbg_model,
)
from insurcrm.domain.policies import Policy
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.services.progress import Progress, reported

__all__ = [
    "fit_renewal_model",
    "future_value_of",
    "portfolio_renewal_model",
    "read_renewal_model",
    "renewal_model_of",
]

#: Bounds of log α and log β in the fit (α, β between about 0.0001 and 22,000).
_LOG_BOUND = 10.0


def fit_renewal_model(
    history: RenewalHistory, config: FutureValueConfig | None = None
) -> RenewalModel:
    """The sBG model fitted to ``history``, or the flat fallback saying why.

    Args:
        history: lost and renewing contract counts (:func:`renewal_history`).
        config: the minimum history to fit and the fallback rate.
    """
    cfg = config or FutureValueConfig()
    years, contracts = history.renewal_years, history.contracts
    if years < cfg.min_renewal_years:
        return flat_model(
            cfg, f"only {years} renewal years of history, {cfg.min_renewal_years} needed to fit"
        )
    if contracts < cfg.min_contracts:
        return flat_model(
            cfg, f"only {contracts} contracts in the history, {cfg.min_contracts} needed to fit"
        )
    if not sum(history.lost) or not sum(history.renewing[1:]):
        return flat_model(cfg, "the history shows no lost or no renewing contract: no fit")
    from scipy.optimize import minimize  # imported here: scipy is slow to import

    def objective(x: Sequence[float]) -> float:
        return -sbg_log_likelihood(math.exp(x[0]), math.exp(x[1]), history)

    result = minimize(
        objective,
        [0.0, 0.0],
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 2,
    )
    alpha, beta = (float(math.exp(v)) for v in result.x)
    if not math.isfinite(result.fun):
        return flat_model(cfg, "the sBG fit did not converge")
    if any(abs(v) >= _LOG_BOUND - 1e-6 for v in result.x):
        return _constant_rate(history, contracts, years)
    reason = (
        f"sBG fitted to {contracts:,} contracts over {years} renewal years: "
        f"α = {alpha:.3f}, β = {beta:.3f}, first-year retention "
        f"{(1 - alpha / (alpha + beta)) * 100:.1f} %"
    )
    return sbg_model(alpha, beta, reason)


def _constant_rate(history: RenewalHistory, contracts: int, years: int) -> RenewalModel:
    """The limit the sBG fit runs to when every contract renews alike (α and β without
    bound): one retention rate, the share of renewals due that were made."""
    due = sum(t * n for t, n in enumerate(history.lost, start=1)) + sum(
        n * k for n, k in enumerate(history.renewing)
    )
    rate = (Decimal(1) - Decimal(sum(history.lost)) / due).quantize(Decimal("0.0001"))
    return RenewalModel(
        RenewalModelKind.FLAT_RETENTION,
        retention=rate,
        reason=(
            f"fitted to {contracts:,} contracts over {years} renewal years: they renew alike "
            f"(the sBG fit tends to one rate), so one retention rate {rate * 100:.2f} % a year"
        ),
    )


def renewal_model_of(
    policies: Iterable[Policy], as_of: dt.date, config: FutureValueConfig | None = None
) -> RenewalModel:
    """The renewal model fitted to the renewal history of ``policies`` as of ``as_of``."""
    return fit_renewal_model(renewal_history(policies, as_of), config)


def portfolio_renewal_model(
    uow: UnitOfWork, as_of: dt.date, config: FutureValueConfig | None = None
) -> RenewalModel:
    """Fit the renewal model to every policy of ours stored, as of ``as_of``.

    Reads only; walks the policies once, a batch of policyholders at a time
    (:meth:`~insurcrm.domain.repositories.PolicyRepository.iterate_by_holder`), so the
    book is never held whole.
    """
    with uow:
        return read_renewal_model(uow, as_of, config)


def read_renewal_model(
    uow: UnitOfWork,
    as_of: dt.date,
    config: FutureValueConfig | None = None,
    *,
    progress: Progress | None = None,
) -> RenewalModel:
    """:func:`portfolio_renewal_model` inside ``with uow:`` (the caller's transaction);
    ``progress``, if given, is called with the policies read so far and all of them, once
    a policyholder's are read."""
    holdings = (policies for _, policies in uow.policies.iterate_by_holder())
    read = reported(holdings, uow.policies.count, progress)
    return fit_renewal_model(renewal_history_by_holder(read, as_of), config)


def future_value_of(
    uow: UnitOfWork,
    customer_id: str,
    as_of: dt.date,
    model: RenewalModel,
    config: FutureValueConfig | None = None,
) -> FutureValue:
    """The future value of one customer's policies in force on ``as_of``."""
    with uow:
        policies = uow.policies.of_customer(customer_id)
    return customer_future_value(customer_id, policies, as_of, model, config)
