//! The commands table in the docs (COMMANDS.md) lists every typed command once, and nothing
//! else; the registry has no command twice; every command reads a body of its own.

use std::collections::HashSet;

use tim_callback_events::Event;

const TABLE: &str = include_str!("../COMMANDS.md");

fn rows() -> Vec<&'static str> {
    TABLE
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`'))
        .map(|(command, _)| command)
        .filter(|command| command.contains('.'))
        .collect()
}

#[test]
fn the_table_lists_every_command_of_the_registry_once() {
    let rows = rows();
    let unique: HashSet<&str> = rows.iter().copied().collect();
    assert_eq!(unique.len(), rows.len(), "a command is listed twice");
    let registry: HashSet<&str> = Event::COMMANDS.iter().copied().collect();
    assert_eq!(
        registry.len(),
        Event::COMMANDS.len(),
        "a command is registered twice"
    );
    assert_eq!(unique, registry);
    // The README's count.
    assert!(Event::COMMANDS.len() >= 60, "{}", Event::COMMANDS.len());
    let readme = include_str!("../README.md");
    assert!(
        readme.contains(&format!("{} webhook commands", Event::COMMANDS.len())),
        "the README's count is stale"
    );
}

#[test]
fn every_command_parses_a_body_into_its_own_variant() {
    for command in Event::COMMANDS {
        let body = format!(r#"{{"CallbackCommand":"{command}","SomeNewField":[1]}}"#);
        let event =
            Event::parse(command, body.as_bytes()).unwrap_or_else(|e| panic!("{command}: {e}"));
        assert_eq!(event.command(), *command);
        assert!(!matches!(event, Event::Unknown { .. }), "{command}");
        // Under the other name too, and never as another command.
        let other = format!(r#"{{"WebhookCommand":"{command}"}}"#);
        assert!(Event::parse(command, other.as_bytes()).is_ok(), "{command}");
        let wrong = r#"{"CallbackCommand":"Not.TheCommand"}"#;
        assert_eq!(
            Event::parse(command, wrong.as_bytes()).unwrap_err().kind(),
            tim_callback_events::ErrorKind::CommandConflict
        );
    }
}
