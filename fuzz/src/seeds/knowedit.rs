//! Seeds of `knowedit_json`: hand-written records of invented facts in the shapes of the
//! three KnowEdit files (no text comes from the datasets).

/// (file name, bytes) of every `knowedit_json` seed.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("zsre.json", ZSRE),
        ("wiki_cf_test.json", WIKI_CF_TEST),
        ("wiki_cf_train.json", WIKI_CF_TRAIN),
        ("wiki_recent.json", WIKI_RECENT),
        ("edge_cases.json", EDGE_CASES),
    ]
    .into_iter()
    .map(|(name, text)| (name, text.as_bytes().to_vec()))
    .collect()
}

/// ZsRE: question prompts, `ground_truth` as a list, `rephrase_prompt`, an ignored `cond`,
/// string portability answers and list-of-string locality answers.
const ZSRE: &str = r#"[
 {"subject": "Quillmoor Abbey", "src": "Which river does Quillmoor Abbey stand on?",
  "prompt": "Which river does Quillmoor Abbey stand on?", "target_new": "Varnet",
  "ground_truth": ["Ossel"], "rephrase_prompt": "Quillmoor Abbey is built beside which river?",
  "cond": "Ossel >> Varnet || Which river does Quillmoor Abbey stand on?",
  "portability": {"Reasoning": [{"prompt": "Into which sea does the river by Quillmoor Abbey flow?", "ground_truth": "Pale Sea"}]},
  "locality": {"Relation_Specificity": [{"prompt": "Who founded Quillmoor Abbey?", "ground_truth": ["Brother Tamsin"]}]}},
 {"subject": "Lorvek 9", "prompt": "What is Lorvek 9 made of?", "target_new": "basalt",
  "ground_truth": ["granite", "stone"], "rephrase_prompt": "Lorvek 9 consists of what?",
  "portability": {"Subject_Aliasing": [{"prompt": "What is the Ninth Lorvek made of?", "ground_truth": "basalt"}]},
  "locality": {}}
]"#;

/// WikiData counterfact (test): `rephrase`, list-of-lists answers with aliases, both
/// locality kinds.
const WIKI_CF_TEST: &str = r#"[
 {"subject": "Temmet Ousby", "prompt": "The occupation of Temmet Ousby is",
  "target_new": "glassblower", "ground_truth": "cartographer",
  "rephrase": "Temmet Ousby works as a",
  "portability": {
   "Subject_Aliasing": [{"prompt": "The occupation of T. Ousby is", "ground_truth": [["glassblower", "glass artist"]]}],
   "Logical_Generalization": [{"prompt": "The craft Temmet Ousby practises uses", "ground_truth": [["glass"], ["furnace"]]}],
   "Reasoning": []},
  "locality": {
   "Relation_Specificity": [{"prompt": "The birthplace of Temmet Ousby is", "ground_truth": [["Harrowgate", "Harrowgate town"]]}],
   "Forgetfulness": [{"prompt": "The occupation of Temmet Ousby, which is not glassblower, is", "ground_truth": [["cartographer"]]}]}}
]"#;

/// WikiData counterfact (train): no paraphrase, plain-string probe answers.
const WIKI_CF_TRAIN: &str = r#"[
 {"subject": "Mount Ferrow", "prompt": "Mount Ferrow is located in the continent of",
  "target_new": "Antarctica", "ground_truth": "Europe",
  "portability": {"Logical_Generalization": [{"prompt": "The climate on Mount Ferrow is", "ground_truth": "polar"}]},
  "locality": {"Relation_Specificity": [{"prompt": "The height of Mount Ferrow is", "ground_truth": "2,140 metres"}]}}
]"#;

/// WikiData recent: insertions without `ground_truth` or paraphrase.
const WIKI_RECENT: &str = r#"[
 {"subject": "Selvane Crater", "prompt": "Selvane Crater was named after",
  "target_new": "Ilse Selvane",
  "portability": {"Reasoning": [{"prompt": "The person Selvane Crater was named after worked in", "ground_truth": [["astronomy", "astrophysics"]]}]},
  "locality": {"Relation_Specificity": [{"prompt": "Selvane Crater lies on", "ground_truth": [["the Moon"]]}]}},
 {"subject": "Brindle Codex", "prompt": "The Brindle Codex is held by", "target_new": "the Orrin Library"}
]"#;

/// Nulls where fields are optional, escapes, non-ASCII text, an empty record list member
/// list, and unknown keys.
const EDGE_CASES: &str = r#"[
 {"subject": "Ærø \u00e9t\u00e9 \ud83d\ude00", "prompt": "Q\n\"quoted\"\t?", "target_new": "",
  "ground_truth": null, "rephrase": null, "rephrase_prompt": "R", "extra": [1, 2.5e-3, true, null, {"a": []}],
  "portability": null, "locality": {"Forgetfulness": [{"prompt": "", "ground_truth": ["  "]}]}}
]"#;
