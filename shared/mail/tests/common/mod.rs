//! Shared by the integration tests: one realistic campaign message.

use std::collections::BTreeMap;

use pm_mail::{Address, OutgoingMessage};

pub fn campaign_message() -> OutgoingMessage {
    OutgoingMessage {
        message_id: "0192f3a4.7c1e@mail.penguinmails.test".into(),
        from: Address::named("Pingu at PenguinMails", "news@penguinmails.test"),
        to: vec![Address::named("Ada Lovelace", "ada@example.com")],
        cc: vec![Address::new("cc@example.com")],
        bcc: vec![Address::new("audit@example.com")],
        reply_to: Some(Address::new("replies@penguinmails.test")),
        subject: "Our winter update ❄".into(),
        html: Some("<p>Hello <b>Ada</b>, snow is falling.</p>".into()),
        text: Some("Hello Ada, snow is falling.".into()),
        headers: vec![("X-Campaign-Id".into(), "cmp_7".into())],
        unsubscribe_url: "https://t.penguinmails.test/u/tok123".into(),
        unsubscribe_mailto: Some("unsubscribe+tok123@penguinmails.test".into()),
        tags: vec![
            "winter".into(),
            "newsletter".into(),
            "eu".into(),
            "extra".into(),
        ],
        metadata: BTreeMap::from([
            ("campaign_id".into(), "cmp_7".into()),
            ("contact_id".into(), "ct_9".into()),
        ]),
    }
}
