//! Teacher-forced negative log-likelihood of target tokens, the loss KNE (and the
//! fine-tuning baselines) minimise.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};
use kne_model::{Captures, Interventions, Llama};

use crate::{EditError, TokenizedRequest, require_requests};

/// A right-padded batch of `prompt ++ target` rows (without the last target token, which no
/// prediction reads: [`TokenizedRequest::predicting_ids`]) and where their target tokens are
/// read.
///
/// Right padding is exact here: attention is causal, so pad tokens never reach the
/// positions whose logits are read.
#[derive(Debug, Clone)]
pub struct TargetBatch {
    /// # Shapes
    /// - `[batch, seq]`
    pub ids: Tensor<2, Int>,
    /// Flat positions `b · seq + t` whose logits predict a target token.
    ///
    /// # Shapes
    /// - `[n_targets]`
    pub positions: Tensor<1, Int>,
    /// # Shapes
    /// - `[n_targets, 1]`
    pub targets: Tensor<2, Int>,
    /// `1 / (batch · target_len_b)`: the loss is the mean over requests of each request's
    /// mean token NLL.
    ///
    /// # Shapes
    /// - `[n_targets]`
    pub weights: Tensor<1>,
}

impl TargetBatch {
    pub fn new(model: &Llama, requests: &[TokenizedRequest]) -> Result<Self, EditError> {
        require_requests(requests)?;
        let rows_ids: Vec<Vec<u32>> = requests.iter().map(|r| r.predicting_ids()).collect();
        let seq = rows_ids.iter().map(Vec::len).max().unwrap_or(0);
        let batch = requests.len();
        let (mut rows, mut positions, mut targets, mut weights) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (b, (r, mut row)) in requests.iter().zip(rows_ids).enumerate() {
            row.resize(seq, 0);
            rows.push(row);
            let p = r.prompt_ids.len();
            for (j, &t) in r.target_ids.iter().enumerate() {
                positions.push((b * seq + p - 1 + j) as i64);
                targets.push(t as i64);
                weights.push(1.0 / (batch * r.target_ids.len()) as f32);
            }
        }
        let device = model.device();
        let n = positions.len();
        Ok(Self {
            ids: model.ids_tensor(&rows)?,
            positions: Tensor::from_data(TensorData::new(positions, [n]), &device),
            targets: Tensor::from_data(TensorData::new(targets, [n, 1]), &device),
            weights: Tensor::from_data(TensorData::new(weights, [n]), &device),
        })
    }

    /// Hidden states entering layer `layer` (no hooks below it), to reuse across steps.
    ///
    /// # Shapes
    /// - → `[batch, seq, hidden]`
    pub fn hidden_at(&self, model: &Llama, layer: usize) -> Tensor<3> {
        let hidden = model.embed(self.ids.clone());
        model.forward_blocks(hidden, 0..layer, None, None, &mut Captures::new())
    }

    /// The loss, running the blocks from `layer` on `hidden` (from [`Self::hidden_at`]).
    ///
    /// # Shapes
    /// - `hidden`: `[batch, seq, hidden]` → `[1]`
    pub fn nll_from(
        &self,
        model: &Llama,
        hidden: Tensor<3>,
        layer: usize,
        hooks: Option<&Interventions>,
    ) -> Tensor<1> {
        let top = model.forward_blocks(
            hidden,
            layer..model.layers.len(),
            None,
            hooks,
            &mut Captures::new(),
        );
        let [batch, seq, d] = top.dims();
        let n = self.weights.dims()[0];
        // The LM head only at the positions read: it is a fifth of the model's FLOPs per row.
        let picked = top
            .reshape([batch * seq, d])
            .select(0, self.positions.clone());
        let logits = model.head(picked.reshape([1, n, d]));
        let [_, _, vocab] = logits.dims();
        let logp = log_softmax(logits.reshape([n, vocab]), 1).gather(1, self.targets.clone());
        (logp.reshape([n]) * self.weights.clone()).sum().neg()
    }

    /// The loss of the whole forward.
    pub fn nll(&self, model: &Llama, hooks: Option<&Interventions>) -> Tensor<1> {
        self.nll_from(model, model.embed(self.ids.clone()), 0, hooks)
    }
}
