//! The parts of a HF `tokenizer_config.json` the tokenizer needs: chat template, BOS and EOS.

use serde_json::Value;

/// What `tokenizer_config.json` says (every field optional).
#[derive(Debug, Default)]
pub(crate) struct HfTokenizerConfig {
    pub chat_template: Option<String>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
}

impl HfTokenizerConfig {
    /// Parses the JSON text; `Err` is a message for `ModelError::Tokenizer`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let json: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(Self {
            chat_template: chat_template(json.get("chat_template")),
            bos_token: token_content(json.get("bos_token")),
            eos_token: token_content(json.get("eos_token")),
        })
    }
}

/// A string, or the `"default"` (else first) entry of a list of `{name, template}`.
fn chat_template(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Array(list) => {
            let named = |want: Option<&str>| {
                list.iter()
                    .find(|t| want.is_none_or(|w| t.get("name").and_then(Value::as_str) == Some(w)))
            };
            let entry = named(Some("default")).or_else(|| named(None))?;
            entry.get("template")?.as_str().map(str::to_owned)
        }
        _ => None,
    }
}

/// A token given as a string or as an added-token object `{"content": ...}`.
fn token_content(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content")?.as_str().map(str::to_owned),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_strings_objects_and_template_lists() {
        let c = HfTokenizerConfig::parse(
            r#"{"bos_token": {"content": "<s>"}, "eos_token": "</s>",
                "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}"#,
        )
        .expect("valid json");
        assert_eq!(c.bos_token.as_deref(), Some("<s>"));
        assert_eq!(c.eos_token.as_deref(), Some("</s>"));
        assert_eq!(c.chat_template.as_deref(), Some("D"));
        assert!(
            HfTokenizerConfig::parse("{}")
                .expect("valid")
                .chat_template
                .is_none()
        );
    }
}
