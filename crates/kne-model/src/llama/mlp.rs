//! SwiGLU feed-forward block: `down(silu(gate(x)) ⊙ up(x))`.

use burn::module::Module;
use burn::tensor::Tensor;
use burn::tensor::activation::silu;

use crate::interventions::{Captures, Interventions};
use crate::site_linear::SiteLinear;
use crate::{ModuleKind, Site};

#[derive(Module, Debug)]
pub struct Mlp {
    pub gate: SiteLinear,
    pub up: SiteLinear,
    pub down: SiteLinear,
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
        let gate = proj(&self.gate, ModuleKind::Gate, x.clone());
        let up = proj(&self.up, ModuleKind::Up, x);
        proj(&self.down, ModuleKind::Down, silu(gate) * up)
    }
}
