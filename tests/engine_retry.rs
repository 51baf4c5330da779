//! Retry arithmetic as properties: `IntervalSeconds x BackoffRate^k`,
//! capped by `MaxDelaySeconds`, FULL jitter within `[0, interval]`.

use proptest::prelude::*;
use std::time::Duration;
use stepfn::definition::{JitterStrategy, Retrier};
use stepfn::retry::{delay, interval, MAX_RETRY_DELAY};
use stepfn::ErrorName;

fn retrier(
    interval_seconds: u64,
    backoff_rate: f64,
    max_delay: Option<u64>,
    jitter: bool,
) -> Retrier {
    Retrier {
        error_equals: vec![ErrorName::All],
        interval_seconds,
        max_attempts: 3,
        backoff_rate,
        max_delay_seconds: max_delay,
        jitter_strategy: if jitter {
            JitterStrategy::Full
        } else {
            JitterStrategy::None
        },
        comment: None,
    }
}

proptest! {
    #[test]
    fn interval_is_base_times_rate_to_the_attempt(base in 1u64..100, rate in 1.0f64..4.0, k in 0u64..8) {
        let got = interval(&retrier(base, rate, None, false), k).as_secs_f64();
        let want = base as f64 * rate.powi(k as i32);
        prop_assert!((got - want).abs() <= want * 1e-9 + 1e-9, "{got} vs {want}");
    }

    #[test]
    fn intervals_never_shrink(base in 1u64..100, rate in 1.0f64..4.0, k in 0u64..20) {
        let r = retrier(base, rate, None, false);
        prop_assert!(interval(&r, k + 1) >= interval(&r, k));
    }

    #[test]
    fn max_delay_caps_every_interval(base in 1u64..100, rate in 1.0f64..10.0, cap in 1u64..1000, k in 0u64..64) {
        prop_assert!(interval(&retrier(base, rate, Some(cap), false), k) <= Duration::from_secs(cap));
    }

    #[test]
    fn huge_backoff_saturates_instead_of_overflowing(k in 0u64..100_000) {
        prop_assert!(interval(&retrier(99_999_999, 10.0, None, false), k) <= MAX_RETRY_DELAY);
    }

    #[test]
    fn full_jitter_stays_within_the_interval(base in 1u64..100, rate in 1.0f64..3.0, k in 0u64..6, random in 0.0f64..1.0) {
        let r = retrier(base, rate, None, true);
        let d = delay(&r, k, random);
        prop_assert!(d <= interval(&r, k));
    }

    #[test]
    fn without_jitter_the_random_source_is_ignored(base in 1u64..100, k in 0u64..6, random in 0.0f64..1.0) {
        let r = retrier(base, 2.0, None, false);
        prop_assert_eq!(delay(&r, k, random), interval(&r, k));
    }
}
