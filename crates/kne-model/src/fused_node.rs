//! The autodiff node of the crate's fused operations ([`crate::gated_silu`],
//! [`crate::rms_norm`]): two float inputs, both kept for backward, and one backward call that
//! returns both gradients.

use burn::backend::Autodiff;
use burn::backend::Backend;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

/// `(a, b, ∂out) → (∂a, ∂b)`.
type PairBackward<B> = Box<
    dyn FnOnce(FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) -> (FloatTensor<B>, FloatTensor<B>)
        + Send,
>;

struct FusedPair<B: Backend> {
    name: &'static str,
    backward: PairBackward<B>,
}

impl<B: Backend> core::fmt::Debug for FusedPair<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name)
    }
}

impl<B: Backend> Backward<B, 2> for FusedPair<B> {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (a, b) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (grad_a, grad_b) = (self.backward)(a, b, grad);
        let [a_node, b_node] = ops.parents;
        if let Some(node) = a_node {
            grads.register::<B>(node.id, grad_a);
        }
        if let Some(node) = b_node {
            grads.register::<B>(node.id, grad_b);
        }
    }
}

/// `forward(a, b)` on the inner backend, recorded as one node whose backward is
/// `backward(a, b, ∂out)`; each gradient goes to its input if that input is tracked.
pub(crate) fn fused_pair<B: Backend, C: CheckpointStrategy>(
    name: &'static str,
    a: FloatTensor<Autodiff<B, C>>,
    b: FloatTensor<Autodiff<B, C>>,
    forward: impl FnOnce(FloatTensor<B>, FloatTensor<B>) -> FloatTensor<B>,
    backward: impl FnOnce(
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
    ) -> (FloatTensor<B>, FloatTensor<B>)
    + Send
    + 'static,
) -> FloatTensor<Autodiff<B, C>> {
    let node = FusedPair::<B> {
        name,
        backward: Box::new(backward),
    };
    match node
        .prepare::<C>([a.node(), b.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let state = (a.primitive().clone(), b.primitive().clone());
            prep.finish(state, forward(a.into_primitive(), b.into_primitive()))
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(a.into_primitive(), b.into_primitive())),
    }
}
