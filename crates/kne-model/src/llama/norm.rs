//! The normalisation layer of a block: RMSNorm (Llama, Gemma-3) or LayerNorm with a bias
//! (GPT-J).

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, RmsNorm};
use burn::tensor::{Device, Tensor, TensorData};

use crate::rms_norm::rms_norm;

#[derive(Module, Debug)]
pub enum Norm {
    Rms(RmsNorm),
    Layer(LayerNorm),
}

impl Norm {
    /// RMSNorm with weights `gamma`.
    ///
    /// # Shapes
    /// - `gamma`: `[width]`
    pub fn rms(gamma: Vec<f32>, epsilon: f64, device: &Device) -> Self {
        let width = gamma.len();
        Self::Rms(RmsNorm {
            gamma: param(gamma, width, device),
            epsilon,
        })
    }

    /// LayerNorm with weight `gamma` and bias `beta`.
    ///
    /// # Shapes
    /// - `gamma`, `beta`: `[width]`
    pub fn layer(gamma: Vec<f32>, beta: Vec<f32>, epsilon: f64, device: &Device) -> Self {
        let width = gamma.len();
        // burn's LayerNorm keeps epsilon private: build through the config, then set weights.
        let mut norm = LayerNormConfig::new(width)
            .with_epsilon(epsilon)
            .init(device);
        norm.gamma = param(gamma, width, device);
        norm.beta = Some(param(beta, width, device));
        Self::Layer(norm)
    }

    /// # Shapes
    /// - `x`: `[..., width]` → same
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Rms(n) => rms_norm(n, x),
            Self::Layer(n) => n.forward(x),
        }
    }

    /// The scale weights.
    ///
    /// # Shapes
    /// - `[width]`
    pub fn gamma(&self) -> &Param<Tensor<1>> {
        match self {
            Self::Rms(n) => &n.gamma,
            Self::Layer(n) => &n.gamma,
        }
    }
}

fn param(values: Vec<f32>, width: usize, device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, [width]), device))
}
