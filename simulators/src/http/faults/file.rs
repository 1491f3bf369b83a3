//! Named fault sets, kept in `scenarios/faults/NAME.toml`: each `[[fault]]` table is a fault
//! of the control API plus the `party` it goes on.
//!
//! ```
//! let set: simulators::http::FaultSet = r#"
//! [[fault]]
//! party = "urssaf"
//! status = 503
//! every = 2
//! "#.parse().unwrap();
//! assert_eq!(set.faults[0].0.as_str(), "urssaf");
//! assert_eq!(set.faults[0].1.every, Some(2));
//! ```

use std::path::Path;

use super::Fault;
use crate::party::PartyId;

/// Faults, each for its party.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultSet {
    /// In the file's order.
    pub faults: Vec<(PartyId, Fault)>,
}

impl FaultSet {
    /// Reads and checks a fault-set file.
    pub fn read(path: &Path) -> Result<FaultSet, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        text.parse()
            .map_err(|e: String| format!("{}: {e}", path.display()))
    }
}

impl std::str::FromStr for FaultSet {
    type Err = String;

    fn from_str(text: &str) -> Result<FaultSet, String> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let tables = match doc.get("fault") {
            Some(toml::Value::Array(a)) => a.clone(),
            _ => return Err("expected [[fault]] tables".into()),
        };
        let mut faults = Vec::new();
        for (i, t) in tables.into_iter().enumerate() {
            let toml::Value::Table(mut t) = t else {
                return Err(format!("fault {i}: not a table"));
            };
            let party = match t.remove("party") {
                Some(toml::Value::String(p)) => PartyId::configured(&p),
                _ => return Err(format!("fault {i}: \"party\" names the party it goes on")),
            };
            let fault: Fault = toml::Value::Table(t)
                .try_into()
                .map_err(|e: toml::de::Error| format!("fault {i}: {}", e.message()))?;
            fault.check().map_err(|e| format!("fault {i}: {e}"))?;
            faults.push((party, fault));
        }
        Ok(FaultSet { faults })
    }
}
