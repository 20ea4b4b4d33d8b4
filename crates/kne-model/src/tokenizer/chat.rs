//! ChatML chat templates, rendered in Rust.
//!
//! No Jinja engine: a template is recognised as ChatML by its `<|im_start|>` / `<|im_end|>`
//! markers, and the one thing that varies between ChatML templates, the system prompt injected
//! when the conversation does not start with one, is read out of the template text.

/// The default system prompt of SmolLM2's template, used when no template is available.
pub const SMOLLM2_DEFAULT_SYSTEM: &str =
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// One chat turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A ChatML template: `<|im_start|>{role}\n{content}<|im_end|>\n` per message, and
/// `<|im_start|>assistant\n` as the generation prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTemplate {
    /// Injected as the first message when the first message is not `system`.
    pub default_system: Option<String>,
}

impl ChatTemplate {
    /// SmolLM2's template (what the fixture and the GGUF carry).
    pub fn smollm2() -> Self {
        Self {
            default_system: Some(SMOLLM2_DEFAULT_SYSTEM.to_owned()),
        }
    }

    /// Recognises a ChatML Jinja template; `Err` says why it is not supported.
    pub fn parse(template: &str) -> Result<Self, String> {
        if !(template.contains("<|im_start|>") && template.contains("<|im_end|>")) {
            let excerpt: String = template.chars().take(80).collect();
            return Err(format!(
                "unsupported chat template (only ChatML, with <|im_start|>/<|im_end|> markers, is \
                 supported): {excerpt:?}..."
            ));
        }
        Ok(Self {
            default_system: injected_system_prompt(template),
        })
    }

    /// Renders `messages` as the Jinja template would.
    pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> String {
        let mut out = String::new();
        for (i, m) in messages.iter().enumerate() {
            // The template injects inside the loop (`loop.first`), so an empty conversation
            // gets no system prompt either.
            if i == 0
                && m.role != "system"
                && let Some(system) = &self.default_system
            {
                push_turn(&mut out, "system", system);
            }
            push_turn(&mut out, &m.role, &m.content);
        }
        if add_generation_prompt {
            out.push_str("<|im_start|>assistant\n");
        }
        out
    }
}

fn push_turn(out: &mut String, role: &str, content: &str) {
    out.push_str("<|im_start|>");
    out.push_str(role);
    out.push('\n');
    out.push_str(content);
    out.push_str("<|im_end|>\n");
}

/// The literal system prompt in `'<|im_start|>system\n...<|im_end|>'`, if the template has one.
/// The newline may be a real newline or a `\n` escape inside the Jinja string literal. A
/// system turn built from template expressions (quotes or braces before `<|im_end|>`) is not a
/// literal default and yields `None`.
fn injected_system_prompt(template: &str) -> Option<String> {
    const OPEN: &str = "<|im_start|>system";
    let mut rest = template;
    while let Some(at) = rest.find(OPEN) {
        rest = &rest[at + OPEN.len()..];
        let body = rest
            .strip_prefix('\n')
            .or_else(|| rest.strip_prefix("\\n"))?;
        let Some(end) = body.find("<|im_end|>") else {
            continue;
        };
        let text = &body[..end];
        if !text.contains(['\'', '"', '{', '}']) {
            return Some(text.replace("\\n", "\n"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMOL: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn smollm2_template_is_parsed() {
        assert_eq!(ChatTemplate::parse(SMOL), Ok(ChatTemplate::smollm2()));
    }

    #[test]
    fn escaped_newlines_and_no_default_system() {
        let qwen = r"{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}";
        let t = ChatTemplate::parse(qwen).expect("chatml");
        assert_eq!(
            t.default_system.as_deref(),
            Some("You are a helpful assistant.")
        );

        let bare =
            "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>'}}";
        assert_eq!(
            ChatTemplate::parse(bare).expect("chatml").default_system,
            None
        );
    }

    #[test]
    fn renders_like_the_jinja_template() {
        let t = ChatTemplate::smollm2();
        let user = [ChatMessage::new("user", "Hi")];
        assert_eq!(
            t.render(&user, true),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging \
             Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        let sys = [
            ChatMessage::new("system", "S"),
            ChatMessage::new("user", "U"),
        ];
        assert_eq!(
            t.render(&sys, false),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
        );
        assert_eq!(t.render(&[], true), "<|im_start|>assistant\n");
    }

    #[test]
    fn non_chatml_is_refused() {
        let llama2 = "{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}";
        assert!(ChatTemplate::parse(llama2).is_err());
    }
}
