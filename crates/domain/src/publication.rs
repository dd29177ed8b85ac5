//! Where a score model stands in its publication: staged (stored, being
//! simulated or scored), active (the one in force) or retired. The rules of
//! moving between those live here; stores only record the state.

use serde::{Deserialize, Serialize};

/// Where a model stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    /// Stored, being scored for publication; not in force.
    Staged,
    /// The model in force.
    Active,
    /// Was in force before.
    Retired,
}

/// A publication step that the model's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicationError {
    #[error("model {version} is already {status}: publish it under a new version")]
    AlreadyPublished {
        version: String,
        status: &'static str,
    },
    #[error("model {0} is not staged")]
    NotStaged(String),
}

impl ModelStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Staged => "staged",
            ModelStatus::Active => "active",
            ModelStatus::Retired => "retired",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<ModelStatus> {
        match s {
            "staged" => Some(ModelStatus::Staged),
            "active" => Some(ModelStatus::Active),
            "retired" => Some(ModelStatus::Retired),
            _ => None,
        }
    }

    /// Every state.
    pub const ALL: [ModelStatus; 3] = [
        ModelStatus::Staged,
        ModelStatus::Active,
        ModelStatus::Retired,
    ];

    /// Whether records changing now must be scored under a model in this
    /// state (the one in force, and one being published).
    pub fn in_play(self) -> bool {
        matches!(self, ModelStatus::Staged | ModelStatus::Active)
    }

    /// Whether scores under a model in this state have been shown to anyone
    /// (a score history lists only those).
    pub fn published(self) -> bool {
        matches!(self, ModelStatus::Active | ModelStatus::Retired)
    }
}

/// Whether `version`, currently in `existing` (or new), may be staged. A
/// staged one is replaced (with its partial scores); a published version
/// never changes.
pub fn may_stage(version: &str, existing: Option<ModelStatus>) -> Result<(), PublicationError> {
    match existing {
        None | Some(ModelStatus::Staged) => Ok(()),
        Some(s) => Err(PublicationError::AlreadyPublished {
            version: version.to_owned(),
            status: s.as_str(),
        }),
    }
}

/// Whether `version`, currently in `existing`, may be put in force.
pub fn may_activate(version: &str, existing: Option<ModelStatus>) -> Result<(), PublicationError> {
    match existing {
        Some(ModelStatus::Staged) => Ok(()),
        _ => Err(PublicationError::NotStaged(version.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_and_activation_follow_the_lifecycle() {
        use ModelStatus as M;
        assert!(may_stage("1", None).is_ok());
        assert!(may_stage("1", Some(M::Staged)).is_ok());
        assert!(may_stage("1", Some(M::Active)).is_err());
        assert!(may_stage("1", Some(M::Retired)).is_err());
        assert!(may_activate("1", Some(M::Staged)).is_ok());
        assert!(may_activate("1", None).is_err());
        assert!(may_activate("1", Some(M::Active)).is_err());
        for s in [M::Staged, M::Active, M::Retired] {
            assert_eq!(M::parse(s.as_str()), Some(s));
        }
        assert!(M::Staged.in_play() && M::Active.in_play() && !M::Retired.in_play());
    }
}
