use crate::core::*;

fn raw() -> RawOptions {
    RawOptions {
        model_name: OptionValue::Str("echo".into()),
        insecure_api_key: OptionValue::Str("k".into()),
        queueing: OptionValue::Missing,
        coordinator_url: OptionValue::Missing,
        development: OptionValue::Missing,
        local: OptionValue::Missing,
        validate_messages: OptionValue::Missing,
        reconnect: OptionValue::Missing,
    }
}

#[test]
fn defaults() {
    let o = Options::parse(raw()).unwrap();
    assert_eq!(o.model_name, "echo");
    assert!(!o.queueing && !o.development && !o.local && !o.validate_messages);
    assert_eq!(o.coordinator_url, DEFAULT_COORDINATOR_URL);
}

#[test]
fn trailing_slash_is_dropped() {
    let o = Options::parse(RawOptions { coordinator_url: OptionValue::Str("http://h:1//".into()), ..raw() }).unwrap();
    assert_eq!(o.coordinator_url, "http://h:1");
}

fn urls(list: &[&str]) -> OptionValue {
    OptionValue::List(list.iter().map(|u| OptionValue::Str(u.to_string())).collect())
}

#[test]
fn a_url_list_is_the_first_then_the_fallbacks() {
    let o = Options::parse(RawOptions { coordinator_url: urls(&["http://a:1/", "https://b:2"]), ..raw() }).unwrap();
    assert_eq!(o.coordinator_url, "http://a:1");
    assert_eq!(o.fallback_urls, vec!["https://b:2".to_string()]);
    let one = Options::parse(RawOptions { coordinator_url: urls(&["http://a:1"]), ..raw() }).unwrap();
    assert!(one.fallback_urls.is_empty());
}

#[test]
fn each_bad_option_is_named() {
    let cases = [
        (RawOptions { model_name: OptionValue::Missing, ..raw() }, "modelName", "required"),
        (RawOptions { model_name: OptionValue::Str("  ".into()), ..raw() }, "modelName", "empty"),
        (RawOptions { model_name: OptionValue::Other("number".into()), ..raw() }, "modelName", "number"),
        (RawOptions { insecure_api_key: OptionValue::Missing, ..raw() }, "insecureApiKey", "required"),
        (RawOptions { insecure_api_key: OptionValue::Str(String::new()), ..raw() }, "insecureApiKey", "empty"),
        (RawOptions { insecure_api_key: OptionValue::Str("\t\u{3000}".into()), ..raw() }, "insecureApiKey", "empty"),
        (RawOptions { insecure_api_key: OptionValue::Bool(true), ..raw() }, "insecureApiKey", "boolean"),
        (RawOptions { insecure_api_key: OptionValue::Str("k\r\nX: y".into()), ..raw() }, "insecureApiKey", "header"),
        (RawOptions { insecure_api_key: OptionValue::Str("clé€".into()), ..raw() }, "insecureApiKey", "Latin-1"),
        (RawOptions { queueing: OptionValue::Str("yes".into()), ..raw() }, "queueing", "boolean"),
        (RawOptions { development: OptionValue::Other("number".into()), ..raw() }, "development", "number"),
        (RawOptions { coordinator_url: OptionValue::Str("ftp://x".into()), ..raw() }, "coordinatorUrl", "URL"),
        (RawOptions { validate_messages: OptionValue::Str("on".into()), ..raw() }, "validateMessages", "boolean"),
        (RawOptions { coordinator_url: urls(&[]), ..raw() }, "coordinatorUrl", "empty array"),
        (RawOptions { coordinator_url: urls(&["http://a:1", "ws://b"]), ..raw() }, "coordinatorUrl", "\"ws://b\""),
        (
            RawOptions { coordinator_url: OptionValue::List(vec![OptionValue::Missing]), ..raw() },
            "coordinatorUrl",
            "required",
        ),
        (
            RawOptions {
                coordinator_url: urls(&["http://a:1", "http://b:1"]),
                local: OptionValue::Bool(true),
                ..raw()
            },
            "coordinatorUrl",
            "one URL in local mode",
        ),
        (RawOptions { reconnect: OptionValue::Number(3.0), ..raw() }, "reconnect", "got number"),
        (RawOptions { reconnect: delays(&[0.0, -1.0]), ..raw() }, "reconnect", "delay 1 must be between 0 and 60000"),
        (RawOptions { reconnect: delays(&[f64::NAN]), ..raw() }, "reconnect", "delay 0"),
        (RawOptions { reconnect: delays(&[1e9]), ..raw() }, "reconnect", "60000"),
        (RawOptions { reconnect: delays(&[0.0; 33]), ..raw() }, "reconnect", "at most 32"),
        (
            RawOptions { reconnect: OptionValue::List(vec![OptionValue::Str("1".into())]), ..raw() },
            "reconnect",
            "delay 0 must be a number, got string",
        ),
    ];
    for (options, name, says) in cases {
        let err = Options::parse(options).unwrap_err();
        assert_eq!(err.option, name);
        assert!(err.message.contains(name) && err.message.contains(says), "{}", err.message);
    }
}

#[test]
fn local_mode_needs_no_key() {
    let o =
        Options::parse(RawOptions { local: OptionValue::Bool(true), insecure_api_key: OptionValue::Missing, ..raw() });
    assert_eq!(o.unwrap().api_key, "");
}

fn delays(ms: &[f64]) -> OptionValue {
    OptionValue::List(ms.iter().map(|&n| OptionValue::Number(n)).collect())
}

#[test]
fn reconnect_policy() {
    let parse = |reconnect| Options::parse(RawOptions { reconnect, ..raw() }).unwrap().reconnect;
    assert_eq!(parse(OptionValue::Missing), DEFAULT_RECONNECT_DELAYS_MS);
    assert_eq!(parse(OptionValue::Bool(true)), DEFAULT_RECONNECT_DELAYS_MS);
    assert!(parse(OptionValue::Bool(false)).is_empty());
    assert_eq!(parse(delays(&[0.0, 250.4, 60_000.0])), [0, 250, 60_000]);
    assert!(parse(delays(&[])).is_empty());
}
