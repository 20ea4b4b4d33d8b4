//! The probe sub-types of KnowEdit: portability and locality kinds.

use serde::{Deserialize, Serialize};

/// A portability sub-type: does the edit carry over to related questions?
///
/// Serialised with the key the KnowEdit files use (`Reasoning`, `Subject_Aliasing`,
/// `Logical_Generalization`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PortabilityKind {
    /// Multi-hop questions whose answer follows from the new fact.
    #[serde(rename = "Reasoning")]
    Reasoning,
    /// The same question with the subject named by an alias.
    #[serde(rename = "Subject_Aliasing")]
    SubjectAliasing,
    /// Logically implied facts (e.g. inverse relations).
    #[serde(rename = "Logical_Generalization")]
    LogicalGeneralization,
}

impl PortabilityKind {
    /// All kinds, in the order reports list them.
    pub const ALL: [PortabilityKind; 3] = [
        PortabilityKind::Reasoning,
        PortabilityKind::SubjectAliasing,
        PortabilityKind::LogicalGeneralization,
    ];

    /// The key of this kind in the KnowEdit JSON files.
    pub fn key(self) -> &'static str {
        match self {
            PortabilityKind::Reasoning => "Reasoning",
            PortabilityKind::SubjectAliasing => "Subject_Aliasing",
            PortabilityKind::LogicalGeneralization => "Logical_Generalization",
        }
    }

    /// The kind whose file key is `key`, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// A locality sub-type: which unrelated (or deliberately "forgotten") knowledge must stay.
///
/// Serialised with the key the KnowEdit files use (`Relation_Specificity`, `Forgetfulness`),
/// and `neighborhood`, the key EasyEdit's editor gives the locality prompts of its flat
/// ZsRE/CounterFact files and ROME's CounterFact neighborhood prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LocalityKind {
    /// Other facts about the edited subject.
    #[serde(rename = "Relation_Specificity")]
    RelationSpecificity,
    /// "... which is not <target_new>, is" prompts answered with the old object.
    #[serde(rename = "Forgetfulness")]
    Forgetfulness,
    /// Other subjects' facts (EasyEdit's flat `locality_prompt`s: NQ questions in ZsRE,
    /// CounterFact's neighborhood prompts), answered as before the edit.
    #[serde(rename = "neighborhood")]
    Neighborhood,
}

impl LocalityKind {
    /// All kinds, in the order reports list them.
    pub const ALL: [LocalityKind; 3] = [
        LocalityKind::RelationSpecificity,
        LocalityKind::Forgetfulness,
        LocalityKind::Neighborhood,
    ];

    /// The key of this kind in the KnowEdit JSON files.
    pub fn key(self) -> &'static str {
        match self {
            LocalityKind::RelationSpecificity => "Relation_Specificity",
            LocalityKind::Forgetfulness => "Forgetfulness",
            LocalityKind::Neighborhood => "neighborhood",
        }
    }

    /// The kind whose file key is `key`, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_serde() {
        for k in PortabilityKind::ALL {
            assert_eq!(PortabilityKind::from_key(k.key()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.key())
            );
        }
        for k in LocalityKind::ALL {
            assert_eq!(LocalityKind::from_key(k.key()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.key())
            );
        }
        assert_eq!(PortabilityKind::from_key("reasoning"), None);
    }
}
