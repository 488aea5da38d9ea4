"""Event rate of a count endpoint (seizures, metabolic crises) in an untreated cohort.

Each subject's events are summed over their observation windows and modelled as negative binomial
(NB2: gamma-distributed subject rates, the subject-level overdispersion) with the subject's exposure
as offset, an intercept-only model fitted by maximum likelihood with statsmodels (BFGS, then Newton
to convergence). The standard errors are those of ``MASS::glm.nb(count ~ 1 + offset(log(exposure)))``:
the Fisher information of the log rate and the observed information of theta = 1 / alpha. When the
counts show no overdispersion the dispersion is not identifiable (its estimate sits at zero) and the
Poisson model is used instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pmpath.errors import AnalysisError, UsageError
from pmpath.natural_history.tables import numeric_table

__all__ = ["RateFit", "fit_event_rate", "overdispersion_score"]


@dataclass(frozen=True)
class RateFit:
    """A fitted untreated event rate for one count endpoint (see :func:`fit_event_rate`).

    Attributes
    ----------
    endpoint : str
    rate_per_year : float
        Population event rate (events per person-year).
    rate_ci : tuple of float
        Confidence interval of the rate (Wald on the log rate; exact Poisson upper limit when there are no events).
    log_rate_se : float
        Standard error of log(rate) (negative binomial: from the Fisher information, as ``MASS::glm.nb``);
        infinite when there are no events.
    dispersion : float
        NB2 alpha: a subject followed for T years has count variance mu + alpha * mu^2 with
        mu = rate * T (the subject-level rates are gamma with squared coefficient of variation alpha).
        0 for the Poisson model.
    model : str
        ``"negative_binomial"`` or ``"poisson"``.
    n_subjects, n_events : int
    person_years : float
        Total exposure.
    dispersion_ci : tuple of float or None
        Wald interval of alpha on the log scale, with ``MASS::glm.nb``'s standard error of theta = 1 / alpha
        (negative binomial only).
    level : float
        Confidence level of the intervals.
    notes : tuple of str
        Why the Poisson model was used, when it was.
    """

    endpoint: str
    rate_per_year: float
    rate_ci: tuple[float, float]
    log_rate_se: float
    dispersion: float
    model: str
    n_subjects: int
    n_events: int
    person_years: float
    dispersion_ci: tuple[float, float] | None = None
    level: float = 0.95
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        lo, hi = self.rate_ci
        return (
            f"<RateFit {self.endpoint!r} ({self.model}): {self.rate_per_year:.4g} per year "
            f"({self.level:.0%} CI {lo:.4g}-{hi:.4g}), {self.n_events} events in {self.person_years:.4g} person-years, "
            f"{self.n_subjects} subjects>"
        )


def overdispersion_score(counts: np.ndarray, exposure: np.ndarray) -> float:
    """Score for the NB2 dispersion at alpha = 0: sum((y - mu)^2 - y) with mu the Poisson fit.

    Positive when the counts vary more than Poisson allows (Cameron & Trivedi 1990); at or below
    zero the NB2 likelihood is largest at alpha = 0, so the dispersion cannot be estimated.
    """
    mu = exposure * counts.sum() / exposure.sum()
    return float(np.sum((counts - mu) ** 2 - counts))


def _poisson(
    counts: np.ndarray, exposure: np.ndarray, z: float
) -> tuple[float, float, tuple[float, float]]:
    import statsmodels.api as sm

    with warnings.catch_warnings():
        # counts exactly proportional to exposure trigger a "perfect prediction" warning; the fit is still the MLE
        warnings.simplefilter("ignore")
        result = sm.GLM(
            counts, np.ones((len(counts), 1)), family=sm.families.Poisson(), offset=np.log(exposure)
        ).fit()
    log_rate, se = float(result.params[0]), float(result.bse[0])
    return (
        float(np.exp(log_rate)),
        se,
        (float(np.exp(log_rate - z * se)), float(np.exp(log_rate + z * se))),
    )


def _nb_standard_errors(
    counts: np.ndarray, exposure: np.ndarray, log_rate: float, alpha: float
) -> tuple[float, float]:
    """Standard errors of log(rate) and log(alpha) at the NB2 maximum, as ``MASS::glm.nb`` reports them.

    log(rate): the Fisher information of the intercept, sum(mu / (1 + alpha mu)) (the expected information
    of NB2 is block-diagonal in the mean and the dispersion, so this is also the joint one).
    log(alpha) = -log(theta): the observed information of theta = 1 / alpha at the fitted means
    (``MASS::theta.ml``), se(log theta) = se(theta) / theta.
    """
    from scipy.special import polygamma

    mu = exposure * np.exp(log_rate)
    theta = 1.0 / alpha
    info_rate = float(np.sum(mu / (1 + alpha * mu)))
    info_theta = float(
        np.sum(
            polygamma(1, theta) - polygamma(1, theta + counts) - 1 / theta + 2 / (mu + theta)
            - (counts + theta) / (mu + theta) ** 2
        )
    )  # fmt: skip
    se_rate = 1 / np.sqrt(info_rate) if info_rate > 0 else np.nan
    se_log_alpha = 1 / (theta * np.sqrt(info_theta)) if info_theta > 0 else np.nan
    return float(se_rate), float(se_log_alpha)


def fit_event_rate(data: pd.DataFrame, endpoint: str, level: float = 0.95) -> RateFit:
    """Fit the untreated event rate of one count endpoint.

    Parameters
    ----------
    data : pandas.DataFrame
        Observation windows with columns ``subject``, ``age_start``, ``age_end`` (years) and
        ``count`` (events in the window). A subject's windows are summed: the model is per subject.
    endpoint : str
        Endpoint id, carried into the result and error messages.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    RateFit

    Raises
    ------
    AnalysisError
        Missing columns, non-finite numbers, negative or fractional counts, or a window that does
        not end after it starts.

    Examples
    --------
    >>> from pmpath.natural_history import fit_event_rate
    >>> fit = fit_event_rate(cohort_events, "crises")  # doctest: +SKIP
    >>> fit.rate_per_year, fit.rate_ci, fit.model  # doctest: +SKIP
    """
    if not 0 < level < 1:
        raise UsageError(f"level must be between 0 and 1, found {level}")
    table = numeric_table(data, endpoint, ("age_start", "age_end", "count"))
    width = table["age_end"] - table["age_start"]
    if (width <= 0).any():
        i = int(np.flatnonzero(width.to_numpy() <= 0)[0])
        raise AnalysisError(
            f"endpoint {endpoint!r}: window of subject {table['subject'].iloc[i]!r} runs from age "
            f"{table['age_start'].iloc[i]:g} to {table['age_end'].iloc[i]:g}, expected age_end > age_start"
        )
    c = table["count"].to_numpy()
    if np.any(c < 0) or np.any(c != np.round(c)):
        raise AnalysisError(
            f"endpoint {endpoint!r}: found counts that are negative or not whole numbers, expected counts 0, 1, 2, ..."
        )
    per_subject = (
        table.assign(exposure=width).groupby("subject", sort=True)[["count", "exposure"]].sum()
    )
    counts = per_subject["count"].to_numpy(dtype=float)
    exposure = per_subject["exposure"].to_numpy(dtype=float)
    n_subjects, n_events, person_years = len(counts), int(counts.sum()), float(exposure.sum())
    z = float(stats.norm.ppf(0.5 + level / 2))
    common = {
        "endpoint": endpoint,
        "n_subjects": n_subjects,
        "n_events": n_events,
        "person_years": person_years,
        "level": level,
    }

    if n_events == 0:
        # Log rate is -inf; the exact (Garwood) upper limit for 0 events is chi2_{level}(2)/2 / T.
        upper = float(stats.chi2.ppf(0.5 + level / 2, 2) / 2 / person_years)
        return RateFit(
            rate_per_year=0.0, rate_ci=(0.0, upper), log_rate_se=float("inf"), dispersion=0.0, model="poisson",
            notes=("no events: rate 0 with the exact Poisson upper limit; the dispersion is not identifiable",), **common,
        )  # fmt: skip

    notes: list[str] = []
    score = overdispersion_score(counts, exposure)
    if n_subjects < 2:
        notes.append(
            "one subject: the dispersion between subjects is not identifiable; Poisson model used"
        )
    elif score <= 0:
        notes.append(
            "no overdispersion: the counts vary no more than Poisson allows, so the negative binomial dispersion "
            "is not identifiable (its estimate is 0); Poisson model used"
        )
    else:
        import statsmodels.api as sm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence is checked below
            try:
                model = sm.NegativeBinomial(
                    counts, np.ones((n_subjects, 1)), loglike_method="nb2", exposure=exposure
                )
                result = model.fit(disp=0, maxiter=200)
                # statsmodels' default BFGS stops about 1e-5 from the maximum; Newton steps finish the job
                result = model.fit(
                    start_params=result.params, method="newton", maxiter=100, tol=1e-12, disp=0
                )
                params = np.asarray(result.params, dtype=float)
                converged = bool(result.mle_retvals.get("converged", False))
            except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
                converged, params = False, np.full(2, np.nan)
                notes.append(f"negative binomial fit failed ({type(exc).__name__}: {exc})")
        alpha = params[1]
        se, alpha_se_log = (
            _nb_standard_errors(counts, exposure, params[0], alpha)
            if np.all(np.isfinite(params)) and alpha > 0
            else (np.nan, np.nan)
        )
        if converged and np.isfinite(se) and np.isfinite(alpha_se_log) and alpha > 1e-8:
            log_rate = float(params[0])
            return RateFit(
                rate_per_year=float(np.exp(log_rate)),
                rate_ci=(float(np.exp(log_rate - z * se)), float(np.exp(log_rate + z * se))),
                log_rate_se=se,
                dispersion=float(alpha),
                model="negative_binomial",
                dispersion_ci=(
                    float(alpha * np.exp(-z * alpha_se_log)),
                    float(alpha * np.exp(z * alpha_se_log)),
                ),
                **common,
            )
        notes.append(
            "the negative binomial fit did not give a usable dispersion estimate (not converged, alpha at 0 or "
            "non-finite standard errors); Poisson model used, so the interval may be too narrow"
        )
    rate, se, ci = _poisson(counts, exposure, z)
    return RateFit(
        rate_per_year=rate,
        rate_ci=ci,
        log_rate_se=se,
        dispersion=0.0,
        model="poisson",
        notes=tuple(notes),
        **common,
    )
