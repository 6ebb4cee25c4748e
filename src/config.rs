//! Configuration: one typed struct, read from a TOML file (`lifecourse.toml` in the working
//! directory, or the file named by `--config` / `LIFECOURSE_CONFIG`), every value defaulted.
//!
//! ```toml
//! [follow_up]
//! initial_assessment_days = 7    # request received, no initial assessment
//! first_meeting_days = 30        # accepted, no assessment meeting
//! plan_after_meeting_days = 14   # meeting held, no action plan
//! reassessment_months = 6        # after the last meeting, unless the plan sets a date
//! referral_outcome_days = 30     # unless the referral names its expected date
//! family_contact_days = 60       # active file without family contact
//! legal_no_news_days = 90        # legal intervention open without news
//! rights_no_news_days = 30       # rights concern open without news
//! ```

use std::path::{Path, PathBuf};

use lifecourse_projections::FollowUpRules;
use serde::{Deserialize, Serialize};

/// The file read when no other is named, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "lifecourse.toml";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub follow_up: FollowUpRules,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the configuration file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Config {
    /// Reads `path`, or `lifecourse.toml` if it exists, or takes the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        match path {
            Some(path) => Self::read(path),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Self::read(Path::new(DEFAULT_CONFIG_FILE))
            }
            None => Ok(Self::default()),
        }
    }

    fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_is_the_default() {
        let doc = include_str!("config.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//! "))
            .skip_while(|l| !l.starts_with("[follow_up]"))
            .take_while(|l| !l.starts_with("```"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(Config::parse(&doc).unwrap(), Config::default());
    }

    #[test]
    fn the_readme_example_is_the_default() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("```toml\n[follow_up]")
            .expect("README shows the file")
            + 8;
        let block = &readme[start..start + readme[start..].find("```").unwrap()];
        assert_eq!(Config::parse(block).unwrap(), Config::default());
    }

    #[test]
    fn a_partial_file_keeps_the_other_defaults() {
        let config = Config::parse("[follow_up]\nfamily_contact_days = 45\n").unwrap();
        assert_eq!(config.follow_up.family_contact_days, 45);
        assert_eq!(config.follow_up.initial_assessment_days, 7);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse("[follow_up]\nfamily_contact = 45\n").unwrap_err();
        assert!(err.contains("unknown field `family_contact`"), "{err}");
    }
}
