//! The order scenarios start in: as written (feature files sorted by path, scenarios top to
//! bottom), or shuffled with a seed, so a suite can show its verdicts do not depend on order.
//!
//! ```
//! use conformance::order::Order;
//! assert_eq!("random:7".parse::<Order>(), Ok(Order::Random(7)));
//! assert_eq!("written".parse::<Order>(), Ok(Order::Written));
//! assert!("sideways".parse::<Order>().is_err());
//! ```

use std::path::Path;

use cucumber::gherkin;
use cucumber::parser::{self, Parser};
use futures::stream;
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;

/// How the runner orders scenarios.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    Written,
    /// Features, rules and scenarios shuffled with this seed (printed, to replay a run).
    Random(u64),
}

impl std::str::FromStr for Order {
    type Err = String;
    fn from_str(s: &str) -> Result<Order, String> {
        match s {
            "written" => Ok(Order::Written),
            // A seed of its own, printed with the run so the order can be replayed.
            "random" => Ok(Order::Random(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64 % 1_000_000)
                    .unwrap_or(1),
            )),
            other => other
                .strip_prefix("random:")
                .and_then(|n| n.parse().ok())
                .map(Order::Random)
                .ok_or_else(|| {
                    format!("order {other:?}: expected \"written\", \"random\" or \"random:SEED\"")
                }),
        }
    }
}

impl std::fmt::Display for Order {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Order::Written => f.write_str("written"),
            Order::Random(seed) => write!(f, "random:{seed}"),
        }
    }
}

/// cucumber's own parser, then the order asked for.
pub struct Ordered(pub Order);

type Parsed = parser::Result<gherkin::Feature>;

impl<I: AsRef<Path>> Parser<I> for Ordered {
    type Cli = parser::basic::Cli;
    type Output = stream::Iter<std::vec::IntoIter<Parsed>>;

    fn parse(self, input: I, cli: Self::Cli) -> Self::Output {
        let mut features: Vec<Parsed> = parser::Basic::new()
            .parse(input, cli)
            .into_inner()
            .collect();
        if let Order::Random(seed) = self.0 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            features.shuffle(&mut rng);
            for feature in features.iter_mut().flatten() {
                feature.scenarios.shuffle(&mut rng);
                feature.rules.shuffle(&mut rng);
                for rule in &mut feature.rules {
                    rule.scenarios.shuffle(&mut rng);
                }
            }
        }
        stream::iter(features)
    }
}
