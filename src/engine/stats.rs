//! Statistics an honest reader needs beside the index, each naming its method.
//!
//! These are estimates, not regulation numbers, so they use `f64` and statrs; they are still
//! computed from the tally's exact integer sums, so no row is ever read twice.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::exact::{Q, q_to_f64, qi};
use super::tally::Tally;

/// Mean and variance of respondents' own converted scores (mean of the items each answered,
/// times the conversion factor).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreMoments {
    /// Respondents.
    pub n: u64,
    /// Mean score.
    pub mean: f64,
    /// Sample variance (n − 1 in the denominator).
    pub variance: f64,
}

/// The moments of respondents' own scores, from the tally's integer sums.
pub fn score_moments(tally: &Tally, conversion: i64) -> Option<ScoreMoments> {
    let n = tally.respondents;
    if n == 0 {
        return None;
    }
    let c = qi(conversion);
    let mut sum = qi(0);
    let mut sum_sq = qi(0);
    for (index, group) in tally.by_answered.iter().enumerate() {
        let k = qi(i64::try_from(index + 1).expect("few items"));
        sum += &c * Q::from_integer(group.sum.into()) / &k;
        sum_sq += &c * &c * Q::from_integer(group.sum_sq.into()) / (&k * &k);
    }
    let n_q = Q::from_integer(n.into());
    let mean = &sum / &n_q;
    let variance = if n > 1 {
        q_to_f64(&((&sum_sq - &sum * &sum / &n_q) / (n_q - qi(1))))
    } else {
        0.0
    };
    Some(ScoreMoments {
        n,
        mean: q_to_f64(&mean),
        variance: variance.max(0.0),
    })
}

/// The two-sided Student t quantile for a confidence level and degrees of freedom.
///
/// Beyond 10.000 degrees of freedom the t and normal quantiles agree to four decimals, and
/// statrs' t inverse becomes slow, so the normal quantile is used there.
pub fn t_quantile(level: f64, df: f64) -> f64 {
    let p = 0.5 + level / 2.0;
    if df > 10_000.0 {
        return Normal::standard().inverse_cdf(p);
    }
    StudentsT::new(0.0, 1.0, df)
        .expect("positive degrees of freedom")
        .inverse_cdf(p)
}

/// A confidence interval of the converted IKM.
#[derive(Debug, Clone, Serialize)]
pub struct ConfidenceInterval {
    /// How it was computed.
    pub method: &'static str,
    /// Confidence level.
    pub level: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Half the width.
    pub half_width: f64,
    /// Standard deviation of respondents' own converted scores.
    pub sd: f64,
}

/// Method text of [`confidence_interval`].
pub const CI_METHOD: &str = "t interval: IKM ± t(0,975; n−1) · s / √n, s = standard deviation of each respondent's own converted score (mean of the items answered × 25)";

/// The t interval around `center` with the spread of respondents' own scores, scaled by the
/// mode's total weight (1 in `exact`), and clipped to the scale's range.
pub fn confidence_interval(
    moments: &ScoreMoments,
    center: f64,
    weight_total: f64,
    bounds: (f64, f64),
) -> Option<ConfidenceInterval> {
    if moments.n < 2 {
        return None;
    }
    let sd = moments.variance.sqrt() * weight_total;
    let half_width = half_width(sd, moments.n);
    Some(ConfidenceInterval {
        method: CI_METHOD,
        level: 0.95,
        lower: (center - half_width).max(bounds.0),
        upper: (center + half_width).min(bounds.1),
        half_width,
        sd,
    })
}

fn half_width(sd: f64, n: u64) -> f64 {
    let n = n as f64;
    t_quantile(0.95, n - 1.0) * sd / n.sqrt()
}

/// How many respondents in all would make the 95% half-width smaller than `distance`, never
/// more than the `population` served when it is known (the finite population correction:
/// n = n₀ · N / (n₀ + N − 1), the same step Krejcie and Morgan's table takes); `None` when no
/// realistic number would (the IKM sits on a boundary, or it would take more than a billion).
pub fn respondents_needed(
    sd: f64,
    distance: f64,
    current: u64,
    population: Option<u64>,
) -> Option<u64> {
    const LIMIT: f64 = 1e9;
    if distance <= 0.0 || !distance.is_finite() || !sd.is_finite() {
        return None;
    }
    // Solve n = (t(n − 1) · sd / distance)², starting from the normal quantile; t only shrinks
    // towards it as n grows, so a few fixed-point steps upward settle it.
    let mut n = (1.959_963_984_540_054 * sd / distance)
        .powi(2)
        .ceil()
        .max(2.0);
    for _ in 0..64 {
        if n > LIMIT {
            return None;
        }
        let next = (t_quantile(0.95, n - 1.0) * sd / distance).powi(2).ceil();
        if next <= n {
            break;
        }
        n = next;
    }
    if let Some(population) = population.filter(|p| *p > 0) {
        let big_n = population as f64;
        n = (n * big_n / (n + big_n - 1.0)).ceil().min(big_n);
    }
    Some((n as u64).max(current))
}

