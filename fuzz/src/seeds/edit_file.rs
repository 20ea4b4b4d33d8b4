//! Seeds of `edit_file_json`: the committed samples of a researcher's own edit files, one
//! per layout (`datasets/samples/my_edits_*.json`, invented facts).

/// (file name, bytes) of every `edit_file_json` seed.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    [
        (
            "knowedit.json",
            &include_bytes!("../../../datasets/samples/my_edits_knowedit.json")[..],
        ),
        (
            "easyedit.json",
            &include_bytes!("../../../datasets/samples/my_edits_easyedit.json")[..],
        ),
        (
            "mend.json",
            &include_bytes!("../../../datasets/samples/my_edits_mend.json")[..],
        ),
        (
            "counterfact.json",
            &include_bytes!("../../../datasets/samples/my_edits_counterfact.json")[..],
        ),
    ]
    .into_iter()
    .map(|(name, bytes)| (name, bytes.to_vec()))
    .collect()
}
