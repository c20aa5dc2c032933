//! Loop prevention. A value we write to the CRM comes back to us as a change event (and a
//! value we pull, applied here, would go out again as a local change); left alone, two
//! systems echo one edit between them forever. Three layers, cheapest first:
//!
//! 1. the provider's origin marker: a change the provider says our app made (HubSpot's
//!    `sourceId`, Salesforce's `changeOrigin`) is ours;
//! 2. "this is what we last wrote": a change whose value hashes to what we last pushed
//!    for that field (or, going out, to what we last pulled) is the echo of our write;
//! 3. a short echo window, for providers without an origin marker: a change to a field
//!    we wrote moments before, with a value the provider may have normalised (a phone
//!    number reformatted), is taken as ours too, and its value becomes the agreed one
//!    without a push back. Where the provider marks its changes' origin the window is
//!    not used: it would also swallow a person's edit made just after our write.
//!
//! The sync state per record keeps, per field, the hash of the last value pushed and
//! pulled and when it was pushed: [`FieldState`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long after our write a change to the same field counts as its echo.
pub const ECHO_WINDOW: Duration = Duration::from_secs(30);

/// A value's fingerprint for the sync state: SHA-256 of the trimmed value, hex, the
/// first 16 bytes. Empty and absent are the same value. Values are not kept, only this.
pub fn value_hash(value: Option<&str>) -> String {
    let value = value.map(str::trim).unwrap_or("");
    let digest = Sha256::digest(value.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The sync state of one field of one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldState {
    pub pushed_hash: Option<String>,
    pub pushed_at: Option<DateTime<Utc>>,
    pub pulled_hash: Option<String>,
    /// The value both sides held after the field's last sync, either way: what tells
    /// which side changed since ([`crate::mapping::decide`]).
    #[serde(default)]
    pub agreed_hash: Option<String>,
}

/// Which layer recognised a change as our own echo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Echo {
    OriginMarker,
    LastWritten,
    Window,
}

/// An inbound change to one field, as the provider reported it.
#[derive(Debug, Clone, Copy)]
pub struct InboundChange<'a> {
    pub value: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    /// The provider marks the change as made by our app.
    pub by_us: bool,
}

/// Whether an inbound change is our own write coming back (Some: drop it). `window`:
/// the echo window, for a provider without an origin marker (None: not used).
pub fn inbound_echo(
    change: InboundChange<'_>,
    state: &FieldState,
    window: Option<Duration>,
) -> Option<Echo> {
    if change.by_us {
        return Some(Echo::OriginMarker);
    }
    if state.pushed_hash.as_deref() == Some(value_hash(change.value).as_str()) {
        return Some(Echo::LastWritten);
    }
    let window = chrono::Duration::from_std(window?).expect("a short window");
    match state.pushed_at {
        Some(at) if change.occurred_at >= at && change.occurred_at - at <= window => {
            Some(Echo::Window)
        }
        _ => None,
    }
}

/// Whether a local change is only the application of a value we pulled (Some: do not
/// push it back).
pub fn outbound_echo(value: Option<&str>, state: &FieldState) -> Option<Echo> {
    (state.pulled_hash.as_deref() == Some(value_hash(value).as_str())).then_some(Echo::LastWritten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
            + chrono::Duration::seconds(second.into())
    }

    fn pushed(value: &str, second: u32) -> FieldState {
        FieldState {
            pushed_hash: Some(value_hash(Some(value))),
            pushed_at: Some(at(second)),
            ..FieldState::default()
        }
    }

    #[test]
    fn the_hash_ignores_surrounding_space_and_treats_empty_as_absent() {
        assert_eq!(value_hash(Some(" Ada ")), value_hash(Some("Ada")));
        assert_eq!(value_hash(None), value_hash(Some("")));
        assert_ne!(value_hash(Some("ada")), value_hash(Some("Ada")));
        assert_eq!(value_hash(Some("x")).len(), 32);
    }

    #[test]
    fn each_layer_recognises_our_own_write() {
        let state = pushed("+1 555 0100", 0);
        let change = |value, second, by_us| InboundChange {
            value: Some(value),
            occurred_at: at(second),
            by_us,
        };
        let window = Some(ECHO_WINDOW);
        assert_eq!(
            inbound_echo(change("anything", 500, true), &state, window),
            Some(Echo::OriginMarker)
        );
        assert_eq!(
            inbound_echo(change("+1 555 0100", 500, false), &state, window),
            Some(Echo::LastWritten)
        );
        // Normalised by the CRM moments after our write…
        assert_eq!(
            inbound_echo(change("+15550100", 3, false), &state, window),
            Some(Echo::Window)
        );
        // …unless the provider marks origins: then a quick edit by a person is real.
        assert_eq!(
            inbound_echo(change("+15550100", 3, false), &state, None),
            None
        );
    }

    #[test]
    fn a_real_change_after_the_window_is_not_an_echo() {
        let state = pushed("+1 555 0100", 0);
        let later = InboundChange {
            value: Some("+1 555 0199"),
            occurred_at: at(31),
            by_us: false,
        };
        assert_eq!(inbound_echo(later, &state, Some(ECHO_WINDOW)), None);
        // Nor one reported as happening before our write.
        let before = InboundChange {
            value: Some("+1 555 0199"),
            occurred_at: at(0) - chrono::Duration::seconds(5),
            by_us: false,
        };
        assert_eq!(inbound_echo(before, &state, Some(ECHO_WINDOW)), None);
        assert_eq!(
            inbound_echo(later, &FieldState::default(), Some(ECHO_WINDOW)),
            None
        );
    }

    #[test]
    fn a_pulled_value_applied_here_is_not_pushed_back() {
        let state = FieldState {
            pulled_hash: Some(value_hash(Some("Ada"))),
            ..Default::default()
        };
        assert_eq!(outbound_echo(Some("Ada"), &state), Some(Echo::LastWritten));
        assert_eq!(outbound_echo(Some("Ada L."), &state), None);
    }
}
