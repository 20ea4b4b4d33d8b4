//! Seeds of `patch_loader`: patches written by `WeightDelta::save` for sites of the tiny
//! model (see [`crate::tiny`]), one for a site it does not have, and an empty one.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use kne_attr::NeuronAxis;
use kne_edit::{SiteDelta, WeightDelta};
use kne_model::{ModuleKind, Site};

use crate::tiny;

/// Writes every `patch_loader` seed into `dir`.
pub fn write(dir: &Path) -> io::Result<()> {
    let meta = |method: &str| {
        BTreeMap::from([
            ("method".to_owned(), method.to_owned()),
            ("model_sha256".to_owned(), "00".repeat(32)),
        ])
    };
    let neurons = |axis, indices: Vec<u32>, neuron_len: usize, seed| SiteDelta::Neurons {
        axis,
        values: tiny::values(seed, indices.len() * neuron_len),
        indices,
        neuron_len,
    };
    // Tiny model, burn layout [d_in, d_out]: q [8, 8], k [8, 4], down [12, 8].
    let sparse = WeightDelta {
        sites: BTreeMap::from([
            (
                Site::new(0, ModuleKind::Q),
                neurons(NeuronAxis::Out, vec![1, 5], 8, 1),
            ),
            (
                Site::new(1, ModuleKind::Down),
                neurons(NeuronAxis::In, vec![0, 11], 8, 2),
            ),
        ]),
    };
    let dense = WeightDelta {
        sites: BTreeMap::from([(
            Site::new(0, ModuleKind::K),
            SiteDelta::Dense {
                d_in: 8,
                d_out: 4,
                values: tiny::values(3, 32),
            },
        )]),
    };
    let elsewhere = WeightDelta {
        sites: BTreeMap::from([(
            Site::new(7, ModuleKind::Up),
            neurons(NeuronAxis::Out, vec![3], 8, 4),
        )]),
    };
    for (name, delta, method) in [
        ("neurons.safetensors", sparse, "kne"),
        ("dense.safetensors", dense, "rome"),
        ("site_outside_model.safetensors", elsewhere, "kne"),
        ("empty.safetensors", WeightDelta::default(), "ft"),
    ] {
        delta
            .save(&dir.join(name), &meta(method))
            .map_err(io::Error::other)?;
    }
    Ok(())
}
