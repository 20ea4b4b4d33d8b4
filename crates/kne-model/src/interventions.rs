//! The one hook through which attribution, editing and the baselines reach inside the model.
//!
//! A forward pass takes an optional [`Interventions`]; for each [`Site`] it names, the site's
//! linear layer can
//! (a) scale its output per batch row (integrated gradients: for `y = W x`, scaling `W` by α
//!     is scaling `y` by α, so m Riemann steps are m batch rows of one forward),
//! (b) expose its output to autodiff (a zero "probe" leaf is added to the output, so the
//!     gradient of the loss with respect to the output can be read after `backward` while the
//!     gradient still flows to the layers below), and
//! (c) add a delta to its weight (`Ŵ = W + ΔW`; the delta may itself be tracked by autodiff),
//!     dense, or (d) as a [`NeuronDelta`] that is non-zero on a few neurons only (KNE's
//!     update): applied as `x ΔW` through the n changed neurons, never as a dense matrix.

use std::collections::BTreeMap;

use burn::tensor::{Int, Tensor};

use crate::Site;

/// Which units of a `[d_in, d_out]` weight a [`NeuronDelta`] changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaUnits {
    /// Output units: columns of the `[d_in, d_out]` weight (rows of PyTorch's `W`).
    Outputs,
    /// Input units: rows of the `[d_in, d_out]` weight (columns of PyTorch's `W`).
    Inputs,
}

/// A weight delta that is zero except on `n` neurons: the result equals adding the dense
/// `ΔW` to the weight, at the cost of an `n`-wide product instead of a full-size matrix
/// (KNE edits touch ~1 % of the neurons of each site, so the dense path spent most of an
/// edit step building, adding and differentiating zeros).
#[derive(Debug, Clone)]
pub struct NeuronDelta {
    pub units: DeltaUnits,
    /// The changed neurons, distinct.
    ///
    /// # Shapes
    /// - `[n]`
    pub indices: Tensor<1, Int>,
    /// The changed values: for `Outputs`, column `k` is added to weight column
    /// `indices[k]`; for `Inputs`, row `k` is added to weight row `indices[k]`.
    ///
    /// # Shapes
    /// - `Outputs`: `[d_in, n]`; `Inputs`: `[n, d_out]`
    pub values: Tensor<2>,
}

/// What to do at one site.
#[derive(Debug, Clone, Default)]
pub struct SiteHook {
    /// Multiplies the output of batch row `b` by `scale[b]`; a layer's bias (GPT-J) is added
    /// after the scale, so this is scaling the weight.
    ///
    /// # Shapes
    /// - `[batch]`
    pub output_scale: Option<Tensor<1>>,
    /// Expose the (scaled) output to autodiff; see [`Captured`].
    pub capture: bool,
    /// Added to the weight before the product.
    ///
    /// # Shapes
    /// - `[d_in, d_out]`, the layout of [`crate::SiteLinear::weight`].
    pub weight_delta: Option<Tensor<2>>,
    /// A delta on a few neurons, added like `weight_delta` (both may be set).
    pub neuron_delta: Option<NeuronDelta>,
}

/// Per-site hooks for one forward pass. Sites not named run unchanged.
#[derive(Debug, Clone, Default)]
pub struct Interventions {
    hooks: BTreeMap<Site, SiteHook>,
}

impl Interventions {
    pub fn new() -> Self {
        Self::default()
    }

    /// The hook of `site`, created empty if absent.
    pub fn site(&mut self, site: Site) -> &mut SiteHook {
        self.hooks.entry(site).or_default()
    }

    /// Scale `site`'s output per batch row.
    pub fn scale_output(mut self, site: Site, scale: Tensor<1>) -> Self {
        self.site(site).output_scale = Some(scale);
        self
    }

    /// Expose `site`'s output to autodiff.
    pub fn capture(mut self, site: Site) -> Self {
        self.site(site).capture = true;
        self
    }

    /// Add `delta` (`[d_in, d_out]`) to `site`'s weight.
    pub fn add_weight_delta(mut self, site: Site, delta: Tensor<2>) -> Self {
        self.site(site).weight_delta = Some(delta);
        self
    }

    /// Add a delta that is non-zero on a few neurons only to `site`'s weight.
    pub fn add_neuron_delta(mut self, site: Site, delta: NeuronDelta) -> Self {
        self.site(site).neuron_delta = Some(delta);
        self
    }

    pub fn get(&self, site: &Site) -> Option<&SiteHook> {
        self.hooks.get(site)
    }

    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.hooks.keys()
    }

    /// The lowest layer any hook touches (where a forward must start tracking).
    pub fn lowest_layer(&self) -> Option<usize> {
        self.hooks.keys().map(|s| s.layer).min()
    }

    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }
}

/// A site's output exposed by [`SiteHook::capture`].
#[derive(Debug, Clone)]
pub struct Captured {
    /// The site's input (detached from the graph).
    ///
    /// # Shapes
    /// - `[batch, seq, d_in]`
    pub input: Tensor<3>,
    /// The site's output before the per-row scale, bias included (as the PyTorch module
    /// returns it; detached from the graph).
    ///
    /// # Shapes
    /// - `[batch, seq, d_out]`
    pub output: Tensor<3>,
    /// The zero leaf added after scaling: `probe.grad(&grads)` is ∂loss/∂(scaled output).
    /// `None` on a device without autodiff.
    ///
    /// # Shapes
    /// - `[batch, seq, d_out]`
    pub probe: Option<Tensor<3>>,
}

/// Everything captured during one forward pass, by site.
pub type Captures = BTreeMap<Site, Captured>;
