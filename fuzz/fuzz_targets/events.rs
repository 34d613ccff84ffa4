//! Arbitrary bodies through the typed parser (`tim-callback-events`): never a panic; a body is
//! accepted for a command only if it is one JSON object whose command members, if any, name
//! that command (as serde_json's `Value` reads them); TRTC `EventInfo`s alike.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tim_callback_events::trtc::TrtcEvent;
use tim_callback_events::Event;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    // First byte: which command (one past the list: an unknown one).
    let commands = Event::COMMANDS;
    let command = commands.get(usize::from(selector) % (commands.len() + 1)).copied().unwrap_or("Fuzz.CallbackUnknown");
    if let Ok(event) = Event::parse(command, body) {
        assert_eq!(event.command(), command);
        // Members the type skips are checked by their grammar only (a lone surrogate escape in a
        // skipped string passes, as in the library's TRTC reading): serde_json's `Value` may
        // refuse such a body; when it reads it, it reads the same command.
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let object = value.as_object().expect("accepted bodies are objects");
        for name in ["CallbackCommand", "WebhookCommand"] {
            if let Some(named) = object.get(name) {
                assert_eq!(named.as_str(), Some(command));
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let group = u64::from(selector % 4);
        let event_type = group * 100 + u64::from(selector % 8);
        let _ = TrtcEvent::from_parts(group, event_type, Some(text));
    }
});
