"""The memorization study (GPT-2 paper, Appendix 8.2): 8-gram overlap of samples with a reference
corpus (study), with a fine-tuned model that memorised reference texts as its positive control
(control)."""
