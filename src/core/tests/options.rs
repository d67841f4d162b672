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
        (RawOptions { queueing: OptionValue::Str("yes".into()), ..raw() }, "queueing", "boolean"),
        (RawOptions { development: OptionValue::Other("number".into()), ..raw() }, "development", "number"),
        (RawOptions { coordinator_url: OptionValue::Str("ftp://x".into()), ..raw() }, "coordinatorUrl", "URL"),
        (RawOptions { validate_messages: OptionValue::Str("on".into()), ..raw() }, "validateMessages", "boolean"),
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
