//! Field mapping: which local field goes to which CRM property, which way, and who wins
//! when both sides changed since the last sync. The decision per field is pure
//! ([`decide`]); the sync state supplies the hash of the value both sides last agreed on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::echo::value_hash;

/// A contact field on our side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalField {
    Email,
    FirstName,
    LastName,
    Company,
    Phone,
    Tags,
    Status,
    /// Engagement, written for CRM workflows to act on; never read back.
    LastOpenedAt,
    LastRepliedAt,
    CampaignStatus,
    /// One of the contact's custom fields, by name.
    Custom(String),
}

impl LocalField {
    /// Engagement fields are ours alone: they can only be pushed.
    pub fn push_only(&self) -> bool {
        matches!(
            self,
            LocalField::LastOpenedAt | LocalField::LastRepliedAt | LocalField::CampaignStatus
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Push,
    Pull,
    Both,
}

impl Direction {
    pub fn pushes(self) -> bool {
        matches!(self, Direction::Push | Direction::Both)
    }
    pub fn pulls(self) -> bool {
        matches!(self, Direction::Pull | Direction::Both)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictRule {
    CrmWins,
    PenguinmailsWins,
    /// The later modification wins: ours against the provider's own stamp.
    NewestWins,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMapping {
    pub local: LocalField,
    /// The CRM property's name.
    pub remote: String,
    pub direction: Direction,
    pub conflict: ConflictRule,
    /// Whether an empty value may blank a filled one on the other side. Off by default:
    /// a contact missing a phone number here should not erase the CRM's.
    #[serde(default)]
    pub empty_overwrites: bool,
}

impl FieldMapping {
    fn new(local: LocalField, remote: &str, direction: Direction) -> Self {
        Self {
            local,
            remote: remote.to_string(),
            direction,
            conflict: ConflictRule::NewestWins,
            empty_overwrites: false,
        }
    }
}

/// The mapping a new HubSpot connection starts with: HubSpot's standard contact
/// properties both ways, and ours (tags, status, engagement) as properties the
/// connection creates, prefixed so they cannot collide with the account's own.
pub fn hubspot_defaults() -> Vec<FieldMapping> {
    use Direction::*;
    use LocalField::*;
    vec![
        FieldMapping::new(Email, "email", Both),
        FieldMapping::new(FirstName, "firstname", Both),
        FieldMapping::new(LastName, "lastname", Both),
        FieldMapping::new(Company, "company", Both),
        FieldMapping::new(Phone, "phone", Both),
        FieldMapping::new(Tags, "penguinmails_tags", Push),
        FieldMapping::new(Status, "penguinmails_status", Push),
        FieldMapping::new(LastOpenedAt, "penguinmails_last_opened", Push),
        FieldMapping::new(LastRepliedAt, "penguinmails_last_replied", Push),
        FieldMapping::new(CampaignStatus, "penguinmails_campaign_status", Push),
    ]
}

/// Why a mapping was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("{0} is mapped more than once")]
    RemoteTwice(String),
    #[error("the local field {0:?} is mapped more than once")]
    LocalTwice(LocalField),
    #[error("{0:?} is engagement, written for CRM workflows: it can only be pushed")]
    PushOnly(LocalField),
    #[error("the email is how records are matched: it must be mapped")]
    NoEmail,
}

/// Checks a tenant's mapping as a whole.
pub fn validate(mappings: &[FieldMapping]) -> Result<(), MappingError> {
    let mut remotes = std::collections::BTreeSet::new();
    let mut locals = Vec::new();
    for m in mappings {
        if !remotes.insert(m.remote.to_ascii_lowercase()) {
            return Err(MappingError::RemoteTwice(m.remote.clone()));
        }
        if locals.contains(&&m.local) {
            return Err(MappingError::LocalTwice(m.local.clone()));
        }
        locals.push(&m.local);
        if m.local.push_only() && m.direction.pulls() {
            return Err(MappingError::PushOnly(m.local.clone()));
        }
    }
    if !mappings.iter().any(|m| m.local == LocalField::Email) {
        return Err(MappingError::NoEmail);
    }
    Ok(())
}

/// One side's value of a field and when that side last changed the record.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub value: Option<&'a str>,
    pub modified_at: Option<DateTime<Utc>>,
}

/// What to do with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Nothing,
    /// Write our value to the CRM.
    Push(String),
    /// Write the CRM's value here (`None`: clear it, when empty values overwrite).
    Pull(Option<String>),
}

fn is_empty(value: Option<&str>) -> bool {
    value.is_none_or(|v| v.trim().is_empty())
}

/// Decides one field. `agreed` is the hash of the value both sides held after the last
/// sync of this field (None: never synced), which tells which side changed since.
pub fn decide(
    mapping: &FieldMapping,
    local: Side<'_>,
    remote: Side<'_>,
    agreed: Option<&str>,
) -> Decision {
    let (local_hash, remote_hash) = (value_hash(local.value), value_hash(remote.value));
    if local_hash == remote_hash {
        return Decision::Nothing;
    }
    let changed = |hash: &str| agreed != Some(hash);
    let (local_changed, remote_changed) = (changed(&local_hash), changed(&remote_hash));
    let push_wins = match (local_changed, remote_changed) {
        (true, false) => true,
        (false, true) => false,
        // Both changed (or never synced): the conflict rule.
        _ => match mapping.conflict {
            ConflictRule::PenguinmailsWins => true,
            ConflictRule::CrmWins => false,
            ConflictRule::NewestWins => match (local.modified_at, remote.modified_at) {
                (Some(ours), Some(theirs)) => ours >= theirs,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                // Nothing to go by: keep what the CRM has rather than overwrite it.
                (None, None) => false,
            },
        },
    };
    let (winner, loser) = if push_wins {
        (local.value, remote.value)
    } else {
        (remote.value, local.value)
    };
    if is_empty(winner) && !is_empty(loser) && !mapping.empty_overwrites {
        if agreed.is_some() {
            // A side cleared a value both held: the other keeps it.
            return Decision::Nothing;
        }
        // Never synced: the empty side had nothing to lose, and the filled one fills it.
        return match push_wins {
            true if mapping.direction.pulls() => Decision::Pull(loser.map(str::to_string)),
            false if mapping.direction.pushes() => Decision::Push(loser.unwrap_or("").to_string()),
            _ => Decision::Nothing,
        };
    }
    match push_wins {
        true if mapping.direction.pushes() => Decision::Push(winner.unwrap_or("").to_string()),
        false if mapping.direction.pulls() => Decision::Pull(winner.map(str::to_string)),
        _ => Decision::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn field(direction: Direction, conflict: ConflictRule) -> FieldMapping {
        FieldMapping {
            conflict,
            ..FieldMapping::new(LocalField::Phone, "phone", direction)
        }
    }

    fn side(value: Option<&str>, minute: Option<u32>) -> Side<'_> {
        Side {
            value,
            modified_at: minute.map(|m| Utc.with_ymd_and_hms(2026, 12, 1, 10, m, 0).unwrap()),
        }
    }

    #[test]
    fn the_side_that_changed_since_the_last_sync_wins_whatever_the_rule() {
        let agreed = value_hash(Some("+1 555 0100"));
        for rule in [
            ConflictRule::CrmWins,
            ConflictRule::PenguinmailsWins,
            ConflictRule::NewestWins,
        ] {
            let m = field(Direction::Both, rule);
            assert_eq!(
                decide(
                    &m,
                    side(Some("+1 555 0199"), Some(1)),
                    side(Some("+1 555 0100"), Some(5)),
                    Some(&agreed)
                ),
                Decision::Push("+1 555 0199".into()),
                "{rule:?}"
            );
            assert_eq!(
                decide(
                    &m,
                    side(Some("+1 555 0100"), Some(9)),
                    side(Some("+1 555 0142"), Some(2)),
                    Some(&agreed)
                ),
                Decision::Pull(Some("+1 555 0142".into())),
                "{rule:?}"
            );
        }
    }

    #[test]
    fn a_conflict_goes_by_the_rule() {
        let agreed = value_hash(Some("old"));
        let (ours, theirs) = (side(Some("ours"), Some(3)), side(Some("theirs"), Some(7)));
        let decide_by = |rule| decide(&field(Direction::Both, rule), ours, theirs, Some(&agreed));
        assert_eq!(
            decide_by(ConflictRule::PenguinmailsWins),
            Decision::Push("ours".into())
        );
        assert_eq!(
            decide_by(ConflictRule::CrmWins),
            Decision::Pull(Some("theirs".into()))
        );
        // Theirs is newer (minute 7 against 3).
        assert_eq!(
            decide_by(ConflictRule::NewestWins),
            Decision::Pull(Some("theirs".into()))
        );
        let newer_ours = side(Some("ours"), Some(8));
        assert_eq!(
            decide(
                &field(Direction::Both, ConflictRule::NewestWins),
                newer_ours,
                theirs,
                Some(&agreed)
            ),
            Decision::Push("ours".into())
        );
    }

    #[test]
    fn equal_values_need_nothing_and_whitespace_around_a_value_is_not_a_change() {
        let m = field(Direction::Both, ConflictRule::PenguinmailsWins);
        assert_eq!(
            decide(&m, side(Some("a"), None), side(Some("a"), None), None),
            Decision::Nothing
        );
        assert_eq!(
            decide(&m, side(Some(" a "), None), side(Some("a"), None), None),
            Decision::Nothing
        );
    }

    #[test]
    fn on_a_first_sync_the_filled_side_fills_the_empty_one_whoever_is_newer() {
        let m = field(Direction::Both, ConflictRule::NewestWins);
        // Ours is newer but empty: the CRM's value comes here.
        assert_eq!(
            decide(
                &m,
                side(None, Some(9)),
                side(Some("+1 555 0100"), Some(1)),
                None
            ),
            Decision::Pull(Some("+1 555 0100".into()))
        );
        // Theirs is newer but empty: ours goes there.
        assert_eq!(
            decide(
                &m,
                side(Some("+1 555 0100"), Some(1)),
                side(Some(" "), Some(9)),
                None
            ),
            Decision::Push("+1 555 0100".into())
        );
        // A field only pushed is not filled from the CRM.
        let push_only = field(Direction::Push, ConflictRule::NewestWins);
        assert_eq!(
            decide(
                &push_only,
                side(None, Some(9)),
                side(Some("x"), Some(1)),
                None
            ),
            Decision::Nothing
        );
    }

    #[test]
    fn an_empty_value_never_blanks_a_filled_one_unless_the_mapping_says_so() {
        let agreed = value_hash(Some("+1 555 0100"));
        let m = field(Direction::Both, ConflictRule::PenguinmailsWins);
        // We cleared the phone; the CRM still has it.
        let cleared = decide(
            &m,
            side(None, Some(9)),
            side(Some("+1 555 0100"), Some(1)),
            Some(&agreed),
        );
        assert_eq!(cleared, Decision::Nothing);
        let m = FieldMapping {
            empty_overwrites: true,
            ..m
        };
        let cleared = decide(
            &m,
            side(None, Some(9)),
            side(Some("+1 555 0100"), Some(1)),
            Some(&agreed),
        );
        assert_eq!(cleared, Decision::Push(String::new()));
        // The CRM cleared it: the same rule the other way.
        let m = field(Direction::Both, ConflictRule::CrmWins);
        assert_eq!(
            decide(
                &m,
                side(Some("+1 555 0100"), None),
                side(Some(""), None),
                Some(&agreed)
            ),
            Decision::Nothing
        );
    }

    #[test]
    fn a_direction_that_does_not_allow_the_move_does_nothing() {
        let agreed = value_hash(Some("old"));
        let push_only = field(Direction::Push, ConflictRule::NewestWins);
        assert_eq!(
            decide(
                &push_only,
                side(Some("old"), None),
                side(Some("new"), None),
                Some(&agreed)
            ),
            Decision::Nothing
        );
        let pull_only = field(Direction::Pull, ConflictRule::NewestWins);
        assert_eq!(
            decide(
                &pull_only,
                side(Some("new"), None),
                side(Some("old"), None),
                Some(&agreed)
            ),
            Decision::Nothing
        );
    }

    #[test]
    fn the_hubspot_defaults_are_valid_and_bad_mappings_are_refused_with_a_reason() {
        assert_eq!(validate(&hubspot_defaults()), Ok(()));
        let mut twice = hubspot_defaults();
        twice.push(FieldMapping::new(
            LocalField::Custom("mobile".into()),
            "Phone",
            Direction::Both,
        ));
        assert_eq!(
            validate(&twice),
            Err(MappingError::RemoteTwice("Phone".into()))
        );
        let mut pulled = hubspot_defaults();
        pulled[7].direction = Direction::Both;
        assert_eq!(
            validate(&pulled),
            Err(MappingError::PushOnly(LocalField::LastOpenedAt))
        );
        let no_email: Vec<_> = hubspot_defaults().into_iter().skip(1).collect();
        assert_eq!(validate(&no_email), Err(MappingError::NoEmail));
    }
}
