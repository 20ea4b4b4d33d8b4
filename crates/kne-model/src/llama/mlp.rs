//! Feed-forward block: gated, `down(act(gate(x)) ⊙ up(x))`, SwiGLU (Llama: `act = silu`) or
//! GeGLU (Gemma-3: `act` = GELU, tanh approximation); or ungated, `down(act(up(x)))` (GPT-J:
//! `fc_out(gelu_new(fc_in(x)))`, with biases).

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::{gelu_approximate, silu};

use crate::gated_silu::gated_silu;
use crate::interventions::{Captures, Interventions};
use crate::site_linear::SiteLinear;
use crate::{ModuleKind, Site};

/// The gate's activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// SiLU (Llama's SwiGLU).
    #[default]
    Silu,
    /// GELU with the tanh approximation (HF `gelu_pytorch_tanh`, Gemma's GeGLU; HF
    /// `gelu_new`, GPT-J's, is the same formula).
    GeluTanh,
}

impl Activation {
    /// # Shapes
    /// - `x`: any → same
    pub fn apply(self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Silu => silu(x),
            Self::GeluTanh => gelu_approximate(x),
        }
    }

    /// `act(gate) ⊙ up`; SwiGLU's runs as one fused operation ([`gated_silu`]).
    ///
    /// # Shapes
    /// - `gate`, `up`: the same shape → that shape
    pub fn gated(self, gate: Tensor<3>, up: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Silu => gated_silu(gate, up),
            Self::GeluTanh => gelu_approximate(gate) * up,
        }
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    /// `None` for GPT-J's ungated MLP.
    pub gate: Option<SiteLinear>,
    pub up: SiteLinear,
    pub down: SiteLinear,
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    /// # Shapes
    /// - `x`: `[batch, seq, hidden]` → `[batch, seq, hidden]`
    pub fn forward(
        &self,
        x: Tensor<3>,
        layer: usize,
        hooks: Option<&Interventions>,
        captures: &mut Captures,
    ) -> Tensor<3> {
        let mut proj = |lin: &SiteLinear, module, x: Tensor<3>| {
            let site = Site::new(layer, module);
            lin.forward_hooked(x, site, hooks.and_then(|i| i.get(&site)), captures)
        };
        let hidden = match &self.gate {
            Some(gate) => {
                let gate = proj(gate, ModuleKind::Gate, x.clone());
                let up = proj(&self.up, ModuleKind::Up, x);
                self.activation.gated(gate, up)
            }
            None => self.activation.apply(proj(&self.up, ModuleKind::Up, x)),
        };
        proj(&self.down, ModuleKind::Down, hidden)
    }
}
