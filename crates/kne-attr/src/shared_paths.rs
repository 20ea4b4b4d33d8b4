//! Sites of one layer whose integrated-gradient paths are one function, so one forward serves
//! both.
//!
//! Eq. 5's path for a site scales its output by α. For some pairs of sites the two scalings
//! give the same network from the later site on, in exact arithmetic:
//! - **`v` → `o`** ([`Link::Downstream`]): `o` is linear, and the hook scales its output
//!   before any bias, so scaling `v`'s bias-free output by α scales `o`'s input and output by
//!   α: the `v` path *is* the `o` path after `o`. `∂P/∂o` read in the `v` path's forward is
//!   the `o` integrand at the same α; `o`'s own activations there are α times the unscaled
//!   ones.
//! - **`up` → `down`** in a gated MLP (Llama, Gemma-3): `act(gate) ⊙ (α up) = α (act(gate) ⊙
//!   up)`, the same argument. Not GPT-J, whose `up` (`fc_in`) feeds a GELU.
//! - **`q` ↔ `k`** ([`Link::Bilinear`]) without q/k norms (not Gemma-3) or biases: RoPE is
//!   linear, so the scores `(αq)·k = q·(αk)` and everything after them agree; `k`'s own
//!   activations are unscaled in the `q` path, and the gradient at `k` is `∂s/∂k = αq`
//!   against the `k` path's `q`: α times the `k` integrand.
//!
//! A Llama layer's seven sites then need four paths (q, v, gate, up) instead of seven: ≈ 4/7
//! of the block work of attribution (issue 17). The partner's scores equal the separate path's
//! up to float rounding (`W(αx)` against `α(Wx)`), which `tests/gradient_check.rs` bounds.

use kne_model::{Llama, ModuleKind, Site};

use crate::AttrError;

/// How a partner site's integrand is read from its primary's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The partner lies after the primary: its gradient is the integrand as it is, and its
    /// activations at path point α are α times its unscaled ones.
    Downstream,
    /// `q`/`k`: the partner's activations are unscaled, and its gradient at path point α is
    /// α times the integrand.
    Bilinear,
}

/// One forward's path: the site whose output is scaled, and the sites read along with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedPath {
    pub primary: Site,
    pub partners: Vec<(Site, Link)>,
}

/// The paths that attribute `sites` (all of one `layer`), in site order: pairs that share a
/// path when `share` is set and the layer's structure allows it, every other site alone.
pub fn layer_paths(
    model: &Llama,
    layer: usize,
    sites: &[Site],
    share: bool,
) -> Result<Vec<SharedPath>, AttrError> {
    let pairs = if share {
        equivalent_pairs(model, layer)?
    } else {
        Vec::new()
    };
    let has = |module| sites.contains(&Site::new(layer, module));
    let partner_of = |primary: ModuleKind| {
        pairs
            .iter()
            .filter(|&&(p, q, _)| p == primary && has(q))
            .map(|&(_, q, link)| (Site::new(layer, q), link))
            .collect::<Vec<_>>()
    };
    let is_partner = |module: ModuleKind| pairs.iter().any(|&(p, q, _)| q == module && has(p));
    let mut sorted = sites.to_vec();
    sorted.sort();
    sorted.dedup();
    Ok(sorted
        .into_iter()
        .filter(|site| !is_partner(site.module))
        .map(|primary| SharedPath {
            primary,
            partners: partner_of(primary.module),
        })
        .collect())
}

/// `(primary, partner, link)` of every pair of `layer` whose paths coincide (module doc).
fn equivalent_pairs(
    model: &Llama,
    layer: usize,
) -> Result<Vec<(ModuleKind, ModuleKind, Link)>, AttrError> {
    let block = model.layers.get(layer).ok_or_else(|| {
        AttrError::Config(format!(
            "layer {layer} does not exist (the model has {} layers)",
            model.layers.len()
        ))
    })?;
    let (attn, mlp) = (&block.attn, &block.mlp);
    let mut pairs = Vec::new();
    let unnormed = attn.q_norm.is_none() && attn.k_norm.is_none();
    if unnormed && attn.q.bias.is_none() && attn.k.bias.is_none() {
        pairs.push((ModuleKind::Q, ModuleKind::K, Link::Bilinear));
    }
    if attn.v.bias.is_none() {
        pairs.push((ModuleKind::V, ModuleKind::O, Link::Downstream));
    }
    if mlp.gate.is_some() && mlp.up.bias.is_none() {
        pairs.push((ModuleKind::Up, ModuleKind::Down, Link::Downstream));
    }
    Ok(pairs)
}
