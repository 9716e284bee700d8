from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")
validate(config["train"], "workflow/schemas/train.schema.yaml")
validate(config["lm"], "workflow/schemas/lm.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/probes.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/lm_common.smk"
include: "workflow/rules/lm.smk"


rule all:
    default_target: True
    input:
        all_targets(),


# `snakemake images` or `snakemake lm`: one branch alone (the lm branch even when disabled).
rule images:
    input:
        image_targets(),


rule lm:
    input:
        lm_targets(),
