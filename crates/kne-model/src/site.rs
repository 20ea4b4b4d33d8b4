//! Naming of the addressable linear layers: `Site { layer, module }`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The linear layers of one decoder block that attribution and editing can address.
///
/// Llama family: `q, k, v, o` (attention projections) and `gate, up, down` (SwiGLU MLP).
/// GPT-J's `out_proj`, `fc_in`, `fc_out` are `O`, `Up`, `Down`; it has no `Gate`
/// ([`crate::LlamaConfig::modules`] lists what an architecture has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModuleKind {
    Q,
    K,
    V,
    O,
    Gate,
    Up,
    Down,
}

impl ModuleKind {
    /// Every module kind, in block order.
    pub const ALL: [ModuleKind; 7] = [
        ModuleKind::Q,
        ModuleKind::K,
        ModuleKind::V,
        ModuleKind::O,
        ModuleKind::Gate,
        ModuleKind::Up,
        ModuleKind::Down,
    ];

    /// Short lowercase name used in configs, CLIs and file names.
    pub fn name(self) -> &'static str {
        match self {
            ModuleKind::Q => "q",
            ModuleKind::K => "k",
            ModuleKind::V => "v",
            ModuleKind::O => "o",
            ModuleKind::Gate => "gate",
            ModuleKind::Up => "up",
            ModuleKind::Down => "down",
        }
    }
}

impl fmt::Display for ModuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModuleKind {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModuleKind::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                ModelError::UnknownSite(format!(
                    "module `{s}` (expected one of q, k, v, o, gate, up, down)"
                ))
            })
    }
}

/// One addressable linear layer: a module kind in one decoder layer (0-based).
///
/// Serialised as its name, `"14.down"`, so it can key JSON maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    pub layer: usize,
    pub module: ModuleKind,
}

impl Site {
    pub fn new(layer: usize, module: ModuleKind) -> Self {
        Self { layer, module }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.layer, self.module)
    }
}

impl FromStr for Site {
    type Err = ModelError;

    /// Parses `"14.down"` (layer, dot, module).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (layer, module) = s.split_once('.').ok_or_else(|| {
            ModelError::UnknownSite(format!("`{s}` (expected LAYER.MODULE, e.g. 14.down)"))
        })?;
        let layer = layer.parse().map_err(|_| {
            ModelError::UnknownSite(format!("`{s}`: layer `{layer}` is not a number"))
        })?;
        let module = module.parse().map_err(|e: ModelError| match e {
            ModelError::UnknownSite(why) => ModelError::UnknownSite(format!("`{s}`: {why}")),
            other => other,
        })?;
        Ok(Site::new(layer, module))
    }
}

impl Serialize for Site {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Site {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_round_trips_through_its_name() {
        for module in ModuleKind::ALL {
            let site = Site::new(7, module);
            assert_eq!(site.to_string().parse::<Site>().unwrap(), site);
        }
    }

    #[test]
    fn site_serialises_as_its_name() {
        let site = Site::new(14, ModuleKind::Down);
        assert_eq!(serde_json::to_string(&site).unwrap(), "\"14.down\"");
        let back: Site = serde_json::from_str("\"14.down\"").unwrap();
        assert_eq!(back, site);
        assert!(serde_json::from_str::<Site>("\"14.mlp\"").is_err());
    }

    #[test]
    fn bad_site_names_are_errors_naming_the_input() {
        let err = "3.mlp".parse::<Site>().unwrap_err().to_string();
        assert!(err.contains("`3.mlp`: module `mlp`"), "{err}");
        let err = "x.q".parse::<Site>().unwrap_err().to_string();
        assert!(err.contains("x.q"), "{err}");
        assert!("down".parse::<Site>().is_err());
    }
}