/// Cronbach's alpha and the corrected item-total correlations over complete responses.
#[derive(Debug, Clone, Serialize)]
pub struct Reliability {
    /// How alpha was computed.
    pub method: &'static str,
    /// Complete responses used.
    pub complete_responses: u64,
    /// Cronbach's alpha; `None` when the totals do not vary.
    pub alpha: Option<f64>,
}

/// Corrected item-total correlation of one item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemValidity {
    /// Item code.
    pub code: String,
    /// Pearson correlation of the item with the sum of the other items; `None` if undefined.
    pub r: Option<f64>,
    /// Whether `r` exceeds the critical value.
    pub valid: bool,
}

/// Item validity for the whole instrument.
#[derive(Debug, Clone, Serialize)]
pub struct Validity {
    /// How it was computed.
    pub method: &'static str,
    /// Complete responses used.
    pub complete_responses: u64,
    /// Critical r at the 5% level (two-sided) for n − 2 degrees of freedom.
    pub critical_r: f64,
    /// Per item.
    pub items: Vec<ItemValidity>,
}

/// `n Σxᵢxⱼ − Σxᵢ Σxⱼ`, which is (n (n − 1)) times the sample covariance of items i and j.
fn scaled_covariances(tally: &Tally) -> Vec<i128> {
    let c = &tally.complete;
    let k = tally.items();
    let n = i128::from(c.n);
    let mut cov = vec![0i128; k * k];
    for i in 0..k {
        for j in 0..k {
            cov[i * k + j] = n * c.cross[i * k + j] - c.sum[i] * c.sum[j];
        }
    }
    cov
}

/// Cronbach's alpha, α = k/(k−1) · (1 − Σ var(item) / var(total)), over complete responses.
pub fn reliability(tally: &Tally) -> Option<Reliability> {
    let k = tally.items();
    if tally.complete.n < 2 || k < 2 {
        return None;
    }
    let cov = scaled_covariances(tally);
    let item_var: i128 = (0..k).map(|i| cov[i * k + i]).sum();
    let total_var: i128 = cov.iter().sum();
    let alpha = (total_var > 0).then(|| {
        let k = i64::try_from(k).expect("few items");
        let ratio = Q::new(item_var.into(), total_var.into());
        q_to_f64(&(Q::new(k.into(), (k - 1).into()) * (qi(1) - ratio)))
    });
    Some(Reliability {
        method: "Cronbach's alpha over complete responses",
        complete_responses: tally.complete.n,
        alpha,
    })
}

/// The critical Pearson r at the 5% level, two-sided, for `n` observations.
pub fn critical_r(n: u64) -> Option<f64> {
    if n < 3 {
        return None;
    }
    let df = (n - 2) as f64;
    let t = t_quantile(0.95, df);
    Some(t / (df + t * t).sqrt())
}

/// Corrected item-total correlation per item, valid when above the critical r.
pub fn validity(tally: &Tally, codes: &[String]) -> Option<Validity> {
    let k = tally.items();
    let critical = critical_r(tally.complete.n)?;
    if k < 2 {
        return None;
    }
    let cov = scaled_covariances(tally);
    let total: i128 = cov.iter().sum();
    let items = (0..k)
        .map(|i| {
            let var_i = cov[i * k + i];
            let with_total: i128 = (0..k).map(|j| cov[i * k + j]).sum();
            let with_rest = with_total - var_i;
            let var_rest = total - 2 * with_total + var_i;
            let r = (var_i > 0 && var_rest > 0)
                .then(|| with_rest as f64 / ((var_i as f64) * (var_rest as f64)).sqrt());
            ItemValidity {
                code: codes[i].clone(),
                r,
                valid: r.is_some_and(|r| r > critical),
            }
        })
        .collect();
    Some(Validity {
        method: "corrected item-total correlation (Pearson r of the item with the sum of the other items) over complete responses; valid when r exceeds the critical r at 5%, two-sided, df = n − 2",
        complete_responses: tally.complete.n,
        critical_r: critical,
        items,
    })
}

/// Welch's two-sample t test on respondents' own converted scores.
#[derive(Debug, Clone, Serialize)]
pub struct Welch {
    /// How it was computed.
    pub method: &'static str,
    /// Mean of the first set minus the mean of the second.
    pub difference: f64,
    /// The t statistic.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p value.
    pub p: f64,
    /// Whether p < 0.05.
    pub significant: bool,
}

/// Whether two sets of responses differ, by Welch's t test; `None` with fewer than two
/// respondents on either side or no variance at all.
pub fn welch(a: &ScoreMoments, b: &ScoreMoments) -> Option<Welch> {
    if a.n < 2 || b.n < 2 {
        return None;
    }
    let (na, nb) = (a.n as f64, b.n as f64);
    let (va, vb) = (a.variance / na, b.variance / nb);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return None;
    }
    let t = (a.mean - b.mean) / se2.sqrt();
    let df = se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).expect("positive df");
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    Some(Welch {
        method: "Welch's t test on respondents' own converted scores, two-sided, 5% level",
        difference: a.mean - b.mean,
        t,
        df,
        p,
        significant: p < 0.05,
    })
}
