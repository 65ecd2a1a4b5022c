//! The set of instruments a process serves: the standard ones built into the binary, plus any
//! files from a configured directory, which add instruments or override a built-in by key.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::{Instrument, InstrumentError};

/// The standard instruments, compiled into the binary so it works from any directory.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "survey-defs/skm-2017.toml",
        include_str!("../../survey-defs/skm-2017.toml"),
    ),
    (
        "survey-defs/ikm-2004.toml",
        include_str!("../../survey-defs/ikm-2004.toml"),
    ),
];

/// Validated instruments by key.
#[derive(Clone, Debug)]
pub struct Registry {
    by_key: BTreeMap<String, Arc<Instrument>>,
}

impl Registry {
    /// The built-in instruments only.
    pub fn built_in() -> Result<Registry, InstrumentError> {
        let mut registry = Registry {
            by_key: BTreeMap::new(),
        };
        for (file, text) in BUILT_IN {
            registry.insert(Instrument::from_toml(file, text)?);
        }
        Ok(registry)
    }

    /// The built-in instruments, then every `*.toml` file in `dir` (if given), each of which adds
    /// an instrument or replaces the built-in one with the same key.
    pub fn load(dir: Option<&Path>) -> Result<Registry, InstrumentError> {
        let mut registry = Registry::built_in()?;
        if let Some(dir) = dir {
            for instrument in load_dir(dir)? {
                registry.insert(instrument);
            }
        }
        Ok(registry)
    }

    fn insert(&mut self, instrument: Instrument) {
        self.by_key
            .insert(instrument.key.clone(), Arc::new(instrument));
    }

    /// The instrument with this key.
    pub fn get(&self, key: &str) -> Option<&Arc<Instrument>> {
        self.by_key.get(key)
    }

    /// All instruments, by key.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Instrument>> {
        self.by_key.values()
    }
}

/// Loads and validates every `*.toml` file in a directory, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<Instrument>, InstrumentError> {
    let unreadable = |problem: String| InstrumentError {
        file: dir.display().to_string(),
        field: "(directory)".to_owned(),
        problem,
    };
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| unreadable(e.to_string()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| InstrumentError {
                file: name.clone(),
                field: "(file)".to_owned(),
                problem: e.to_string(),
            })?;
            Instrument::from_toml(&name, &text)
        })
        .collect()
}
